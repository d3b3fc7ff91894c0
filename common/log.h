/* Errors and logging. Messages go to stderr and, once avm_log_open() was called,
 * to a log file too. Fatal errors print one line "avmask: <reason>" and exit 1.
 * Recoverable errors: a function calls avm_fail("...") (which returns -1) and the
 * caller reads the reason with avm_error() to report or skip. */
#ifndef AVMASK_LOG_H
#define AVMASK_LOG_H
#include <stdio.h>

#define AVM_PRINTF(a, b) __attribute__((format(printf, a, b)))

int  avm_log_open(const char *path);   /* append to this log file; -1 + avm_fail on error */
void avm_log_close(void);
FILE *avm_log_file(void);              /* the open log, or NULL */
void avm_info(const char *fmt, ...) AVM_PRINTF(1, 2);   /* stderr + log */
void avm_logonly(const char *fmt, ...) AVM_PRINTF(1, 2);/* log file only */
void avm_warn(const char *fmt, ...) AVM_PRINTF(1, 2);   /* "avmask: warning: ..." */
_Noreturn void avm_die(const char *fmt, ...) AVM_PRINTF(1, 2);

int avm_fail(const char *fmt, ...) AVM_PRINTF(1, 2);    /* remember reason, return -1 */
const char *avm_error(void);                            /* last reason (thread-local) */
#endif
