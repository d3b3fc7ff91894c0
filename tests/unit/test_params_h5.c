/* data/params_h5.c, the parameter-file module behind checkpoints, exports and CTC heads:
 * round trip (names, shapes, values bitwise, attributes), the checksums against a direct
 * CRC-32, groups of a checkpoint's kind, and refusal with one line naming the file and the
 * dataset: another shape, a missing or extra tensor, a CRC mismatch, another format, a
 * broken seal; a refused file leaves the destination untouched; files of before the seal
 * and before avmask_crc32 still load; a failed write leaves no file behind. */
#include "check.h"
#include "common/crc32.h"
#include "common/util.h"
#include "data/h5util.h"
#include "data/params_h5.h"
#include <stdlib.h>
#include <string.h>

#define FMT "avmask-test-params-1"

static float wdata[12], bdata[3], pdata[8];

/* Three tensors (not in name order, to tell the two checksums apart) over buffers. */
static int tensors(avm_tensor *t, float *w, float *b, float *p, int rows) {
    t[0] = (avm_tensor){"enc.weight", 2, {rows, 4}, (size_t)rows * 4, w};
    t[1] = (avm_tensor){"enc.bias", 1, {3}, 3, b};
    t[2] = (avm_tensor){"pos", 3, {2, 2, 2}, 8, p};
    return 3;
}

static void fill(float seed) {
    for (int i = 0; i < 12; i++) wdata[i] = seed + (float)i * 0.25f;
    for (int i = 0; i < 3; i++) bdata[i] = -seed - (float)i;
    for (int i = 0; i < 8; i++) pdata[i] = seed * (float)i;
}

static int error_has(const char *a, const char *b) {
    const char *e = avm_error();
    return strstr(e, a) && (!b || strstr(e, b));
}

/* Flips one byte inside a dataset's stored data, then seals the file again, so that what
 * refuses it is the checksum inside the file, not the seal. */
static void corrupt(const char *path, const char *dset) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    haddr_t off = H5Dget_offset(d);
    CHECK(off != HADDR_UNDEF);
    H5Dclose(d);
    H5Fclose(f);
    FILE *fp = fopen(path, "r+b");
    CHECK(fp != NULL);
    if (!fp) return;
    fseek(fp, (long)off + 1, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, (long)off + 1, SEEK_SET);
    fputc(c ^ 0x04, fp);
    fclose(fp);
    CHECK(h5_seal(path) == 0);
}

static void copy(const char *src, const char *dst) {
    size_t n;
    char *s = read_file(src, &n);
    CHECK(s && write_file_atomic(dst, s, n) == 0);
    free(s);
}

int main(void) {
    avm_tensor t[3], r[3];
    float w[12], b[3], p[8];
    fill(1.5f);
    int n = tensors(t, wdata, bdata, pdata, 3);

    /* checksums: in the given order, and in name order (enc.bias, enc.weight, pos) */
    uint32_t c = crc32_update(crc32_update(crc32_update(0, wdata, 48), bdata, 12), pdata, 32);
    CHECK(params_h5_crc(0, t, n) == c);
    CHECK(params_h5_crc(params_h5_crc(0, t, 1), t + 1, 2) == c);   /* continued */
    c = crc32_update(crc32_update(crc32_update(0, bdata, 12), wdata, 48), pdata, 32);
    CHECK(params_h5_crc_by_name(t, n) == c && params_h5_crc(0, t, n) != c);
    CHECK(!strcmp(t[0].name, "enc.weight"));   /* the by-name checksum sorts a copy */

    /* round trip of a simple parameter file, sealed, attributes readable */
    CHECK(params_h5_write("p.h5", t, n, FMT, "{\"d\":4}") == 0);
    CHECK(file_exists("p.h5") && !file_exists("p.h5.tmp"));
    char head[24] = {0};
    FILE *fp = fopen("p.h5", "rb");
    CHECK(fp && fread(head, 1, sizeof head - 1, fp) == sizeof head - 1);
    if (fp) fclose(fp);
    CHECK(!strncmp(head, H5_SEAL_MAGIC, strlen(H5_SEAL_MAGIC)));
    tensors(r, w, b, p, 3);
    CHECK(params_h5_read("p.h5", r, n, FMT) == 0);
    CHECK(!memcmp(w, wdata, sizeof w) && !memcmp(b, bdata, sizeof b) && !memcmp(p, pdata, sizeof p));
    hid_t f = h5_open_ro("p.h5");
    char *s = f < 0 ? NULL : h5_read_str_attr(f, "config", "p.h5");
    char *crc = f < 0 ? NULL : h5_read_str_attr(f, PARAMS_CRC_KEY, "p.h5");
    char want[9];
    snprintf(want, sizeof want, "%08x", params_h5_crc_by_name(t, n));
    CHECK(s && !strcmp(s, "{\"d\":4}") && crc && !strcmp(crc, want));
    free(s);
    free(crc);
    if (f >= 0) H5Fclose(f);

    /* another shape: refused naming file, dataset and both shapes; destination untouched */
    float w4[16] = {0};
    tensors(r, w4, b, p, 4);
    memset(b, 0, sizeof b);
    CHECK(params_h5_read("p.h5", r, n, FMT) == -1);
    CHECK_MSG(error_has("p.h5: /params/enc.weight has shape [3,4], another shape than the configuration says ([4,4])",
                        "different architecture"), "%s", avm_error());
    CHECK(b[0] == 0 && b[2] == 0);
    /* a missing tensor, an extra one */
    tensors(r, w, b, p, 3);
    r[2].name = "pos_other";
    CHECK(params_h5_read("p.h5", r, n, FMT) == -1 && error_has("p.h5: /params/pos_other missing", NULL));
    tensors(r, w, b, p, 3);
    CHECK(params_h5_read("p.h5", r, 2, FMT) == -1 && error_has("p.h5: /params holds 3 tensors", NULL));
    /* another format, a missing file */
    CHECK(params_h5_read("p.h5", r, n, "avmask-other-1") == -1 &&
          error_has("p.h5: not an avmask file (format '" FMT "', expected avmask-other-1)", NULL));
    CHECK(params_h5_read("nothere.h5", r, n, FMT) == -1 && error_has("nothere.h5: no such file", NULL));

    /* a flipped data byte under an intact seal: the CRC refuses it, destination untouched */
    copy("p.h5", "bad.h5");
    corrupt("bad.h5", "/params/pos");
    memset(p, 0, sizeof p);
    CHECK(params_h5_read("bad.h5", r, n, FMT) == -1);
    CHECK_MSG(error_has("bad.h5: checksum mismatch (stored ", "corrupted file refused"), "%s", avm_error());
    CHECK(p[7] == 0);
    /* the same flip without resealing: the seal refuses it before libhdf5 reads the file */
    copy("p.h5", "flip.h5");
    fp = fopen("flip.h5", "r+b");
    fseek(fp, -5, SEEK_END);
    int ch = fgetc(fp);
    fseek(fp, -5, SEEK_END);
    fputc(ch ^ 1, fp);
    fclose(fp);
    CHECK(params_h5_read("flip.h5", r, n, FMT) == -1 && error_has("flip.h5: file checksum mismatch", NULL));

    /* a checkpoint-like file: several groups (parents created), numeric attributes; a file
     * without seal (as written before seals, or by h5py) and without avmask_crc32 loads */
    float m[12], v[3], q[8];
    avm_tensor o[3];
    tensors(o, m, v, q, 3);
    for (int i = 0; i < 12; i++) m[i] = (float)i;
    f = h5_begin_sealed("ck.h5");
    int rc = f < 0 ? -1 : params_h5_write_group(f, "ck.h5", "/params", t, n);
    if (!rc) rc = params_h5_write_group(f, "ck.h5", "/optim/m", o, n);
    uint32_t sum = params_h5_crc(0, t, n);
    if (!rc) rc = h5_write_str_attr(f, "format", FMT, "ck.h5");
    if (!rc) rc = h5_write_num_attr(f, "checksum_params", H5T_STD_U32LE, H5T_NATIVE_UINT32, &sum, "ck.h5");
    CHECK(h5_commit_sealed(f, "ck.h5", rc) == 0);
    f = params_h5_open("ck.h5", FMT, "checkpoint");
    uint32_t got = 0;
    double dbl;
    CHECK(f >= 0 && h5_read_num_attr(f, "checksum_params", H5T_NATIVE_UINT32, &got, "ck.h5") == 0 && got == sum);
    CHECK(h5_read_num_attr(f, "checksum_params", H5T_NATIVE_DOUBLE, &dbl, "ck.h5") == -1 &&
          error_has("ck.h5: attribute checksum_params is not one number", NULL));
    memset(m, 0, sizeof m);
    CHECK(params_h5_read_group(f, "ck.h5", "/optim/m", o, n) == 0 && m[11] == 11);
    CHECK(params_h5_read_group(f, "ck.h5", "/optim/v", o, n) == -1 && error_has("ck.h5: group /optim/v missing", NULL));
    CHECK(params_h5_close(f, "ck.h5", 0) == 0);
    CHECK(params_h5_open("gone.h5", FMT, "checkpoint") < 0 && error_has("gone.h5: no such checkpoint", NULL));

    f = h5_create("old.h5");   /* no user block, no seal, no checksum */
    rc = f < 0 ? -1 : params_h5_write_group(f, "old.h5", "/params", t, n);
    if (!rc) rc = h5_write_str_attr(f, "format", FMT, "old.h5");
    CHECK(rc == 0 && h5_close(f, "old.h5") == 0);
    memset(w, 0, sizeof w);
    CHECK(params_h5_read("old.h5", r, n, FMT) == 0 && !memcmp(w, wdata, sizeof w));

    /* a write that fails leaves neither the file nor its temporary behind */
    CHECK(params_h5_write("nodir/p.h5", t, n, FMT, "{}") == -1 && error_has("nodir/p.h5.tmp", NULL));
    f = h5_begin_sealed("fail.h5");
    CHECK(f >= 0 && h5_commit_sealed(f, "fail.h5", -1) == -1);
    CHECK(!file_exists("fail.h5") && !file_exists("fail.h5.tmp"));
    return check_done("test_params_h5");
}
