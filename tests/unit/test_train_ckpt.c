/* train/checkpoint.c: save/load round trip (bitwise), refusal of truncated and
 * corrupted files and of another architecture, CRC-32 check value, h5py readability. */
#include "check.h"
#include "common/rng.h"
#include "common/util.h"
#include "train/checkpoint.h"
#include "common/crc32.h"
#include "data/h5util.h"
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void build(avm_params *ps, int d) {
    memset(ps, 0, sizeof *ps);
    int s1[2] = {d, 5}, s2[1] = {d}, s3[3] = {2, 3, 4};
    params_add(ps, "enc.layers.0.attn.in_proj.weight", 2, s1, 1);
    params_add(ps, "enc.layers.0.attn.in_proj.bias", 1, s2, 0);
    params_add(ps, "pos", 3, s3, 0);
    params_alloc(ps);
}

static void fill(avm_params *ps, avm_adamw *o, uint64_t seed) {
    avm_rng r;
    rng_seed(&r, seed, 0);
    for (size_t i = 0; i < ps->total; i++) {
        ps->data[i] = (float)rng_normal(&r);
        o->m[i] = (float)rng_normal(&r);
        o->v[i] = (float)rng_uniform(&r);
    }
    o->step = 42;
}

static int same_views(const avm_params *ps, const float *a, const float *b) {
    for (int k = 0; k < ps->n; k++)
        if (memcmp(a + ps->p[k].offset, b + ps->p[k].offset, ps->p[k].numel * sizeof(float))) return 0;
    return 1;
}

static void copy_file(const char *src, const char *dst, size_t keep) {
    size_t len;
    char *s = read_file(src, &len);
    FILE *f = fopen(dst, "wb");
    CHECK(s && f);
    if (s && f) fwrite(s, 1, keep < len ? keep : len, f);
    if (f) fclose(f);
    free(s);
}

/* Flips one byte in the middle of a dataset's stored data (contiguous layout). reseal: write
 * the file's seal again, as if the byte had been wrong before it was sealed (so that the
 * checksums inside the file are what refuses it). */
static void corrupt_dataset(const char *path, const char *dset, int reseal) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    haddr_t off = H5Dget_offset(d);
    hsize_t size = H5Dget_storage_size(d);
    H5Dclose(d);
    H5Fclose(f);
    CHECK(off != HADDR_UNDEF && size > 8);
    FILE *fp = fopen(path, "r+b");
    fseek(fp, (long)(off + size / 2), SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, (long)(off + size / 2), SEEK_SET);
    fputc(c ^ 0x10, fp);
    fclose(fp);
    if (reseal) CHECK(h5_seal(path) == 0);
}

/* Rewrites (or with v NULL deletes) an attribute on "/" of a copy of ck.h5, as a flipped
 * bit or an editing user would. */
static void patch_attr(const char *path, size_t len, const char *name, hid_t type, const void *v) {
    copy_file("ck.h5", path, len);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (!v) { CHECK(H5Adelete(f, name) >= 0); H5Fclose(f); CHECK(h5_seal(path) == 0); return; }
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    CHECK(a >= 0 && H5Awrite(a, type, v) >= 0);
    H5Aclose(a);
    H5Fclose(f);
    CHECK(h5_seal(path) == 0);   /* the attribute checksums, not the seal, must refuse it */
}

/* Attributes are inside a checksum; impossible values are refused even then. */
static void test_attrs(avm_params *ps, avm_adamw *o, size_t len) {
    avm_adamw ob = *o;
    int64_t step = 1234 ^ 1;   /* one flipped bit */
    patch_attr("a1.h5", len, "step", H5T_NATIVE_INT64, &step);
    CHECK(ckpt_load("a1.h5", ps, &ob, NULL) == -1 && strstr(avm_error(), "a1.h5: checksum_meta mismatch"));
    avm_ckpt_meta got;
    CHECK(ckpt_read_meta("a1.h5", &got) == -1);
    printf("flipped step: %s\n", avm_error());
    int64_t ostep = 42 ^ 4;
    patch_attr("a2.h5", len, "optim_step", H5T_NATIVE_INT64, &ostep);
    CHECK(ckpt_load("a2.h5", ps, &ob, NULL) == -1 && strstr(avm_error(), "checksum_meta"));
    patch_attr("a3.h5", len, "epoch_pos", H5T_NATIVE_INT64, &(int64_t){16});
    CHECK(ckpt_load("a3.h5", ps, NULL, NULL) == -1 && strstr(avm_error(), "checksum_meta"));
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    const char *cfg = "{\"model\":{\"d\":7}}";
    patch_attr("a4.h5", len, "config", t, &cfg);
    CHECK(ckpt_load("a4.h5", ps, NULL, NULL) == -1 && strstr(avm_error(), "checksum_meta"));
    H5Tclose(t);
    double bv = 0.626;
    patch_attr("a5.h5", len, "best_valid", H5T_NATIVE_DOUBLE, &bv);
    CHECK(ckpt_load("a5.h5", ps, NULL, NULL) == -1 && strstr(avm_error(), "checksum_meta"));

    /* a checkpoint from before checksum_meta: loads (with a warning), ranges still checked */
    patch_attr("old.h5", len, "checksum_meta", 0, NULL);
    CHECK(ckpt_load("old.h5", ps, &ob, &got) == 0 && got.step == 1234 && ob.step == 42);
    ckpt_meta_free(&got);
    copy_file("old.h5", "old-neg.h5", len);
    hid_t f = H5Fopen("old-neg.h5", H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t a = H5Aopen(f, "step", H5P_DEFAULT);
    int64_t neg = -9223372036854775804LL;
    CHECK(H5Awrite(a, H5T_NATIVE_INT64, &neg) >= 0);
    H5Aclose(a);
    H5Fclose(f);
    CHECK(h5_seal("old-neg.h5") == 0);
    CHECK(ckpt_load("old-neg.h5", ps, &ob, NULL) == -1 && strstr(avm_error(), "step = -9223372036854775804 is out of range"));
    printf("negative step: %s\n", avm_error());

    /* best_valid_tie: written only when set, covered by checksum_meta, read back exactly;
     * a file without it (every pretraining checkpoint) reads 0 */
    CHECK(got.best_tie == 0);
    avm_ckpt_meta mt = {7, 0, 3, 99, 12.5, NULL, 1, 0.4375};
    CHECK(ckpt_save("tie.h5", ps, o, &mt) == 0);
    CHECK(ckpt_read_meta("tie.h5", &got) == 0 && got.best_valid == 12.5 && got.best_tie == 0.4375);
    ckpt_meta_free(&got);
    copy_file("tie.h5", "tie2.h5", (size_t)-1);
    hid_t ft = H5Fopen("tie2.h5", H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t at = H5Aopen(ft, "best_valid_tie", H5P_DEFAULT);
    double tie2 = 0.4376;
    CHECK(at >= 0 && H5Awrite(at, H5T_NATIVE_DOUBLE, &tie2) >= 0);
    H5Aclose(at);
    H5Fclose(ft);
    CHECK(h5_seal("tie2.h5") == 0);
    CHECK(ckpt_read_meta("tie2.h5", &got) == -1 && strstr(avm_error(), "checksum_meta"));

    /* impossible values written with a valid checksum are refused too */
    const struct { long step, epoch, pos; double best; } bad[] = {
        {-5, 0, 0, 1}, {0, -1, 0, 1}, {0, 0, -2, 1}, {0, 0, 0, NAN}};
    for (int k = 0; k < 4; k++) {
        avm_ckpt_meta m = {bad[k].step, bad[k].epoch, bad[k].pos, 1, bad[k].best, NULL, 0, 0};
        CHECK(ckpt_save("range.h5", ps, o, &m) == 0);
        CHECK_MSG(ckpt_load("range.h5", ps, &ob, NULL) == -1 && strstr(avm_error(), "corrupted checkpoint refused"),
                  "case %d: %s", k, avm_error());
    }
}

int main(void) {
    CHECK(crc32_update(0, "123456789", 9) == 0xCBF43926u);
    CHECK(crc32_update(crc32_update(0, "1234", 4), "56789", 5) == 0xCBF43926u);

    avm_params ps, back;
    avm_adamw o, ob;
    build(&ps, 6);
    build(&back, 6);
    adamw_init(&o, &ps, 0.9, 0.98, 1e-8, 0.01);
    adamw_init(&ob, &back, 0.9, 0.98, 1e-8, 0.01);
    fill(&ps, &o, 1);
    avm_ckpt_meta meta = {1234, 3, 17, 99, 0.625, xstrdup("{\"model\":{\"d\":6}}"), 12.5, 0}, got;
    CHECK(ckpt_save("ck.h5", &ps, &o, &meta) == 0);
    CHECK(!file_exists("ck.h5.tmp"));
    CHECK(ckpt_read_meta("ck.h5", &got) == 0);
    CHECK(got.step == 1234 && got.epoch == 3 && got.epoch_pos == 17 && got.seed == 99 && got.best_valid == 0.625 && got.seconds == 12.5);
    CHECK(got.config_json && !strcmp(got.config_json, meta.config_json));
    ckpt_meta_free(&got);
    CHECK(ckpt_load("ck.h5", &back, &ob, &got) == 0);
    CHECK(same_views(&ps, ps.data, back.data) && same_views(&ps, o.m, ob.m) && same_views(&ps, o.v, ob.v));
    CHECK(ob.step == 42 && got.step == 1234);
    ckpt_meta_free(&got);

    /* truncated at several points: refused, and the model keeps its values */
    size_t len;
    free(read_file("ck.h5", &len));
    fill(&back, &ob, 5);
    float keep0 = back.data[0];
    size_t cuts[3] = {len / 3, len / 2, len - 100};
    for (int i = 0; i < 3; i++) {
        copy_file("ck.h5", "trunc.h5", cuts[i]);
        int rc = ckpt_load("trunc.h5", &back, &ob, NULL);
        CHECK_MSG(rc == -1, "truncated at %zu of %zu loaded", cuts[i], len);
        printf("truncated at %zu: %s\n", cuts[i], avm_error());
    }
    CHECK(back.data[0] == keep0);

    /* the seal: a flipped byte anywhere, or an edit by another program, is refused before
     * libhdf5 reads the file (files without seal: test_export_crc) */
    char head[32] = {0};
    FILE *hf = fopen("ck.h5", "rb");
    CHECK(hf && fread(head, 1, 31, hf) == 31);
    if (hf) fclose(hf);
    CHECK(!strncmp(head, H5_SEAL_MAGIC "crc32=", strlen(H5_SEAL_MAGIC) + 6));
    copy_file("ck.h5", "flip.h5", len);
    corrupt_dataset("flip.h5", "/params/pos", 0);
    CHECK(ckpt_load("flip.h5", &back, NULL, NULL) == -1 && strstr(avm_error(), "flip.h5: file checksum mismatch"));
    printf("sealed, flipped: %s\n", avm_error());
    copy_file("ck.h5", "sealbad.h5", len);
    hf = fopen("sealbad.h5", "r+b");
    fputc('A', hf);
    fclose(hf);
    CHECK(ckpt_load("sealbad.h5", &back, NULL, NULL) == -1 && strstr(avm_error(), "neither an HDF5 signature nor"));

    /* a flipped byte inside parameter data, and inside a moment */
    copy_file("ck.h5", "bad.h5", len);
    corrupt_dataset("bad.h5", "/params/enc.layers.0.attn.in_proj.weight", 1);
    CHECK(ckpt_load("bad.h5", &back, NULL, NULL) == -1 && strstr(avm_error(), "checksum_params mismatch"));
    printf("corrupted: %s\n", avm_error());
    copy_file("ck.h5", "bad2.h5", len);
    corrupt_dataset("bad2.h5", "/optim/v/pos", 1);
    CHECK(ckpt_load("bad2.h5", &back, NULL, NULL) == 0);                 /* params alone are intact */
    CHECK(ckpt_load("bad2.h5", &back, &ob, NULL) == -1 && strstr(avm_error(), "checksum_optim"));

    test_attrs(&back, &ob, len);

    /* not HDF5 at all, missing file */
    FILE *f = fopen("junk.h5", "w");
    fputs("this is not a checkpoint\n", f);
    fclose(f);
    CHECK(ckpt_load("junk.h5", &back, NULL, NULL) == -1 && strstr(avm_error(), "junk.h5"));
    CHECK(ckpt_load("absent.h5", &back, NULL, NULL) == -1 && strstr(avm_error(), "no such checkpoint"));

    /* another architecture: different shape, then a missing tensor */
    avm_params other;
    build(&other, 8);
    CHECK(ckpt_load("ck.h5", &other, NULL, NULL) == -1 && strstr(avm_error(), "different architecture"));
    printf("other arch: %s\n", avm_error());
    params_free(&other);
    memset(&other, 0, sizeof other);
    int s1[2] = {6, 5};
    params_add(&other, "enc.layers.0.attn.in_proj.weight", 2, s1, 1);
    params_alloc(&other);
    CHECK(ckpt_load("ck.h5", &other, NULL, NULL) == -1 && strstr(avm_error(), "holds 3 tensors"));
    params_free(&other);

    /* h5py reads names, shapes, values and attributes */
    const char *py = getenv("PY") ? getenv("PY") : "/usr/bin/python3";
    char *cmd = xasprintf("%s -c \"import h5py,json,numpy as np; f=h5py.File('ck.h5','r'); "
                          "w=f['params/enc.layers.0.attn.in_proj.weight']; "
                          "assert w.shape==(6,5) and w.dtype==np.float32, w; "
                          "assert f['optim/m/pos'].shape==(2,3,4); "
                          "assert int(f.attrs['step'])==1234 and json.loads(f.attrs['config'])['model']['d']==6; "
                          "print(repr(float(w[0,0])))\" > h5py.out", py);
    CHECK(system(cmd) == 0);
    free(cmd);
    size_t n;
    char *out = read_file("h5py.out", &n);
    CHECK(out && strtof(out, NULL) == ps.data[0]);
    free(out);

    free(meta.config_json);
    adamw_free(&o); adamw_free(&ob);
    params_free(&ps); params_free(&back);
    return check_done("test_train_ckpt");
}
