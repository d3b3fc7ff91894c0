#include "data/synth/synth_wav.h"
#include "common/util.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int synth_wav_write(const char *path, const float *x, int n, int rate) {
    uint8_t h[44];
    uint32_t data = (uint32_t)n * 2;
    memcpy(h, "RIFF", 4); memcpy(h + 8, "WAVEfmt ", 8); memcpy(h + 36, "data", 4);
    uint32_t v32[] = {36 + data, 16, (uint32_t)rate, (uint32_t)rate * 2, data};
    int at32[] = {4, 16, 24, 28, 40};
    uint16_t v16[] = {1, 1, 2, 16}, at16[] = {20, 22, 32, 34};   /* PCM, mono, block, bits */
    for (int i = 0; i < 5; i++)
        for (int b = 0; b < 4; b++) h[at32[i] + b] = (uint8_t)(v32[i] >> (8 * b));
    for (int i = 0; i < 4; i++) { h[at16[i]] = (uint8_t)v16[i]; h[at16[i] + 1] = (uint8_t)(v16[i] >> 8); }
    uint8_t *buf = xmalloc((size_t)data);
    for (int i = 0; i < n; i++) {
        long s = lrintf(fmaxf(-1.f, fminf(1.f, x[i])) * 32767.f);
        buf[2 * i] = (uint8_t)(s & 0xff);
        buf[2 * i + 1] = (uint8_t)((s >> 8) & 0xff);
    }
    FILE *f = fopen(path, "wb");
    if (!f) { free(buf); return avm_fail("%s: cannot create: %s", path, strerror(errno)); }
    errno = 0;
    int ok = fwrite(h, 1, sizeof h, f) == sizeof h && fwrite(buf, 1, data, f) == data;
    ok &= fclose(f) == 0;
    int e = errno;
    free(buf);
    return ok ? 0 : avm_fail("%s: write error: %s", path, e ? strerror(e) : "short write");
}
