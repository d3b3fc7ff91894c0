/* State shared by media.c (demuxing, decoders, errors), media_audio.c (resampling and
 * placement on the shared clock) and media_video.c (fps selection, crop, scale).
 * Not part of the public interface. */
#ifndef AVMASK_MEDIA_INTERNAL_H
#define AVMASK_MEDIA_INTERNAL_H
#include <stdint.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include "data/media.h"

typedef struct {
    const char *path;
    const avm_media_opts *o;
    avm_media *m;
    AVFormatContext *fmt;
    AVFrame *frame;

    /* audio: output sample i of m->pcm is at origin + i / sample_rate */
    int a_idx;
    AVCodecContext *a_dec;
    AVRational a_tb;
    int64_t a_off;            /* origin in a_tb units */
    SwrContext *swr;
    AVChannelLayout swr_layout;
    int swr_fmt, swr_rate;
    int a_started, a_done;
    int64_t a_pos;            /* output position of the next resampled sample */
    int64_t a_max;            /* positions >= a_max are not wanted (segment end) */
    int64_t a_real;           /* samples that came from the decoder (not padding) */
    int64_t a_cap;
    float *a_tmp;
    int a_tmp_cap;

    /* video: output frame k of m->frames shows slot v_first + k, at origin + slot / fps */
    int v_idx;
    AVCodecContext *v_dec;
    AVRational v_tb, v_slot;  /* v_slot = 1 / fps */
    int64_t v_off;            /* origin in v_tb units */
    int64_t v_default_dur;    /* duration of a frame without one, in v_tb (0: unknown) */
    AVFrame *pend;            /* the frame shown from slot v_next on, until a newer one */
    int pend_valid;
    int64_t pend_out;         /* output index where pend was already converted, or -1 */
    int64_t v_first, v_next, v_max;
    int64_t v_end;            /* end (pts + duration) of the last decoded frame, v_tb */
    int v_done;
    struct SwsContext *sws;
    int sws_w, sws_h, sws_fmt, sws_range;
    int64_t v_cap;
} media_ctx;

/* Each returns 0, or -1 after avm_fail("<path>: <reason>"). */
int  audio_frame(media_ctx *c, AVFrame *f);
int  audio_finish(media_ctx *c);     /* drains the resampler at end of input */
void audio_free(media_ctx *c);
int  video_frame(media_ctx *c, AVFrame *f);
int  video_finish(media_ctx *c);     /* outputs the last frame until its end time */
void video_free(media_ctx *c);

/* avm_fail("<path>: <what>: <FFmpeg error text>[ (<last FFmpeg log line>)]"); returns -1. */
int  media_ff_fail(const media_ctx *c, const char *what, int err);
#endif
