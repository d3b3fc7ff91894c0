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
    va_start(ap, fmt); to_stderr("avmask: warning: ", fmt, ap); va_end(ap);
    va_start(ap, fmt); to_log("warning: ", fmt, ap); va_end(ap);
}

void avm_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt); to_stderr("avmask: ", fmt, ap); va_end(ap);
    va_start(ap, fmt); to_log("error: ", fmt, ap); va_end(ap);
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
    memcpy(err_buf, tmp, sizeof err_buf);
    return -1;
}

const char *avm_error(void) { return err_buf[0] ? err_buf : "unknown error"; }
