/* libavformat/libavcodec muxing. Packets of the two streams are written in time
 * order (video by decoding timestamp, audio by its first sample) so the file is
 * interleaved without relying on the muxer's buffering. */
#include "data/synth/synth_mux.h"
#include "common/log.h"
#include "common/util.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <stdlib.h>
#include <string.h>

struct synth_video {
    AVCodecParameters *par;
    AVRational tb;        /* of the packets: 1/fps */
    AVPacket **pkt;
    int n, cap, fps;
};

#define FAIL(name, what, r) avm_fail("%s: %s: %s", name, what, av_err2str(r))

void synth_video_free(synth_video **pv) {
    synth_video *v = *pv;
    if (!v) return;
    for (int i = 0; i < v->n; i++) av_packet_free(&v->pkt[i]);
    free(v->pkt);
    avcodec_parameters_free(&v->par);
    free(v);
    *pv = NULL;
}

/* Sends one frame (NULL: flush) and keeps every packet the encoder returns. */
static int encode_video(AVCodecContext *c, AVFrame *f, synth_video *v, const char *name) {
    int r = avcodec_send_frame(c, f);
    if (r < 0) return FAIL(name, "H.264 encoding", r);
    for (;;) {
        AVPacket *p = av_packet_alloc();
        if (!p) return avm_fail("%s: out of memory", name);
        r = avcodec_receive_packet(c, p);
        if (r < 0) {
            av_packet_free(&p);
            if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
            return FAIL(name, "H.264 encoding", r);
        }
        if (p->duration == 0) p->duration = 1;   /* one frame; else the last frame has no length */
        if (v->n == v->cap) v->pkt = xrealloc(v->pkt, (size_t)(v->cap = v->cap ? 2 * v->cap : 64) * sizeof *v->pkt);
        v->pkt[v->n++] = p;
    }
}

static int open_x264(const synth_frames *fr, const char *name, AVCodecContext **out) {
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) return avm_fail("%s: this FFmpeg has no libx264 encoder", name);
    AVCodecContext *c = *out = avcodec_alloc_context3(codec);
    if (!c) return avm_fail("%s: out of memory", name);
    c->width = c->height = fr->size;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, fr->fps};
    c->framerate = (AVRational){fr->fps, 1};
    c->gop_size = 2 * fr->fps;
    c->thread_count = 1;                       /* threads make x264 output non-deterministic */
    c->flags |= AV_CODEC_FLAG_BITEXACT | AV_CODEC_FLAG_GLOBAL_HEADER;   /* MP4 wants global headers */
    AVDictionary *o = NULL;
    char crf[16];
    snprintf(crf, sizeof crf, "%d", fr->crf);
    av_dict_set(&o, "preset", "superfast", 0);
    av_dict_set(&o, "crf", crf, 0);
    int r = avcodec_open2(c, codec, &o);
    av_dict_free(&o);
    return r < 0 ? FAIL(name, "opening libx264", r) : 0;
}

static int encode_all(const synth_frames *fr, const char *name, AVCodecContext *c, AVFrame *f, synth_video *v) {
    int n = fr->size, h = n / 2, r;
    f->format = AV_PIX_FMT_YUV420P;
    f->width = f->height = n;
    if ((r = av_frame_get_buffer(f, 0)) < 0) return FAIL(name, "video frame", r);
    for (int i = 0; i < fr->nframes; i++) {
        if ((r = av_frame_make_writable(f)) < 0) return FAIL(name, "video frame", r);
        const uint8_t *src = fr->yuv + (size_t)i * n * n * 3 / 2;
        for (int j = 0; j < n; j++) memcpy(f->data[0] + (size_t)j * f->linesize[0], src + (size_t)j * n, n);
        src += (size_t)n * n;
        for (int p = 1; p <= 2; p++, src += (size_t)h * h)
            for (int j = 0; j < h; j++) memcpy(f->data[p] + (size_t)j * f->linesize[p], src + (size_t)j * h, h);
        f->pts = i;
        if (encode_video(c, f, v, name)) return -1;
    }
    if (encode_video(c, NULL, v, name)) return -1;
    if (!(v->par = avcodec_parameters_alloc())) return avm_fail("%s: out of memory", name);
    if ((r = avcodec_parameters_from_context(v->par, c)) < 0) return FAIL(name, "video parameters", r);
    return 0;
}

int synth_video_encode(const synth_frames *fr, const char *name, synth_video **out) {
    synth_video *v = xcalloc(1, sizeof *v);
    v->tb = (AVRational){1, fr->fps};
    v->fps = fr->fps;
    AVCodecContext *c = NULL;
    AVFrame *f = av_frame_alloc();
    int rc = !f ? avm_fail("%s: out of memory", name) : open_x264(fr, name, &c);
    if (rc == 0) rc = encode_all(fr, name, c, f, v);
    avcodec_free_context(&c);
    av_frame_free(&f);
    if (rc) synth_video_free(&v);
    *out = v;
    return rc;
}

typedef struct {
    AVFormatContext *oc;
    AVCodecContext *ac;
    AVStream *vs, *as;
    AVFrame *af;
    AVPacket *pkt;
    const char *path;
} mux;

static int write_packet(mux *m, AVPacket *p, AVRational from, AVStream *s) {
    av_packet_rescale_ts(p, from, s->time_base);
    p->stream_index = s->index;
    int r = av_interleaved_write_frame(m->oc, p);
    return r < 0 ? FAIL(m->path, "writing", r) : 0;
}

/* Sends one audio frame (NULL: flush) and writes every packet the encoder returns. */
static int encode_audio(mux *m, AVFrame *f) {
    int r = avcodec_send_frame(m->ac, f);
    if (r < 0) return FAIL(m->path, "AAC encoding", r);
    for (;;) {
        r = avcodec_receive_packet(m->ac, m->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF) return 0;
        if (r < 0) return FAIL(m->path, "AAC encoding", r);
        if (write_packet(m, m->pkt, m->ac->time_base, m->as)) return -1;
    }
}

static int open_audio(mux *m, int rate) {
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    if (!codec) return avm_fail("%s: this FFmpeg has no aac encoder", m->path);
    if (!(m->as = avformat_new_stream(m->oc, NULL)) || !(m->ac = avcodec_alloc_context3(codec)))
        return avm_fail("%s: out of memory", m->path);
    AVCodecContext *a = m->ac;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int r = av_channel_layout_copy(&a->ch_layout, &mono);
    if (r < 0) return FAIL(m->path, "channel layout", r);
    a->sample_fmt = AV_SAMPLE_FMT_FLTP;
    a->sample_rate = rate;
    a->bit_rate = 64000;
    a->time_base = (AVRational){1, rate};
    a->thread_count = 1;
    a->flags |= AV_CODEC_FLAG_BITEXACT | AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *o = NULL;
    av_dict_set(&o, "aac_coder", "fast", 0);   /* the default two-loop search costs more than all else */
    r = avcodec_open2(a, codec, &o);
    av_dict_free(&o);
    if (r < 0) return FAIL(m->path, "opening the aac encoder", r);
    if ((r = avcodec_parameters_from_context(m->as->codecpar, a)) < 0) return FAIL(m->path, "audio parameters", r);
    m->as->time_base = a->time_base;
    if (!(m->af = av_frame_alloc())) return avm_fail("%s: out of memory", m->path);
    return 0;
}

static int put_audio(mux *m, const float *pcm, int at, int len, int rate) {
    AVFrame *f = m->af;
    av_frame_unref(f);
    f->format = AV_SAMPLE_FMT_FLTP;
    f->sample_rate = rate;
    f->nb_samples = len;
    int r = av_channel_layout_copy(&f->ch_layout, &m->ac->ch_layout);
    if (r < 0 || (r = av_frame_get_buffer(f, 0)) < 0) return FAIL(m->path, "audio frame", r);
    memcpy(f->data[0], pcm + at, (size_t)len * sizeof(float));
    f->pts = at;
    return encode_audio(m, f);
}

static int write_all(mux *m, const synth_video *v, const float *pcm, int nsamples, int rate) {
    int r;
    if ((r = avformat_alloc_output_context2(&m->oc, NULL, "mp4", m->path)) < 0 || !m->oc)
        return FAIL(m->path, "mp4 muxer", r);
    m->oc->flags |= AVFMT_FLAG_BITEXACT;    /* no version strings or times in the file */
    if (!(m->vs = avformat_new_stream(m->oc, NULL))) return avm_fail("%s: out of memory", m->path);
    if ((r = avcodec_parameters_copy(m->vs->codecpar, v->par)) < 0) return FAIL(m->path, "video parameters", r);
    m->vs->time_base = v->tb;
    m->vs->avg_frame_rate = (AVRational){v->fps, 1};
    if (open_audio(m, rate)) return -1;
    if (!(m->pkt = av_packet_alloc())) return avm_fail("%s: out of memory", m->path);
    if ((r = avio_open(&m->oc->pb, m->path, AVIO_FLAG_WRITE)) < 0) return FAIL(m->path, "cannot open for writing", r);
    if ((r = avformat_write_header(m->oc, NULL)) < 0) return FAIL(m->path, "writing the header", r);
    int fs = m->ac->frame_size > 0 ? m->ac->frame_size : 1024, vi = 0, ai = 0;
    while (vi < v->n || ai < nsamples) {
        /* the stream whose next packet starts earlier goes first */
        int video = ai >= nsamples || (vi < v->n && v->pkt[vi]->dts * rate <= (int64_t)ai * v->fps);
        if (video) {
            if ((r = av_packet_ref(m->pkt, v->pkt[vi++])) < 0) return FAIL(m->path, "packet", r);
            if (write_packet(m, m->pkt, v->tb, m->vs)) return -1;
        } else {
            int len = nsamples - ai < fs ? nsamples - ai : fs;
            if (put_audio(m, pcm, ai, len, rate)) return -1;
            ai += len;
        }
    }
    if (encode_audio(m, NULL)) return -1;
    if ((r = av_write_trailer(m->oc)) < 0) return FAIL(m->path, "writing the trailer", r);
    return 0;
}

int synth_mux_write(const char *path, const synth_video *v, const float *pcm, int nsamples, int rate) {
    mux mm = {.path = path}, *m = &mm;
    int rc = write_all(m, v, pcm, nsamples, rate);
    if (m->oc && m->oc->pb) {
        int r = avio_closep(&m->oc->pb);
        if (r < 0 && rc == 0) rc = FAIL(path, "closing", r);
    }
    avcodec_free_context(&m->ac);
    av_frame_free(&m->af);
    av_packet_free(&m->pkt);
    avformat_free_context(m->oc);
    return rc;
}
