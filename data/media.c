/* media_decode: open a file with libavformat, pick the best audio and video streams,
 * decode them with libavcodec (one thread each: parallelism comes from running jobs in
 * parallel) and hand the frames to media_audio.c and media_video.c.
 *
 * The shared clock: origin = the earliest start_time of the two chosen streams (the
 * video stream counts even when want_video == 0, so the audio lands on the same clock
 * either way), plus the segment start. This is the ffmpeg CLI's convention (it subtracts
 * the file's start time), so `ffmpeg -i X ...` outputs line up with ours. Audio sample i
 * is at origin + i / sample_rate and video frame k at origin + video_start + k / fps. */
#include "data/media_internal.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "common/util.h"

#define PREROLL_US 500000   /* seek this far before a segment so decoders settle */
#define MIN_AUDIO_S 0.1     /* a file that breaks off mid-way must give at least this */
/* Segment times beyond ~32 years are past the end of any recording. Bounding them keeps
 * every count derived from a time (microseconds, samples, frames, stream ticks) far
 * below int64 overflow. */
#define MAX_TIME_S 1e9
#define MAX_COUNT ((int64_t)1 << 62)

/* round(s * rate) for a time in seconds, clamped to [0, MAX_COUNT] so that sums of such
 * counts cannot overflow (llround of an out-of-range double is undefined). */
static int64_t time_count(double s, double rate) {
    double x = s * rate;
    if (!(x > 0)) return 0;
    return x < (double)MAX_COUNT ? llround(x) : MAX_COUNT;
}

/* FFmpeg's own messages are not printed (one line per failure is ours to write); the
 * last error line is kept to make our reason more specific. AVMASK_FFMPEG_LOG=1 shows
 * them for debugging. */
static _Thread_local char last_log[256];
static int show_ffmpeg_log;

static void log_callback(void *avcl, int level, const char *fmt, va_list vl) {
    if (show_ffmpeg_log) {
        va_list copy;
        va_copy(copy, vl);
        av_log_default_callback(avcl, level, fmt, copy);
        va_end(copy);
    }
    if (level > AV_LOG_ERROR) return;
    int prefix = 0;
    char line[sizeof last_log];
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = 0;
    if (n) memcpy(last_log, line, n + 1);
}

static void init_once(void) {
    show_ffmpeg_log = getenv("AVMASK_FFMPEG_LOG") && atoi(getenv("AVMASK_FFMPEG_LOG")) > 0;
    av_log_set_callback(log_callback);
}

int media_ff_fail(const media_ctx *c, const char *what, int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(err, buf, sizeof buf);
    if (last_log[0] && strcmp(last_log, buf))
        return avm_fail("%s: %s: %s (%s)", c->path, what, buf, last_log);
    return avm_fail("%s: %s: %s", c->path, what, buf);
}

void media_default_opts(avm_media_opts *o) {
    memset(o, 0, sizeof *o);
    o->sample_rate = 16000;
    o->want_video = 1;
    o->width = o->height = 32;
    o->fps = 25;
}

void media_free(avm_media *m) {
    free(m->pcm);
    free(m->frames);
    memset(m, 0, sizeof *m);
}

static int check_opts(const char *path, const avm_media_opts *o) {
    if (o->sample_rate <= 0 || o->fps <= 0 || o->width <= 0 || o->height <= 0)
        return avm_fail("%s: bad decode options (rate %d, fps %g, size %dx%d)", path,
                        o->sample_rate, o->fps, o->width, o->height);
    if (!isfinite(o->start) || !isfinite(o->end) || o->start < 0 || (o->end > 0 && o->end <= o->start))
        return avm_fail("%s: bad segment %g..%g s", path, o->start, o->end);
    if (o->start > MAX_TIME_S)
        return avm_fail("%s: segment start %g s is past the end of any recording", path, o->start);
    return 0;
}

/* A clearer reason than FFmpeg's for the common cases: missing, empty, a directory. */
static int check_file(const char *path) {
    struct stat sb;
    if (stat(path, &sb) < 0) return avm_fail("%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return avm_fail("%s: is a directory", path);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0) return avm_fail("%s: empty file", path);
    return 0;
}

static int open_decoder(media_ctx *c, int idx, AVCodecContext **out) {
    AVStream *st = c->fmt->streams[idx];
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec)
        return avm_fail("%s: no decoder for %s stream %d (codec %s)", c->path,
                        av_get_media_type_string(st->codecpar->codec_type), idx,
                        avcodec_get_name(st->codecpar->codec_id));
    AVCodecContext *d = avcodec_alloc_context3(codec);
    if (!d) return media_ff_fail(c, "avcodec_alloc_context3", AVERROR(ENOMEM));
    *out = d;
    int ret = avcodec_parameters_to_context(d, st->codecpar);
    if (ret < 0) return media_ff_fail(c, "avcodec_parameters_to_context", ret);
    d->pkt_timebase = st->time_base;
    d->thread_count = 1;
    if ((ret = avcodec_open2(d, codec, NULL)) < 0)
        return media_ff_fail(c, "cannot open decoder", ret);
    return 0;
}

/* Chooses streams and the clock origin (microseconds, segment start included). */
static int choose_streams(media_ctx *c, int64_t *origin_us) {
    AVFormatContext *fmt = c->fmt;
    c->a_idx = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (c->a_idx == AVERROR_STREAM_NOT_FOUND) return avm_fail("%s: no audio stream", c->path);
    if (c->a_idx < 0) return media_ff_fail(c, "av_find_best_stream", c->a_idx);
    int v = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (v >= 0 && (fmt->streams[v]->disposition & AV_DISPOSITION_ATTACHED_PIC)) v = -1;
    c->v_idx = c->o->want_video ? v : -1;
    int64_t t0 = AV_NOPTS_VALUE;
    int cand[2] = {c->a_idx, v};
    for (int i = 0; i < 2; i++) {
        if (cand[i] < 0) continue;
        AVStream *st = fmt->streams[cand[i]];
        if (st->start_time == AV_NOPTS_VALUE) continue;
        int64_t t = av_rescale_q(st->start_time, st->time_base, AV_TIME_BASE_Q);
        if (t0 == AV_NOPTS_VALUE || t < t0) t0 = t;
    }
    if (t0 == AV_NOPTS_VALUE) t0 = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time : 0;
    if (t0 > MAX_COUNT || t0 < -MAX_COUNT) t0 = 0;   /* a bogus start time: count from 0 */
    *origin_us = t0 + time_count(c->o->start, 1e6);
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != c->a_idx && (int)i != c->v_idx) fmt->streams[i]->discard = AVDISCARD_ALL;
    return 0;
}

/* Seconds of media to expect (segment length, else the container's duration), capped so
 * that bogus metadata cannot reserve much: buffers are sized once instead of regrown. */
static double expected_seconds(const media_ctx *c) {
    double left = c->fmt->duration > 0 ? c->fmt->duration / (double)AV_TIME_BASE - c->o->start : INFINITY;
    double s = c->o->end > 0 ? fmin(c->o->end - c->o->start, left) : isfinite(left) ? left : 0;
    return s > 0 ? (s < 4 * 3600 ? s : 4 * 3600) : 0;
}

static int setup_audio(media_ctx *c, int64_t origin_us) {
    AVStream *st = c->fmt->streams[c->a_idx];
    if (open_decoder(c, c->a_idx, &c->a_dec) < 0) return -1;
    c->a_tb = st->time_base;
    c->a_off = av_rescale_q(origin_us, AV_TIME_BASE_Q, c->a_tb);
    c->a_max = c->o->end > 0 ? time_count(c->o->end - c->o->start, c->m->sample_rate) : INT64_MAX;
    c->a_cap = time_count(expected_seconds(c) + 1, c->m->sample_rate);
    c->m->pcm = xmalloc((size_t)c->a_cap * sizeof(float));
    return 0;
}

static int setup_video(media_ctx *c, int64_t origin_us) {
    AVStream *st = c->fmt->streams[c->v_idx];
    if (open_decoder(c, c->v_idx, &c->v_dec) < 0) return -1;
    c->v_tb = st->time_base;
    c->v_off = av_rescale_q(origin_us, AV_TIME_BASE_Q, c->v_tb);
    c->v_slot = av_inv_q(av_d2q(c->o->fps, 1000000));
    /* A frame without a duration lasts one nominal frame (what the ffmpeg CLI assumes). */
    AVRational rate = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
    c->v_default_dur = rate.num > 0 && rate.den > 0 ? av_rescale_q(1, av_inv_q(rate), c->v_tb) : 0;
    c->v_max = c->o->end > 0 ? time_count(c->o->end - c->o->start, c->o->fps) : INT64_MAX;
    c->v_cap = time_count(expected_seconds(c) + 1, c->o->fps);
    c->m->frames = xmalloc((size_t)c->v_cap * c->m->width * c->m->height);
    c->pend = av_frame_alloc();
    if (!c->pend) return media_ff_fail(c, "av_frame_alloc", AVERROR(ENOMEM));
    c->pend_out = -1;
    return 0;
}

/* Takes every frame the decoder has ready and passes it on. A decoding error is kept
 * in *dec_err and ends this round (the next packet may decode again). */
static int receive_all(media_ctx *c, AVCodecContext *dec, int *dec_err) {
    for (;;) {
        int ret = avcodec_receive_frame(dec, c->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return 0;
        if (ret == AVERROR(ENOMEM)) return media_ff_fail(c, "decoding", ret);
        if (ret < 0) { *dec_err = ret; return 0; }
        int r = dec == c->a_dec ? audio_frame(c, c->frame) : video_frame(c, c->frame);
        av_frame_unref(c->frame);
        if (r < 0) return -1;
    }
}

/* Sends one packet (NULL: drain) and passes every frame on. A packet the decoder
 * rejects is skipped (as the ffmpeg CLI does); its error is kept in *dec_err. */
static int decode(media_ctx *c, AVCodecContext *dec, const AVPacket *pkt, int *dec_err) {
    int ret = avcodec_send_packet(dec, pkt);
    if (ret == AVERROR(EAGAIN)) {   /* frames left over after an error: take them first */
        if (receive_all(c, dec, dec_err) < 0) return -1;
        ret = avcodec_send_packet(dec, pkt);
    }
    if (ret == AVERROR(ENOMEM)) return media_ff_fail(c, "decoding", ret);
    if (ret < 0 && ret != AVERROR_EOF) *dec_err = ret;
    return receive_all(c, dec, dec_err);
}

/* Reads packets until both streams are done or the input ends. A read error ends the
 * input like EOF (a truncated file keeps what decoded); it is returned in *read_err. */
static int demux(media_ctx *c, int *read_err, int *dec_err) {
    AVPacket *pkt = av_packet_alloc();
    if (!pkt) return media_ff_fail(c, "av_packet_alloc", AVERROR(ENOMEM));
    int ret = 0;
    while (!c->a_done || (c->v_dec && !c->v_done)) {
        int r = av_read_frame(c->fmt, pkt);
        if (r == AVERROR_EOF) break;
        if (r < 0) { *read_err = r; break; }
        if (pkt->stream_index == c->a_idx && !c->a_done)
            ret = decode(c, c->a_dec, pkt, dec_err);
        else if (pkt->stream_index == c->v_idx && !c->v_done)
            ret = decode(c, c->v_dec, pkt, dec_err);
        av_packet_unref(pkt);
        if (ret < 0) break;
    }
    av_packet_free(&pkt);
    if (ret < 0) return -1;
    if (!c->a_done && (decode(c, c->a_dec, NULL, dec_err) < 0 || audio_finish(c) < 0)) return -1;
    if (c->v_dec && !c->v_done && (decode(c, c->v_dec, NULL, dec_err) < 0 || video_finish(c) < 0))
        return -1;
    return 0;
}

static int run(media_ctx *c) {
    int ret = avformat_open_input(&c->fmt, c->path, NULL, NULL);
    if (ret < 0) return media_ff_fail(c, "cannot open as media", ret);
    if ((ret = avformat_find_stream_info(c->fmt, NULL)) < 0)
        return media_ff_fail(c, "cannot read stream info", ret);
    int64_t origin_us = 0;
    if (choose_streams(c, &origin_us) < 0 || setup_audio(c, origin_us) < 0) return -1;
    if (c->v_idx >= 0 && setup_video(c, origin_us) < 0) return -1;
    if (!(c->frame = av_frame_alloc())) return media_ff_fail(c, "av_frame_alloc", AVERROR(ENOMEM));
    /* A segment: seek back to a keyframe before its start; frames before the start are
     * then dropped by position. If the format cannot seek, decode from the beginning. */
    if (c->o->start > 0) {
        ret = av_seek_frame(c->fmt, -1, origin_us - PREROLL_US, AVSEEK_FLAG_BACKWARD);
        if (ret < 0) last_log[0] = 0;   /* not seekable: fall back to reading from the start */
    }
    int read_err = 0, dec_err = 0;
    if (demux(c, &read_err, &dec_err) < 0) return -1;
    int err = read_err ? read_err : dec_err;
    if (err && c->a_real < MIN_AUDIO_S * c->m->sample_rate) {
        char what[96];
        snprintf(what, sizeof what, "truncated or corrupt after %.2f s of audio",
                 (double)c->a_real / c->m->sample_rate);
        return media_ff_fail(c, what, err);
    }
    if (c->a_real == 0 && (c->o->start > 0 || c->o->end > 0))
        return avm_fail("%s: no audio in the segment %g..%g s", c->path, c->o->start, c->o->end);
    if (c->a_real == 0) return avm_fail("%s: no audio decoded", c->path);
    avm_media *m = c->m;
    m->has_audio = 1;
    m->has_video = m->n_frames > 0;
    return 0;
}

int media_decode(const char *path, const avm_media_opts *o, avm_media *m) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
    last_log[0] = 0;
    memset(m, 0, sizeof *m);
    m->sample_rate = o->sample_rate;
    m->width = o->width;
    m->height = o->height;
    m->fps = o->fps;
    if (check_opts(path, o) < 0 || check_file(path) < 0) return -1;
    avm_media_opts oo = *o;
    if (oo.end > MAX_TIME_S) oo.end = 0;   /* past any recording: to the end of the file */
    media_ctx c = {.path = path, .o = &oo, .m = m, .a_idx = -1, .v_idx = -1};
    int ret = run(&c);
    audio_free(&c);
    video_free(&c);
    av_frame_free(&c.frame);
    avcodec_free_context(&c.a_dec);
    avcodec_free_context(&c.v_dec);
    avformat_close_input(&c.fmt);
    if (ret < 0) media_free(m);
    return ret;
}
