/* Small helpers: allocation that dies on OOM, paths, files, line reading, time. */
#ifndef AVMASK_UTIL_H
#define AVMASK_UTIL_H
#include <stddef.h>
#include <stdio.h>
#include "common/log.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* A workspace buffer of at least need bytes: p as it is when *cap suffices, else
 * reallocated (its contents are not kept meaningful) and *cap = need. */
void *xgrow(void *p, size_t *cap, size_t need);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) AVM_PRINTF(1, 2);

char *path_join(const char *dir, const char *rel);   /* rel itself if absolute; caller frees */
int   mkdir_p(const char *path);                     /* 0, or -1 + avm_fail */
int   file_exists(const char *path);                 /* regular file */
int   dir_exists(const char *path);
char *read_file(const char *path, size_t *len);      /* NUL-terminated; NULL + avm_fail */
/* Makes a finished temporary file final: fsync it, rename over dst, fsync the dir. */
int   atomic_rename(const char *tmp, const char *dst);
int   write_file_atomic(const char *path, const void *data, size_t len);
double now_sec(void);                                /* monotonic seconds */
/* This process's peak resident set in kB (VmHWM), -1 if unknown. Not getrusage's
 * ru_maxrss: Linux carries that over fork + exec, so a process started from a large parent
 * (a 600 MB Python test) would report the parent's peak. */
long  peak_rss_kb(void);

/* Line-by-line reading with line numbers for error messages ("file:line: ..."). */
typedef struct {
    FILE *f;
    char *line;
    size_t cap;
    int lineno;
    char *path;
    int bad;                                        /* reading stopped on an error */
} avm_lines;
int   lines_open(avm_lines *r, const char *path);   /* 0, or -1 + avm_fail */
/* Newline stripped; NULL at the end, or on a read error or a NUL byte in the line
 * (avm_fail("<file>:<line>: NUL byte ..."): C strings would silently cut the line). */
char *lines_next(avm_lines *r);
/* -1 if lines_next stopped on an error (its reason is in avm_error()), else 0. */
int   lines_close(avm_lines *r);

/* 1 if s is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF). */
int utf8_valid(const char *s);

/* Splits s in place on blanks; returns the number of fields (at most max). */
int split_ws(char *s, char **fields, int max);
#endif
