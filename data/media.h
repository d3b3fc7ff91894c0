/* Decoding one media file (any container/codec FFmpeg reads) into what extraction
 * needs: 16 kHz mono float PCM (libswresample) and grayscale HxW video frames
 * (libswscale) resampled to a constant token rate by presentation timestamp.
 * Both streams share one clock: time 0 is the earliest start of the two streams, so
 * an audio stream that starts later than the video begins with silence-padding
 * (audio_start > 0 says so) rather than being shifted. */
#ifndef AVMASK_MEDIA_H
#define AVMASK_MEDIA_H
#include <stdint.h>

typedef struct {
    int sample_rate;        /* output audio rate, default 16000 */
    int want_video;         /* decode the video stream if there is one */
    int width, height;      /* output frame size, default 32x32 */
    double fps;             /* output frame rate, default 25 */
    int crop[4];            /* x, y, w, h in source pixels; w == 0: full frame */
    double start, end;      /* segment in seconds; end <= 0: to the end of file */
} avm_media_opts;

typedef struct {
    float *pcm;             /* [n_samples] mono, range [-1, 1] */
    int64_t n_samples;
    int sample_rate;
    uint8_t *frames;        /* [n_frames, height, width] grayscale, row-major */
    int n_frames, width, height;
    double fps;
    int has_audio, has_video;
    double audio_start;     /* seconds of the first decoded audio sample on the shared clock */
    double video_start;     /* seconds of the first output video frame */
    int src_sample_rate, src_channels;   /* what the file had (for info/logs) */
} avm_media;

void media_default_opts(avm_media_opts *o);
/* Decodes path. 0 on success; -1 and avm_fail("<path>: <reason>") when the file is
 * missing, not media, truncated beyond use, has no audio stream, or any FFmpeg call
 * fails. A file without a video stream succeeds with has_video = 0. */
int  media_decode(const char *path, const avm_media_opts *o, avm_media *m);
void media_free(avm_media *m);
#endif
