/* Helpers of the fuzz targets (fuzz.h); linked into every target and the replay driver. */
#include "fuzz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void cleanup(void) {
    if (!dir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

const char *fuzz_dir(void) {
    if (dir[0]) return dir;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/avmask-fuzz.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) { perror("fuzz: mkdtemp"); abort(); }
    atexit(cleanup);
    return dir;
}

const char *fuzz_file(const char *name, const uint8_t *data, size_t size) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) { perror(path); abort(); }
    return path;
}

char *fuzz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = 0;
    return s;
}

int fuzz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, int max) {
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i + 3 <= size && n + 1 < max; i++)
        if ((i == 0 || data[i - 1] == '\n') && !memcmp(data + i, "%%\n", 3)) {
            part[n] = data + start; len[n] = i - start; n++;
            start = i + 3;
            i += 2;
        }
    part[n] = data + start; len[n] = size - start;
    return n + 1;
}

size_t fuzz_edit(const uint8_t *base, size_t base_len, const uint8_t *edits, size_t n, uint8_t *out) {
    memcpy(out, base, base_len);
    size_t len = base_len, i = 0;
    for (; i + 5 <= n; i += 5) {
        uint32_t off = (uint32_t)edits[i] | (uint32_t)edits[i + 1] << 8 | (uint32_t)edits[i + 2] << 16 |
                       (uint32_t)edits[i + 3] << 24;
        out[off % base_len] ^= edits[i + 4];
    }
    if (i < n) len = (size_t)edits[i] * base_len / 256;
    return len;
}

const uint8_t *fuzz_raw_or_edit(const uint8_t *base, size_t base_len, const uint8_t *data, size_t size,
                                const char *sig, size_t *n) {
    static uint8_t *buf;
    static size_t cap;
    if (sig && size >= strlen(sig) && !memcmp(data, sig, strlen(sig))) { *n = size; return data; }
    if (cap < base_len && !(buf = realloc(buf, cap = base_len))) abort();
    *n = fuzz_edit(base, base_len, data, size, buf);
    return buf;
}

uint8_t *fuzz_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n == cap && !(b = realloc(b, cap = cap ? 2 * cap : 65536))) abort();
        r = fread(b + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return b;
}

void fuzz_bug(const char *what) {
    fprintf(stderr, "fuzz: invariant broken: %s\n", what);
    abort();
}
