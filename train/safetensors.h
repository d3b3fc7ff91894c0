/* model.safetensors of an export: a strict reader, and the check that it holds what
 * audio_encoder.h5 holds (eval/README.md, "Export checksums").
 *   file: u64 little-endian header size n, n bytes of JSON header, the tensor data.
 *   header: {"__metadata__": {string: string, ...}, name: {"dtype": "F32", "shape": [..],
 *   "data_offsets": [begin, end]}, ...}; offsets are relative to the data.
 * The checksum: CRC-32 (zlib's, common/crc32.h) of each tensor's float32 little-endian
 * bytes, one tensor after another in name order (strcmp, byte order), as 8 lowercase hex
 * digits: __metadata__.avmask_crc32 in model.safetensors, the string attribute
 * avmask_crc32 on "/" of audio_encoder.h5 (and ctc_head.h5); params_h5_crc_by_name in
 * data/params_h5.h computes it. */
#ifndef AVMASK_SAFETENSORS_H
#define AVMASK_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "data/params_h5.h"

typedef struct {
    char *name;
    int ndim;
    int64_t shape[AVM_TENSOR_MAX_DIMS];
    const unsigned char *data;   /* inside st_file.raw */
    size_t bytes;
} st_tensor;

typedef struct {
    unsigned char *raw;
    size_t size;
    st_tensor *t;                /* sorted by name */
    int n;
    char *crc;                   /* __metadata__.avmask_crc32, NULL if absent */
} st_file;

/* Reads and checks path as strictly as tests/ref/safetensors_strict.py: the header fits the
 * file, is a JSON object without duplicate names, every tensor is F32 with end - begin =
 * 4 * prod(shape), and the tensors sorted by offset tile the data with no gap or overlap;
 * the stored checksum (if any) is well-formed and matches the data. 0 or -1 + avm_fail
 * ("<path>: <reason>"). */
int  st_read(const char *path, st_file *f);
void st_free(st_file *f);
/* Does f hold exactly these tensors (any order), with their names, shapes and values?
 * 0 or -1 + avm_fail naming path and the first tensor that differs. */
int  st_check_params(const char *path, const st_file *f, const avm_tensor *t, int n);
#endif
