#include "common/progress.h"
#include "common/util.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void progress_start(avm_progress *p, const char *what, double total) {
    memset(p, 0, sizeof *p);
    p->what = what;
    p->total = total;
    p->t0 = p->last_draw = now_sec();
    p->log_every = 30;
    p->tty = isatty(2);
}

static void fmt_eta(char *buf, size_t n, double sec) {
    if (sec < 0 || sec > 1e7) { snprintf(buf, n, "?"); return; }
    int s = (int)(sec + 0.5);
    if (s >= 3600) snprintf(buf, n, "%dh%02dm", s / 3600, s / 60 % 60);
    else snprintf(buf, n, "%dm%02ds", s / 60, s % 60);
}

void progress_update(avm_progress *p, double done, const char *fmt, ...) {
    double t = now_sec();
    if (t - p->last_draw < (p->tty ? 0.2 : p->log_every)) return;
    p->last_draw = t;
    char extra[256] = "", eta[32] = "?", line[400];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(extra, sizeof extra, fmt, ap);
        va_end(ap);
    }
    double el = t - p->t0;
    if (p->total > 0 && done > 0) fmt_eta(eta, sizeof eta, el * (p->total - done) / done);
    if (p->total > 0)
        snprintf(line, sizeof line, "%s: %.0f/%.0f (%.1f%%) %s ETA %s", p->what, done, p->total,
                 100.0 * done / p->total, extra, eta);
    else
        snprintf(line, sizeof line, "%s: %.0f %s", p->what, done, extra);
    if (p->tty) {
        fprintf(stderr, "\r%-100.200s", line);
        fflush(stderr);
        p->drawn = 1;
    } else {
        avm_info("%s", line);
    }
}

void progress_end(avm_progress *p, const char *fmt, ...) {
    if (p->drawn) fprintf(stderr, "\r%100s\r", "");
    char extra[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(extra, sizeof extra, fmt, ap);
        va_end(ap);
    }
    avm_info("%s: done in %.1fs %s", p->what, now_sec() - p->t0, extra);
}
