/* Progress for long work: on a terminal, one line on stderr rewritten in place at
 * most 5 times a second; otherwise (a log, a batch job) a plain line in the log file
 * (avm_log_open) and on stderr every `log_every` seconds. The caller formats the
 * figures it has (files/s, loss, ...); ETA is computed from done/total. */
#ifndef AVMASK_PROGRESS_H
#define AVMASK_PROGRESS_H
#include "common/log.h"

typedef struct {
    const char *what;
    double total;         /* 0 if unknown: no ETA */
    double t0, last_draw;
    double log_every;     /* seconds between lines when not a terminal (default 30) */
    int tty, drawn;
} avm_progress;

void progress_start(avm_progress *p, const char *what, double total);
/* done: work finished so far (same unit as total); fmt: extra figures, may be NULL. */
void progress_update(avm_progress *p, double done, const char *fmt, ...) AVM_PRINTF(3, 4);
/* Clears the terminal line (if any) and logs a final line with the elapsed time. */
void progress_end(avm_progress *p, const char *fmt, ...) AVM_PRINTF(2, 3);
#endif
