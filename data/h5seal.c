/* Sealed HDF5 files (h5util.h): a 512-byte user block in front of the HDF5 data holds the
 * CRC-32 and the size of everything after it, so that a corrupted file is refused before
 * libhdf5 parses it (libhdf5 1.10 reads out of bounds, uses freed memory or leaks on some
 * corrupted files: tests/fuzz, docs/robustness.md). */
#include "data/h5util.h"
#include "common/crc32.h"
#include "common/log.h"
#include "common/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char hdf5_sig[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};

hid_t h5_create_sealed(const char *path) {
    h5_quiet();
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t f = fcpl < 0 || H5Pset_userblock(fcpl, H5_SEAL_BLOCK) < 0 ? -1
              : H5Fcreate(path, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    if (fcpl >= 0) H5Pclose(fcpl);
    if (f < 0) avm_fail("%s: cannot create HDF5 file", path);
    return f;
}

/* CRC-32 of the bytes of fp from offset `from` to the end; -1 on a read error. */
static int crc_from(FILE *fp, long from, uint32_t *crc, uint64_t *n) {
    static _Thread_local unsigned char buf[1 << 16];
    *crc = 0;
    *n = 0;
    if (fseek(fp, from, SEEK_SET)) return -1;
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, fp)) > 0) {
        *crc = crc32_update(*crc, buf, r);
        *n += r;
    }
    return ferror(fp) ? -1 : 0;
}

int h5_seal(const char *path) {
    FILE *fp = fopen(path, "r+b");
    if (!fp) return avm_fail("%s: cannot open to seal", path);
    uint32_t crc;
    uint64_t n;
    char block[H5_SEAL_BLOCK] = {0};
    int rc = crc_from(fp, H5_SEAL_BLOCK, &crc, &n);
    if (!rc) {
        snprintf(block, sizeof block, H5_SEAL_MAGIC "crc32=%08x bytes=%llu\n", crc, (unsigned long long)n);
        rc = fseek(fp, 0, SEEK_SET) || fwrite(block, 1, sizeof block, fp) != sizeof block ? -1 : 0;
    }
    if (fclose(fp)) rc = -1;
    return rc ? avm_fail("%s: cannot write the seal (disk full?)", path) : 0;
}

int h5_check_seal(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return avm_fail("%s: cannot open", path);
    char block[H5_SEAL_BLOCK + 1] = {0};
    size_t got = fread(block, 1, H5_SEAL_BLOCK, fp);
    int rc = 0;
    unsigned want_crc;
    unsigned long long want_n;
    int used = 0;
    if (got >= sizeof hdf5_sig && !memcmp(block, hdf5_sig, sizeof hdf5_sig)) {
        rc = 0;   /* unsealed: written before seals, or a feature/label shard */
    } else if (got < H5_SEAL_BLOCK || strncmp(block, H5_SEAL_MAGIC, strlen(H5_SEAL_MAGIC)) ||
               sscanf(block + strlen(H5_SEAL_MAGIC), "crc32=%8x bytes=%llu\n%n", &want_crc, &want_n, &used) != 2 ||
               !used) {
        rc = avm_fail("%s: neither an HDF5 signature nor an avmask seal at its start: corrupted or not HDF5, refused", path);
    } else {
        uint32_t crc;
        uint64_t n;
        if (crc_from(fp, H5_SEAL_BLOCK, &crc, &n))
            rc = avm_fail("%s: read error", path);
        else if (n != want_n)
            rc = avm_fail("%s: %llu bytes after the seal, sealed with %llu: truncated or extended file refused", path,
                          (unsigned long long)n, want_n);
        else if (crc != want_crc)
            rc = avm_fail("%s: file checksum mismatch (sealed %08x, file %08x): corrupted file refused", path,
                          want_crc, crc);
    }
    fclose(fp);
    return rc;
}

hid_t h5_begin_sealed(const char *path) {
    char *tmp = xasprintf("%s.tmp", path);
    hid_t f = h5_create_sealed(tmp);
    free(tmp);
    return f;
}

int h5_commit_sealed(hid_t f, const char *path, int rc) {
    char *tmp = xasprintf("%s.tmp", path);
    if (f >= 0 && H5Fclose(f) < 0 && !rc) rc = avm_fail("%s: HDF5 close failed (disk full?)", tmp);
    if (f < 0) rc = -1;
    if (!rc) rc = h5_seal(tmp);
    if (!rc) rc = atomic_rename(tmp, path);
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}
