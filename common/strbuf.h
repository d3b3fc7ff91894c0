/* A growing NUL-terminated string. */
#ifndef AVMASK_STRBUF_H
#define AVMASK_STRBUF_H
#include <stddef.h>
#include "common/log.h"

typedef struct { char *s; size_t len, cap; } avm_strbuf;

void sb_add(avm_strbuf *b, const char *s);
void sb_addn(avm_strbuf *b, const char *s, size_t n);
void sb_printf(avm_strbuf *b, const char *fmt, ...) AVM_PRINTF(2, 3);
void sb_free(avm_strbuf *b);
#endif
