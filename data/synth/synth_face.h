/* The rendered talking face of the synthetic corpus: per-speaker face shape, skin
 * tone, position, lighting and hair; per-frame head motion, blinks and the mouth
 * shape (data/synth/synth_viseme.h). Frames are written as YUV 4:2:0 (BT.601, limited
 * range), the layout H.264 encodes. */
#ifndef AVMASK_SYNTH_FACE_H
#define AVMASK_SYNTH_FACE_H
#include <stdint.h>
#include "common/rng.h"
#include "data/synth/synth_viseme.h"

typedef struct {
    int size;                       /* frame width = height, pixels (even) */
    float cx, cy, rx, ry;           /* head ellipse, pixels */
    float skin[3], lip[3], hair[3], bg_top[3], bg_bot[3], eye[3];
    float light[3];                 /* unit light direction (x right, y down, z to camera) */
    float ambient;
    float mouth_dy, mouth_hw, mouth_hh, lip_thick;   /* mouth: offset below centre, sizes */
    float motion;                   /* head motion amplitude, pixels */
} synth_face;

/* Per-frame pose: head offset and eye opening (1 open, 0 shut). */
typedef struct { float dx, dy, eyes; } synth_pose;

/* A random face for one speaker, for frames of size x size pixels. */
void synth_face_random(avm_rng *r, int size, synth_face *f);
/* Head motion (slow sway, a few pixels at most) and blinks for nframes at fps. */
void synth_face_poses(const synth_face *f, avm_rng *r, int nframes, double fps, synth_pose *out);
/* Renders one frame: y is size*size bytes, u and v (size/2)^2 each. Uses a static
 * scratch buffer: call from one thread. */
void synth_face_render(const synth_face *f, const synth_pose *p, const synth_mouth *m,
                       uint8_t *y, uint8_t *u, uint8_t *v);
/* A square box (x, y, w, h) that holds the mouth whatever the pose and shape: the
 * crop for lip features. */
void synth_face_mouth_box(const synth_face *f, int box[4]);
#endif
