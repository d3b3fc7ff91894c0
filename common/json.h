/* JSON: a small writer (for config.json, metrics.jsonl, HDF5 attributes) and a small
 * reader that parses a document into a tree (for reading configs back). */
#ifndef AVMASK_JSON_H
#define AVMASK_JSON_H
#include "common/strbuf.h"
#include <limits.h>

/* Writer: builds compact JSON into a strbuf; commas are inserted automatically. */
typedef struct {
    avm_strbuf *b;
    int depth;
    int need_comma[32];
} avm_jw;

void jw_init(avm_jw *w, avm_strbuf *b);
void jw_obj_begin(avm_jw *w);             /* { */
void jw_obj_end(avm_jw *w);               /* } */
void jw_arr_begin(avm_jw *w);             /* [ */
void jw_arr_end(avm_jw *w);               /* ] */
void jw_key(avm_jw *w, const char *k);    /* "k": (inside an object, before a value) */
void jw_str(avm_jw *w, const char *s);
void jw_num(avm_jw *w, double v);         /* %.9g; NaN/Inf written as null */
void jw_int(avm_jw *w, long long v);
void jw_bool(avm_jw *w, int v);
void jw_null(avm_jw *w);

/* Reader. */
typedef enum { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ } json_type;
typedef struct json_value json_value;
struct json_value {
    json_type type;
    double num;             /* JSON_NUM, JSON_BOOL (0/1) */
    char *str;              /* JSON_STR */
    int n;                  /* JSON_ARR / JSON_OBJ: number of items */
    char **keys;            /* JSON_OBJ */
    json_value **items;     /* JSON_ARR / JSON_OBJ */
};

/* Parses text; NULL + avm_fail("offset N: reason") on malformed input. */
json_value *json_parse(const char *text);
/* Writes a parsed value (to nest one document inside another). */
void        jw_value(avm_jw *w, const json_value *v);
void        json_free(json_value *v);
json_value *json_get(const json_value *obj, const char *key);       /* NULL if absent */
/* Dotted path lookup: json_path(v, "model.d_model"). */
json_value *json_path(const json_value *v, const char *path);
double      json_num_or(const json_value *obj, const char *path, double def);
/* Every JSON -> integer conversion goes through this (a cast of a double out of range is
 * undefined): the number at path must be a whole number in [lo, hi]. Absent: *out = def,
 * or with def = JSON_REQUIRED an error. 0, or -1 + avm_fail("'<path>' ...: <reason>"). */
#define JSON_REQUIRED LLONG_MIN
int         json_int_range(const json_value *obj, const char *path, long long lo, long long hi,
                           long long def, long long *out);
const char *json_str_or(const json_value *obj, const char *path, const char *def);
/* The compact JSON text of v ("absent" for NULL); caller frees. */
char       *json_text(const json_value *v);
/* Do a and b (either may be NULL) differ? If so, 1 with the dotted key of the first
 * difference under name (e.g. "fbank.frame_shift_ms") in key; else 0. */
int         json_first_diff(const json_value *a, const json_value *b, const char *name, char *key, size_t cap);
#endif
