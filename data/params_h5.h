/* Parameter files: named float32 tensors (common/tensor.h) in a sealed HDF5 file, the one
 * reader and writer behind checkpoints (train/checkpoint.c), exported encoders and CTC heads
 * (train/export_io.c, train/ctc_head.c). Readable by h5py; layout:
 *   <group>/<name>   float32 little-endian dataset of the tensor's shape, one per tensor
 *                    (group "/params" for the model; checkpoints add "/optim/m", "/optim/v")
 *   attributes on "/": format (vlen UTF-8 string naming the kind of file), and whatever the
 *                    kind adds (a simple parameter file: avmask_version, config, avmask_crc32)
 * The file is written to <path>.tmp with a 512-byte user block, closed, sealed (h5util.h: a
 * CRC-32 of everything after the block), fsynced and renamed into place, so a crash leaves
 * the previous file; a reader checks the seal before libhdf5 parses anything (a file
 * without seal, written before seals existed, opens as before). Every HDF5 return code is
 * checked; errors are one line naming the file and the dataset or attribute. */
#ifndef AVMASK_PARAMS_H5_H
#define AVMASK_PARAMS_H5_H
#include "common/tensor.h"
#include <hdf5.h>
#include <stdint.h>

/* The attribute (and safetensors metadata key) holding the name-order checksum. */
#define PARAMS_CRC_KEY "avmask_crc32"

/* CRC-32 (common/crc32.h) of the tensors' float32 bytes, one tensor after another in the
 * order given, continuing crc (start with 0; checkpoints' checksum_params), or in name
 * order (strcmp, byte order; the avmask_crc32 of exports, CTC heads and model.safetensors). */
uint32_t params_h5_crc(uint32_t crc, const avm_tensor *t, int n);
uint32_t params_h5_crc_by_name(const avm_tensor *t, int n);
void     params_h5_sort(avm_tensor *t, int n);    /* by name, the order of the above */

/* Writing (between h5_begin_sealed and h5_commit_sealed of h5util.h): one group, created
 * with its parents, of datasets <group>/<name>. */
int   params_h5_write_group(hid_t f, const char *path, const char *group, const avm_tensor *t, int n);

/* Reading: the seal is checked, then the format attribute must equal format. `what` names
 * the kind of file in errors ("checkpoint": "x.h5: no such checkpoint"). */
hid_t params_h5_open(const char *path, const char *format, const char *what);
/* Closes a file opened for reading; returns rc, or -1 + avm_fail if rc was 0 and the close
 * failed (a failure already reported keeps its message). */
int   params_h5_close(hid_t f, const char *path, int rc);
/* Reads group into the tensors' data: the group holds exactly n datasets, one per tensor,
 * each of the tensor's shape ("another shape than the configuration says" otherwise: a file
 * of a different architecture). On failure some tensors may have been read: read into
 * scratch memory when the destination must stay untouched. */
int   params_h5_read_group(hid_t f, const char *path, const char *group, const avm_tensor *t, int n);

/* A simple parameter file: group /params, string attributes format, avmask_version, config
 * (config_json) and avmask_crc32 (params_h5_crc_by_name as 8 lowercase hex digits). */
int params_h5_write(const char *path, const avm_tensor *t, int n, const char *format, const char *config_json);
/* Reads it back into the tensors: format, names and shapes must match and the data their
 * avmask_crc32 (a file written before that checksum existed loads with a warning). A
 * refused file leaves the tensors' data untouched. */
int params_h5_read(const char *path, const avm_tensor *t, int n, const char *format);
#endif
