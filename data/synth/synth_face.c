/* A simple 2-D face painted with soft-edged ellipses (so that sub-pixel changes of
 * the mouth change pixel values smoothly) and Lambert shading of the head as an
 * ellipsoid under one directional light. Sizes scale with the frame size. */
#include "data/synth/synth_face.h"
#include "common/util.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TAU 6.28318530717958647692

static float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }
static float unif(avm_rng *r, float lo, float hi) { return lo + (hi - lo) * (float)rng_uniform(r); }

/* Coverage (0..1) of pixel centre (px,py) by an ellipse, antialiased over ~1 px
 * using the first-order distance to the boundary. */
static float ellipse(float px, float py, float cx, float cy, float rx, float ry) {
    if (rx <= 0.01f || ry <= 0.01f || fabsf(px - cx) > rx + 1 || fabsf(py - cy) > ry + 1) return 0;
    float ux = (px - cx) / rx, uy = (py - cy) / ry;
    float f = ux * ux + uy * uy - 1;
    float g = 2 * sqrtf(ux * ux / (rx * rx) + uy * uy / (ry * ry));
    if (g < 1e-6f) return f < 0;
    return clampf(0.5f - f / g, 0, 1);
}

static void mix(float *c, const float *with, float a) {
    for (int k = 0; k < 3; k++) c[k] += a * (with[k] - c[k]);
}

static void scale3(float *out, const float *c, float s) {
    for (int k = 0; k < 3; k++) out[k] = c[k] * s;
}

void synth_face_random(avm_rng *r, int size, synth_face *f) {
    static const float skins[][3] = {{0.96f, 0.80f, 0.69f}, {0.90f, 0.70f, 0.56f},
        {0.80f, 0.60f, 0.45f}, {0.66f, 0.47f, 0.33f}, {0.52f, 0.36f, 0.25f}, {0.40f, 0.28f, 0.20f}};
    static const float hairs[][3] = {{0.10f, 0.08f, 0.06f}, {0.30f, 0.20f, 0.12f},
        {0.55f, 0.40f, 0.22f}, {0.75f, 0.62f, 0.40f}, {0.45f, 0.45f, 0.45f}, {0.50f, 0.22f, 0.10f}};
    float s = size / 96.0f;
    memset(f, 0, sizeof *f);
    f->size = size;
    f->rx = size * unif(r, 0.25f, 0.30f);
    f->ry = f->rx * unif(r, 1.15f, 1.35f);
    f->cx = size * 0.5f + size * unif(r, -0.05f, 0.05f);
    f->cy = size * 0.44f + size * unif(r, -0.03f, 0.03f);
    const float *sk = skins[rng_below(r, 6)], *hr = hairs[rng_below(r, 6)];
    float tone = unif(r, 0.93f, 1.05f);
    for (int k = 0; k < 3; k++) {
        f->skin[k] = clampf(sk[k] * tone, 0, 1);
        f->hair[k] = clampf(hr[k] * unif(r, 0.9f, 1.1f), 0, 1);
        f->bg_top[k] = unif(r, 0.25f, 0.75f);
        f->bg_bot[k] = clampf(f->bg_top[k] * unif(r, 0.6f, 1.0f), 0, 1);
    }
    f->lip[0] = f->skin[0] * 0.82f; f->lip[1] = f->skin[1] * 0.55f; f->lip[2] = f->skin[2] * 0.58f;
    f->eye[0] = 0.25f * unif(r, 0.3f, 1.2f); f->eye[1] = 0.2f * unif(r, 0.3f, 1.5f); f->eye[2] = 0.15f * unif(r, 0.3f, 2.0f);
    float lx = unif(r, -0.6f, 0.6f), ly = unif(r, -0.5f, 0.1f), lz = 1, ln = sqrtf(lx * lx + ly * ly + lz * lz);
    f->light[0] = lx / ln; f->light[1] = ly / ln; f->light[2] = lz / ln;
    f->ambient = unif(r, 0.45f, 0.6f);
    f->mouth_dy = f->ry * unif(r, 0.52f, 0.60f);
    f->mouth_hw = f->rx * unif(r, 0.32f, 0.40f);
    f->mouth_hh = f->ry * unif(r, 0.12f, 0.15f);
    f->lip_thick = fmaxf(1.3f * s, f->ry * unif(r, 0.04f, 0.06f));
    f->motion = s * unif(r, 1.0f, 2.0f);
}

void synth_face_poses(const synth_face *f, avm_rng *r, int nframes, double fps, synth_pose *out) {
    double f1 = unif(r, 0.2f, 0.5f), f2 = unif(r, 0.7f, 1.3f), f3 = unif(r, 0.2f, 0.6f);
    double p1 = TAU * rng_uniform(r), p2 = TAU * rng_uniform(r), p3 = TAU * rng_uniform(r);
    double next_blink = unif(r, 0.3f, 3.0f), blink_at = -1;
    for (int i = 0; i < nframes; i++) {
        double t = i / fps;
        out[i].dx = (float)(f->motion * (0.6 * sin(TAU * f1 * t + p1) + 0.4 * sin(TAU * f2 * t + p2)));
        out[i].dy = (float)(f->motion * 0.5 * sin(TAU * f3 * t + p3));
        if (t >= next_blink) { blink_at = next_blink; next_blink += unif(r, 1.5f, 5.0f); }
        double b = blink_at >= 0 ? (t - blink_at) / 0.15 : 2;   /* a blink lasts 150 ms */
        out[i].eyes = b >= 0 && b < 1 ? (float)fabs(2 * b - 1) : 1.0f;
    }
}

/* Painting happens in layers over per-pixel buffers: the background (c), the face
 * surface (fc, composited into c by the head coverage at the end) and the lighting
 * factor. Features touch only the pixels of their bounding box. */
typedef struct { float *c, *fc, *head, *lit; int n; } canvas;

/* Pixel range [x0,x1) x [y0,y1) covering a box of half sizes hx, hy around (cx, cy). */
typedef struct { int x0, x1, y0, y1; } pixbox;
static pixbox box_around(int n, float cx, float cy, float hx, float hy) {
    pixbox b = {(int)floorf(cx - hx - 1), (int)ceilf(cx + hx + 1), (int)floorf(cy - hy - 1), (int)ceilf(cy + hy + 1)};
    b.x0 = b.x0 < 0 ? 0 : b.x0; b.y0 = b.y0 < 0 ? 0 : b.y0;
    b.x1 = b.x1 > n ? n : b.x1; b.y1 = b.y1 > n ? n : b.y1;
    return b;
}

static void base_layer(const synth_face *f, const synth_pose *p, canvas *cv) {
    int n = cv->n;
    float cx = f->cx + p->dx, cy = f->cy + p->dy, rx = f->rx, ry = f->ry, amb[3];
    scale3(amb, f->skin, f->ambient);
    for (int j = 0; j < n; j++) {
        float py = j + 0.5f, t = py / n;
        for (int i = 0; i < n; i++) {
            float px = i + 0.5f;
            size_t k = (size_t)j * n + i;
            float *c = cv->c + 3 * k, *fc = cv->fc + 3 * k;
            for (int q = 0; q < 3; q++) c[q] = f->bg_top[q] + t * (f->bg_bot[q] - f->bg_top[q]);
            float neck = clampf(0.5f - (fabsf(px - cx) - 0.45f * rx), 0, 1) * clampf(py - (cy + 0.5f * ry), 0, 1);
            mix(c, amb, neck);
            mix(c, f->hair, ellipse(px, py, cx, cy - 0.1f * ry, 1.08f * rx, 1.03f * ry) * clampf((cy + 0.2f * ry - py) / 2, 0, 1));
            cv->head[k] = ellipse(px, py, cx, cy, rx, ry);
            if (cv->head[k] <= 0) continue;
            float nx = (px - cx) / rx, ny = (py - cy) / ry, nz = sqrtf(fmaxf(0, 1 - nx * nx - ny * ny));
            float lit = f->ambient + (1 - f->ambient) * fmaxf(0, nx * f->light[0] + ny * f->light[1] + nz * f->light[2]);
            cv->lit[k] = lit;
            scale3(fc, f->skin, lit);
            /* fringe of hair over the forehead */
            mix(fc, f->hair, clampf(cy - 0.55f * ry + 0.25f * ry * nx * nx - py + 0.5f, 0, 1));
        }
    }
}

static void eyes_nose(const synth_face *f, const synth_pose *p, canvas *cv) {
    float s = f->size / 96.0f, cx = f->cx + p->dx, cy = f->cy + p->dy, rx = f->rx, ry = f->ry;
    static const float sclera[3] = {0.92f, 0.90f, 0.88f}, dark[3] = {0.15f, 0.08f, 0.07f};
    for (int side = -1; side <= 1; side += 2) {
        float ex = cx + side * 0.38f * rx, ey = cy - 0.1f * ry;
        pixbox b = box_around(cv->n, ex, ey - 0.08f * ry, 0.2f * rx, 0.17f * ry);
        for (int j = b.y0; j < b.y1; j++)
            for (int i = b.x0; i < b.x1; i++) {
                float px = i + 0.5f, py = j + 0.5f, *fc = cv->fc + 3 * ((size_t)j * cv->n + i);
                float white = ellipse(px, py, ex, ey, 0.17f * rx, 0.085f * ry * p->eyes);
                mix(fc, sclera, white);
                mix(fc, f->eye, white * ellipse(px, py, ex, ey, 0.075f * rx, 0.075f * rx));
                mix(fc, f->hair, ellipse(px, py, ex, ey - 0.16f * ry, 0.2f * rx, 0.03f * ry + 0.4f * s));
            }
    }
    /* nose: a shadow on the side away from the light, nostrils */
    float nsx = cx - (f->light[0] > 0 ? 1 : -1) * 0.05f * rx;
    pixbox b = box_around(cv->n, cx, cy + 0.2f * ry, 0.15f * rx, 0.18f * ry);
    for (int j = b.y0; j < b.y1; j++)
        for (int i = b.x0; i < b.x1; i++) {
            float px = i + 0.5f, py = j + 0.5f, *fc = cv->fc + 3 * ((size_t)j * cv->n + i), shadow[3];
            scale3(shadow, f->skin, cv->lit[(size_t)j * cv->n + i] * 0.75f);
            mix(fc, shadow, 0.7f * ellipse(px, py, nsx, cy + 0.18f * ry, 0.07f * rx, 0.14f * ry));
            for (int side = -1; side <= 1; side += 2)
                mix(fc, dark, 0.6f * ellipse(px, py, cx + side * 0.06f * rx, cy + 0.3f * ry, 0.035f * rx + 0.3f * s, 0.02f * ry + 0.3f * s));
        }
}

/* Lips, the dark cavity between them, tongue, upper teeth. */
static void mouth(const synth_face *f, const synth_pose *p, const synth_mouth *m, canvas *cv) {
    float s = f->size / 96.0f;
    float mcx = f->cx + p->dx, mcy = f->cy + p->dy + f->mouth_dy;
    float hw = f->mouth_hw * (0.75f + 0.45f * m->width - 0.25f * m->round);
    float ho = f->mouth_hh * m->open;
    float lt = f->lip_thick * (1 + 0.4f * m->round);
    float iw = hw * (0.85f - 0.3f * m->round);
    float top = mcy - ho - 0.3f * s, band = m->teeth * (0.25f * ho + 1.5f * s);
    static const float line[3] = {0.2f, 0.08f, 0.08f}, cavity[3] = {0.05f, 0.01f, 0.02f},
                       tongue[3] = {0.70f, 0.30f, 0.32f}, teeth[3] = {0.93f, 0.91f, 0.86f};
    pixbox b = box_around(cv->n, mcx, mcy, hw, ho + lt);
    for (int j = b.y0; j < b.y1; j++)
        for (int i = b.x0; i < b.x1; i++) {
            float px = i + 0.5f, py = j + 0.5f;
            size_t k = (size_t)j * cv->n + i;
            float *fc = cv->fc + 3 * k, lip[3];
            float lips = ellipse(px, py, mcx, mcy, hw, ho + lt);
            if (lips <= 0) continue;
            scale3(lip, f->lip, cv->lit[k]);
            mix(fc, lip, lips);
            /* where closed lips meet */
            mix(fc, line, 0.7f * lips * clampf(0.6f * s + 0.5f - fabsf(py - mcy), 0, 1) * clampf((hw * 0.9f - fabsf(px - mcx)), 0, 1));
            float cav = ellipse(px, py, mcx, mcy, iw, ho);
            mix(fc, cavity, cav);
            mix(fc, tongue, cav * clampf(0.3f + m->tongue, 0, 1) * ellipse(px, py, mcx, mcy + ho * (1.0f - 0.8f * m->tongue), iw * 0.6f, ho * 0.6f));
            float tv = clampf(py - top + 0.5f, 0, 1) * clampf(top + band - py + 0.5f, 0, 1) *
                       clampf(iw * 0.95f - fabsf(px - mcx) + 0.5f, 0, 1) * lips;
            mix(fc, teeth, tv * clampf(m->teeth * 2, 0, 1));
        }
}

static uint8_t to_u8(float v) { return (uint8_t)clampf(v + 0.5f, 0, 255); }

void synth_face_render(const synth_face *f, const synth_pose *p, const synth_mouth *m,
                       uint8_t *y, uint8_t *u, uint8_t *v) {
    int n = f->size, h = n / 2;
    size_t np = (size_t)n * n;
    /* one scratch buffer reused across frames: a fresh allocation per frame costs
     * more in page faults than the painting (the generator renders on one thread) */
    static float *buf;
    static size_t cap;
    if (cap < np * 8) { free(buf); buf = xmalloc(np * 8 * sizeof *buf); cap = np * 8; }
    memset(buf, 0, np * 8 * sizeof *buf);
    canvas cv = {buf, buf + 3 * np, buf + 6 * np, buf + 7 * np, n};
    base_layer(f, p, &cv);
    eyes_nose(f, p, &cv);
    mouth(f, p, m, &cv);
    float *rgb = cv.c;
    for (size_t k = 0; k < np; k++) {
        float *c = rgb + 3 * k;
        mix(c, cv.fc + 3 * k, cv.head[k]);
        y[k] = to_u8(16 + 219 * (0.299f * c[0] + 0.587f * c[1] + 0.114f * c[2]));
    }
    for (int j = 0; j < h; j++)
        for (int i = 0; i < h; i++) {
            float c[3] = {0, 0, 0};
            for (int dj = 0; dj < 2; dj++)
                for (int di = 0; di < 2; di++)
                    for (int k = 0; k < 3; k++) c[k] += 0.25f * rgb[3 * ((size_t)(2 * j + dj) * n + 2 * i + di) + k];
            u[(size_t)j * h + i] = to_u8(128 + 224 * (-0.168736f * c[0] - 0.331264f * c[1] + 0.5f * c[2]));
            v[(size_t)j * h + i] = to_u8(128 + 224 * (0.5f * c[0] - 0.418688f * c[1] - 0.081312f * c[2]));
        }
}

void synth_face_mouth_box(const synth_face *f, int box[4]) {
    float s = f->size / 96.0f;
    float hx = f->mouth_hw * 1.2f + f->motion + 2 * s;
    float hy = f->mouth_hh + f->lip_thick * 1.4f + f->motion * 0.5f + 2 * s;
    int side = 2 * (int)ceilf(fmaxf(hx, hy));
    if (side > f->size) side = f->size;
    int x = (int)lroundf(f->cx - side / 2.0f), y = (int)lroundf(f->cy + f->mouth_dy - side / 2.0f);
    if (x < 0) x = 0;
    if (y < 0) y = 0;
    if (x + side > f->size) x = f->size - side;
    if (y + side > f->size) y = f->size - side;
    box[0] = x; box[1] = y; box[2] = side; box[3] = side;
}
