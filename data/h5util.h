/* Small HDF5 helpers shared by shards, cmvn.h5, label shards, codebooks and parameter files
 * (params_h5.h). Every function checks every HDF5 return code and reports one line through
 * avm_fail("<file>: <what>"). */
#ifndef AVMASK_H5UTIL_H
#define AVMASK_H5UTIL_H
#include <hdf5.h>
#include <stdint.h>

void  h5_quiet(void);        /* turns off HDF5's own error stack printing (once) */
hid_t h5_create(const char *path);              /* truncating; <0 + avm_fail */
hid_t h5_open_ro(const char *path);             /* <0 + avm_fail */
int   h5_close(hid_t f, const char *path);      /* 0 or -1 + avm_fail */

/* Sealed files (h5seal.c; checkpoints, exports, CTC heads, codebooks, cmvn.h5): a 512-byte
 * HDF5 user block in front of the HDF5 data holds one line
 *   "avmask-sealed-1 crc32=XXXXXXXX bytes=N\n" (NUL-padded)
 * with the CRC-32 (common/crc32.h) and size of the N bytes after the block. h5py and every
 * HDF5 reader skip the block. h5_open_ro (and checkpoint loading) verify the seal before
 * libhdf5 parses the file; a file starting with the HDF5 signature (no seal: written before
 * seals, or a feature or label shard) opens as before. */
#define H5_SEAL_BLOCK 512
#define H5_SEAL_MAGIC "avmask-sealed-1 "
hid_t h5_create_sealed(const char *path);       /* h5_create with the user block */
int   h5_seal(const char *path);                /* after closing: writes the seal; 0 or -1 */
int   h5_check_seal(const char *path);          /* 0: intact or unsealed; -1 + avm_fail */
/* The atomic sealed write of those files: h5_begin_sealed creates <path>.tmp with the user
 * block; h5_commit_sealed(f, path, rc) closes it and, if rc is 0 and that succeeds, seals it
 * and renames it to path (fsync, rename, fsync of the directory), else removes it. A crash
 * leaves the previous file. Both <0 / -1 + avm_fail (a failure reported before, rc != 0,
 * keeps its message). */
hid_t h5_begin_sealed(const char *path);
int   h5_commit_sealed(hid_t f, const char *path, int rc);

int h5_write_str_attr(hid_t obj, const char *name, const char *val, const char *path);
char *h5_read_str_attr(hid_t obj, const char *name, const char *path);   /* NULL + avm_fail */

/* Whole 1-d (rank 1, or scalar when n < 0) datasets of doubles / int64. */
int h5_write_f64(hid_t loc, const char *name, const double *v, int64_t n, const char *path);
int h5_write_i64(hid_t loc, const char *name, const int64_t *v, int64_t n, const char *path);
/* Reads a 1-d dataset, or a scalar when want < 0; want >= 0 must match the length. */
int h5_read_f64(hid_t loc, const char *name, double *v, int64_t want, const char *path);
/* Allocates *v with the dataset's length *n. */
int h5_read_i64_all(hid_t loc, const char *name, int64_t **v, int64_t *n, const char *path);

/* 1-d datasets of variable-length UTF-8 strings. */
int h5_write_strs(hid_t loc, const char *name, char *const *s, int64_t n, const char *path);
int h5_read_strs(hid_t loc, const char *name, char ***s, int64_t *n, const char *path);

/* Scalar number attributes on a file or object: written as file type ftype (H5T_STD_I64LE,
 * H5T_STD_U32LE, H5T_IEEE_F64LE, ...) from memory type mtype; read into mtype, refused
 * unless the stored type is of mtype's class (integer or float) and holds one value. */
int h5_write_num_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v, const char *path);
int h5_read_num_attr(hid_t obj, const char *name, hid_t mtype, void *v, const char *path);
int h5_attr_exists(hid_t obj, const char *name, const char *path);   /* 1, 0, or -1 + avm_fail */
/* int64 attributes (H5T_STD_I64LE). */
int h5_write_i64_attr(hid_t obj, const char *name, int64_t v, const char *path);
int h5_read_i64_attr(hid_t obj, const char *name, int64_t *v, const char *path);
/* 1-d int32 datasets: whole write, and rows [start, start + n) read. */
int h5_write_i32(hid_t loc, const char *name, const int32_t *v, int64_t n, const char *path);
int h5_read_i32_rows(hid_t loc, const char *name, int64_t start, int64_t n, int32_t *v, const char *path);
/* 2-d float32 datasets [rows, cols]; the reader allocates *v and checks the rank. */
int h5_write_f32_2d(hid_t loc, const char *name, const float *v, int64_t rows, int64_t cols, const char *path);
int h5_read_f32_2d(hid_t loc, const char *name, float **v, int64_t *rows, int64_t *cols, const char *path);

int h5_exists(hid_t loc, const char *name);   /* 1 if the link exists */
/* Dimensions of a dataset (rank <= 4); returns rank or -1 + avm_fail. */
int h5_dims(hid_t loc, const char *name, hsize_t *dims, const char *path);
#endif
