/* Shared helpers of the fuzz targets (tests/fuzz/README.md). Each target defines
 * LLVMFuzzerTestOneInput and is linked either with libFuzzer (make fuzz, clang) or with
 * replay.c (make test, gcc), which feeds it every file of its corpus and regressions.
 * A target must never exit or abort on bad input: the parsers return -1 + avm_fail. An
 * invariant that fails calls fuzz_bug(), which aborts (a crash to libFuzzer and the replay). */
#ifndef AVMASK_FUZZ_H
#define AVMASK_FUZZ_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private temporary directory for this process (created once, removed at exit). */
const char *fuzz_dir(void);
/* Writes data to fuzz_dir()/name (replacing it); returns the path (static buffer, valid
 * until the next call). Dies only if the temporary directory cannot be written. */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);
/* A NUL-terminated copy of data (caller frees). */
char *fuzz_cstr(const uint8_t *data, size_t size);
/* Splits data at lines "%%\n" into at most max parts; returns the count. */
int fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, int max);
/* Applies an edit list to a copy of base: the input is a sequence of 5-byte records
 * (u32 little-endian offset modulo base_len, one byte XORed in); a final record of fewer
 * bytes truncates the copy to (its first byte * base_len / 256). Returns the copy's length. */
size_t fuzz_edit(const uint8_t *base, size_t base_len, const uint8_t *edits, size_t n, uint8_t *out);
/* The file a binary-format target loads: data itself if it starts with sig (a whole file
 * given as input; sig NULL: never), else fuzz_edit of base by data. Returns a buffer valid until the next
 * call and its length in *n. */
const uint8_t *fuzz_raw_or_edit(const uint8_t *base, size_t base_len, const uint8_t *data, size_t size,
                                const char *sig, size_t *n);
/* Reads a whole file (for building the base of an edit target). NULL on error. */
uint8_t *fuzz_slurp(const char *path, size_t *len);
_Noreturn void fuzz_bug(const char *what);
#endif
