/* Writes synthetic utterances as MP4: H.264 video (libx264, one thread, fixed
 * preset) and AAC audio (FFmpeg's native encoder), muxed with libavformat in
 * bit-exact mode, so that the same input gives the same bytes. The video of an
 * utterance is encoded once and muxed with each of its audio versions. */
#ifndef AVMASK_SYNTH_MUX_H
#define AVMASK_SYNTH_MUX_H
#include <stdint.h>

typedef struct {
    const uint8_t *yuv;   /* nframes frames of YUV 4:2:0, each size*size*3/2 bytes */
    int nframes, size, fps;
    int crf;              /* x264 constant rate factor (quality; lower is better) */
} synth_frames;

typedef struct synth_video synth_video;   /* encoded H.264 packets */

/* Encodes frames; 0 or -1 + avm_fail(name: reason). */
int  synth_video_encode(const synth_frames *f, const char *name, synth_video **out);
void synth_video_free(synth_video **v);

/* Writes path: the video v and pcm (mono, [-1, 1]) encoded as AAC at rate. 0, or
 * -1 + avm_fail("<path>: <reason>"). */
int synth_mux_write(const char *path, const synth_video *v, const float *pcm, int nsamples, int rate);
#endif
