/* Video: constant-rate output by presentation timestamp with the semantics of FFmpeg's
 * fps filter (default round=near), then optional crop and libswscale to grayscale.
 *
 * Each decoded frame with timestamp p gets the slot r = round((p - origin) * fps)
 * (round half away from zero, as av_rescale_q_rnd NEAR_INF). Output slots run from
 * max(0, r of the first frame); slot s shows the latest frame with r <= s, so frames
 * that share a slot keep only the last and gaps repeat the previous frame. Output stops
 * before the slot of the end of the last frame, round((p_last + duration - origin) * fps),
 * or at the segment end. Only frames that are output are converted; a repeated frame is
 * copied from its first conversion. */
#include "data/media_internal.h"
#include <libavutil/pixdesc.h>
#include <string.h>
#include "common/util.h"

static int64_t slot_of(const media_ctx *c, int64_t pts) {
    return av_rescale_q_rnd(pts - c->v_off, c->v_tb, c->v_slot,
                            AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
}

/* (Re)creates the scaler when the source size, format or range changes. The range
 * handling follows libavfilter's scale filter (the frame's color_range overrides the
 * range implied by the pixel format) so that pixels match `-vf scale,format=gray`. */
static int setup_sws(media_ctx *c, const AVFrame *f) {
    if (c->sws && c->sws_w == f->width && c->sws_h == f->height && c->sws_fmt == f->format &&
        c->sws_range == (int)f->color_range)
        return 0;
    sws_freeContext(c->sws);
    c->sws = sws_getContext(f->width, f->height, f->format, c->m->width, c->m->height,
                            AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
    if (!c->sws)
        return avm_fail("%s: cannot convert %dx%d %s video to gray", c->path, f->width,
                        f->height, av_get_pix_fmt_name(f->format) ? av_get_pix_fmt_name(f->format) : "?");
    c->sws_w = f->width;
    c->sws_h = f->height;
    c->sws_fmt = f->format;
    c->sws_range = f->color_range;
    if (f->color_range != AVCOL_RANGE_UNSPECIFIED) {
        int *inv, *tab, in_full, out_full, bri, con, sat;
        int ret = sws_getColorspaceDetails(c->sws, &inv, &in_full, &tab, &out_full, &bri, &con, &sat);
        if (ret < 0) return media_ff_fail(c, "sws_getColorspaceDetails", ret);
        in_full = f->color_range == AVCOL_RANGE_JPEG;
        const int *coef = sws_getCoefficients(f->colorspace);
        ret = sws_setColorspaceDetails(c->sws, coef, in_full, coef, out_full, bri, con, sat);
        if (ret < 0) return media_ff_fail(c, "sws_setColorspaceDetails", ret);
    }
    return 0;
}

/* Applies the crop box to the pending frame (pointer arithmetic, no copy). */
static int crop(media_ctx *c, AVFrame *f) {
    const int *b = c->o->crop;
    if (b[2] <= 0) return 0;
    if (b[0] < 0 || b[1] < 0 || b[3] <= 0 || b[0] + b[2] > f->width || b[1] + b[3] > f->height)
        return avm_fail("%s: crop box x=%d y=%d w=%d h=%d does not lie inside the %dx%d frame",
                        c->path, b[0], b[1], b[2], b[3], f->width, f->height);
    f->crop_left = b[0];
    f->crop_top = b[1];
    f->crop_right = f->width - b[0] - b[2];
    f->crop_bottom = f->height - b[1] - b[3];
    int ret = av_frame_apply_cropping(f, AV_FRAME_CROP_UNALIGNED);
    if (ret < 0) return media_ff_fail(c, "crop", ret);
    return 0;
}

/* Appends the pending frame as the output frame of slot v_next. */
static int emit(media_ctx *c) {
    avm_media *m = c->m;
    size_t sz = (size_t)m->width * m->height;
    if (m->n_frames == c->v_cap) {
        c->v_cap = c->v_cap ? 2 * c->v_cap : 64;
        m->frames = xrealloc(m->frames, (size_t)c->v_cap * sz);
    }
    uint8_t *dst = m->frames + (size_t)m->n_frames * sz;
    if (c->pend_out >= 0) {
        memcpy(dst, m->frames + (size_t)c->pend_out * sz, sz);
    } else {
        if (crop(c, c->pend) < 0 || setup_sws(c, c->pend) < 0) return -1;
        uint8_t *planes[4] = {dst, NULL, NULL, NULL};
        int strides[4] = {m->width, 0, 0, 0};
        int ret = sws_scale(c->sws, (const uint8_t *const *)c->pend->data, c->pend->linesize, 0,
                            c->pend->height, planes, strides);
        if (ret < 0) return media_ff_fail(c, "sws_scale", ret);
        c->pend_out = m->n_frames;
    }
    m->n_frames++;
    c->v_next++;
    if (c->v_next >= c->v_max) c->v_done = 1;
    return 0;
}

int video_frame(media_ctx *c, AVFrame *f) {
    int64_t pts = f->best_effort_timestamp;
    if (c->v_done || pts == AV_NOPTS_VALUE) return 0;   /* the fps filter drops these too */
    int64_t r = slot_of(c, pts);
    int64_t dur = f->pkt_duration > 0 ? f->pkt_duration : c->v_default_dur;
    c->v_end = pts + dur;
    if (!c->pend_valid) {
        c->v_first = c->v_next = r > 0 ? r : 0;
        if (c->v_next >= c->v_max) { c->v_done = 1; return 0; }
        c->m->video_start = (double)c->v_first * av_q2d(c->v_slot);
    } else {
        while (c->v_next < r && !c->v_done)
            if (emit(c) < 0) return -1;
        if (c->v_done) return 0;
    }
    av_frame_unref(c->pend);
    av_frame_move_ref(c->pend, f);
    c->pend_valid = 1;
    c->pend_out = -1;
    return 0;
}

int video_finish(media_ctx *c) {
    if (!c->pend_valid) return 0;
    int64_t end = slot_of(c, c->v_end);
    while (c->v_next < end && !c->v_done)
        if (emit(c) < 0) return -1;
    return 0;
}

void video_free(media_ctx *c) {
    av_frame_free(&c->pend);
    sws_freeContext(c->sws);
    c->sws = NULL;
}
