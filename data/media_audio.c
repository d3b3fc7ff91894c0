/* Audio: libswresample to mono float at the output rate with swr's default options
 * (the same resampler and downmix matrix `ffmpeg -ac 1 -ar 16000` uses), and placement
 * of the resampled samples on the shared clock.
 *
 * Placement rule: the first decoded frame's timestamp p (stream time base) gives its
 * output position round((p - origin) * rate); later samples follow contiguously (like the
 * ffmpeg CLI without -async, gaps in the input timestamps are not filled). Positions
 * before 0 are dropped (audio before a segment start), a first position > 0 is padded
 * with zeros (audio that starts later than the video, or after a segment start), and
 * positions >= a_max (segment end) are dropped.
 *
 * One departure from the CLI keeps the streams in sync when audio packets are missing
 * (corrupt or gapped files): a frame whose timestamp lies more than GAP_S after the
 * position the samples so far reach is preceded by silence up to its timestamp. Files
 * without such gaps decode exactly as `ffmpeg -ac 1 -ar 16000` does. */
#include "data/media_internal.h"
#include <libavutil/opt.h>
#include <string.h>
#include "common/util.h"

#define GAP_S 0.02

/* Appends n resampled samples at position c->a_pos, clipped to [0, a_max). */
static void emit(media_ctx *c, const float *x, int n) {
    avm_media *m = c->m;
    int64_t p = c->a_pos;
    int64_t lo = p < 0 ? -p : 0, hi = n;
    if (p + hi > c->a_max) hi = c->a_max - p;
    c->a_pos = p + n;
    if (c->a_pos >= c->a_max) c->a_done = 1;
    if (hi <= lo) return;
    if (p + hi > c->a_cap) {
        int64_t cap = c->a_cap ? c->a_cap : 16000;
        while (cap < p + hi) cap *= 2;
        m->pcm = xrealloc(m->pcm, (size_t)cap * sizeof(float));
        c->a_cap = cap;
    }
    if (p + lo > m->n_samples)   /* zero padding before the first real sample */
        memset(m->pcm + m->n_samples, 0, (size_t)(p + lo - m->n_samples) * sizeof(float));
    memcpy(m->pcm + p + lo, x + lo, (size_t)(hi - lo) * sizeof(float));
    m->n_samples = p + hi;
    c->a_real += hi - lo;
}

/* Runs swr_convert on (in, n_in) (NULL, 0 to drain) and emits what comes out. */
static int convert(media_ctx *c, const uint8_t **in, int n_in) {
    for (;;) {
        int room = swr_get_out_samples(c->swr, n_in);
        if (room < 0) return media_ff_fail(c, "swr_get_out_samples", room);
        if (room < 256) room = 256;
        if (room > c->a_tmp_cap) {
            c->a_tmp = xrealloc(c->a_tmp, (size_t)room * sizeof(float));
            c->a_tmp_cap = room;
        }
        uint8_t *out = (uint8_t *)c->a_tmp;
        int got = swr_convert(c->swr, &out, room, in, n_in);
        if (got < 0) return media_ff_fail(c, "swr_convert", got);
        emit(c, c->a_tmp, got);
        /* Input is consumed in one call; when draining, repeat until nothing is left. */
        if (in || got == 0) return 0;
    }
}

/* (Re)creates the resampler for the frame's format; a format change drains the old one. */
static int setup_swr(media_ctx *c, const AVFrame *f) {
    AVChannelLayout in_layout;
    int ret;
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)  /* guess like the ffmpeg CLI */
        av_channel_layout_default(&in_layout, f->ch_layout.nb_channels);
    else if ((ret = av_channel_layout_copy(&in_layout, &f->ch_layout)) < 0)
        return media_ff_fail(c, "audio channel layout", ret);
    if (c->swr && c->swr_fmt == f->format && c->swr_rate == f->sample_rate &&
        !av_channel_layout_compare(&c->swr_layout, &in_layout)) {
        av_channel_layout_uninit(&in_layout);
        return 0;
    }
    if (c->swr && convert(c, NULL, 0) < 0) {
        av_channel_layout_uninit(&in_layout);
        return -1;
    }
    swr_free(&c->swr);
    av_channel_layout_uninit(&c->swr_layout);
    c->swr_layout = in_layout;
    c->swr_fmt = f->format;
    c->swr_rate = f->sample_rate;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    ret = swr_alloc_set_opts2(&c->swr, &mono, AV_SAMPLE_FMT_FLT, c->m->sample_rate,
                              &in_layout, f->format, f->sample_rate, 0, NULL);
    if (ret < 0) return media_ff_fail(c, "swr_alloc_set_opts2", ret);
    if ((ret = swr_init(c->swr)) < 0) return media_ff_fail(c, "swr_init", ret);
    return 0;
}

/* Feeds silence ahead of a frame that starts after a gap in the timestamps. */
static int fill_gap(media_ctx *c, const AVFrame *f) {
    int64_t pts = f->best_effort_timestamp;
    int rate = c->m->sample_rate;
    if (pts == AV_NOPTS_VALUE) return 0;
    int64_t want = av_rescale_q_rnd(pts - c->a_off, c->a_tb, (AVRational){1, rate},
                                    AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
    int64_t gap = want - (c->a_pos + swr_get_delay(c->swr, rate));
    if (gap <= GAP_S * rate) return 0;
    int ret = swr_inject_silence(c->swr, (int)av_rescale(gap, f->sample_rate, rate));
    if (ret < 0) return media_ff_fail(c, "swr_inject_silence", ret);
    return 0;
}

int audio_frame(media_ctx *c, AVFrame *f) {
    if (c->a_done || f->nb_samples <= 0) return 0;
    if (!c->a_started) {
        int64_t pts = f->best_effort_timestamp;
        c->a_pos = pts == AV_NOPTS_VALUE ? 0 :
            av_rescale_q_rnd(pts - c->a_off, c->a_tb, (AVRational){1, c->m->sample_rate},
                             AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
        c->a_started = 1;
        c->m->src_sample_rate = f->sample_rate;
        c->m->src_channels = f->ch_layout.nb_channels;
        c->m->audio_start = c->a_pos > 0 ? (double)c->a_pos / c->m->sample_rate : 0;
    }
    if (setup_swr(c, f) < 0) return -1;
    if (fill_gap(c, f) < 0) return -1;
    return convert(c, (const uint8_t **)f->extended_data, f->nb_samples);
}

int audio_finish(media_ctx *c) {
    if (!c->swr || c->a_done) return 0;
    return convert(c, NULL, 0);
}

void audio_free(media_ctx *c) {
    swr_free(&c->swr);
    av_channel_layout_uninit(&c->swr_layout);
    free(c->a_tmp);
    c->a_tmp = NULL;
}
