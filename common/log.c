#include "common/log.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *log_fp;
static _Thread_local char err_buf[1024];

int avm_log_open(const char *path) {
    avm_log_close();
    log_fp = fopen(path, "a");
    if (!log_fp) return avm_fail("%s: cannot open log for writing", path);
    setvbuf(log_fp, NULL, _IOLBF, 0);
    return 0;
}

void avm_log_close(void) {
    if (log_fp) fclose(log_fp);
    log_fp = NULL;
}

FILE *avm_log_file(void) { return log_fp; }

static void to_log(const char *prefix, const char *fmt, va_list ap) {
    if (!log_fp) return;
    char ts[32];
    time_t t = time(NULL);
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", localtime(&t));
    fprintf(log_fp, "%s %s", ts, prefix);
    vfprintf(log_fp, fmt, ap);
    fputc('\n', log_fp);
}

static void to_stderr(const char *prefix, const char *fmt, va_list ap);
static void to_log(const char *prefix, const char *fmt, va_list ap);
static void fmt_stderr(const char *prefix, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); to_stderr(prefix, fmt, ap); va_end(ap);
}
static void fmt_log(const char *prefix, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); to_log(prefix, fmt, ap); va_end(ap);
}

/* One message line to stderr in a single write, so that lines of processes or threads
 * writing at once (extract --nj workers) do not interleave. */
static void to_stderr(const char *prefix, const char *fmt, va_list ap) {
    char line[4096];
    int n = snprintf(line, sizeof line, "%s", prefix);
    n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;   /* cut, but keep the newline */
    line[n++] = '\n';
    fflush(stderr);
    for (const char *p = line; n > 0;) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w <= 0) break;
        p += w;
        n -= (int)w;
    }
}

/* Copies src with control bytes (< 0x20, 0x7f) written as \xNN: errors and warnings echo
 * names read from files, which must not move the cursor, clear the terminal or split
 * the one-line message. Bytes >= 0x80 (UTF-8) stay. */
static void escape_ctrl(char *dst, size_t cap, const char *src) {
    size_t n = 0;
    for (; *src && n + 1 < cap; src++) {
        unsigned char c = (unsigned char)*src;
        if (c >= 0x20 && c != 0x7f) { dst[n++] = (char)c; continue; }
        if (n + 5 > cap) break;
        snprintf(dst + n, 5, "\\x%02x", c);
        n += 4;
    }
    dst[n] = 0;
}

/* One message, escaped, to stderr and the log. */
static void emit_escaped(const char *prefix, const char *log_prefix, const char *fmt, va_list ap) {
    char raw[4096], msg[4096];
    vsnprintf(raw, sizeof raw, fmt, ap);
    escape_ctrl(msg, sizeof msg, raw);
    fmt_stderr(prefix, "%s", msg);
    fmt_log(log_prefix, "%s", msg);
}

void avm_info(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); to_stderr("", fmt, ap); va_end(ap);
    va_start(ap, fmt); to_log("", fmt, ap); va_end(ap);
}

void avm_logonly(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); to_log("", fmt, ap); va_end(ap);
}

void avm_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); emit_escaped("avmask: warning: ", "warning: ", fmt, ap); va_end(ap);
}

void avm_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); emit_escaped("avmask: ", "error: ", fmt, ap); va_end(ap);
    avm_log_close();
    exit(1);
}

int avm_fail(const char *fmt, ...) {
    /* format aside first: callers often wrap the previous reason, avm_fail("%s: %s", f, avm_error()) */
    char tmp[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    escape_ctrl(err_buf, sizeof err_buf, tmp);
    return -1;
}

const char *avm_error(void) { return err_buf[0] ? err_buf : "unknown error"; }
