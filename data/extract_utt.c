/* One utterance: decode, fbank, and align the two streams to whole tokens. */
#include "data/extract.h"
#include "common/json.h"
#include "common/util.h"
#include "data/media.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

int extract_stack(const extract_cfg *c) {
    double s = AUDIO_FPS / c->fps;
    int k = (int)lround(s);
    return k >= 1 && fabs(s - k) < 1e-9 ? k : -1;
}

char *extract_config_json(const extract_cfg *c, const avm_datadir *d) {
    avm_fbank_opts fo;
    fbank_default_opts(&fo);
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "sample_rate"); jw_int(&w, fo.sample_rate);
    jw_key(&w, "channels"); jw_int(&w, 1);
    jw_key(&w, "fbank"); jw_obj_begin(&w);
    jw_key(&w, "n_mels"); jw_int(&w, c->n_mels);
    jw_key(&w, "frame_length_ms"); jw_num(&w, fo.frame_length_ms);
    jw_key(&w, "frame_shift_ms"); jw_num(&w, fo.frame_shift_ms);
    jw_key(&w, "low_freq"); jw_num(&w, fo.low_freq);
    jw_key(&w, "high_freq"); jw_num(&w, fo.high_freq);
    jw_key(&w, "preemph"); jw_num(&w, fo.preemph);
    jw_key(&w, "remove_dc"); jw_bool(&w, fo.remove_dc);
    jw_key(&w, "snip_edges"); jw_bool(&w, fo.snip_edges);
    jw_key(&w, "use_log"); jw_bool(&w, fo.use_log);
    jw_key(&w, "use_power"); jw_bool(&w, fo.use_power);
    jw_key(&w, "energy_floor"); jw_num(&w, fo.energy_floor);
    jw_key(&w, "window"); jw_str(&w, "povey");
    jw_key(&w, "dither"); jw_num(&w, 0);
    jw_key(&w, "pcm_scale"); jw_num(&w, 32768);
    jw_obj_end(&w);
    jw_key(&w, "video"); jw_obj_begin(&w);
    jw_key(&w, "enabled"); jw_bool(&w, !c->no_video && !d->audio_only);   /* wav.scp: audio-only */
    jw_key(&w, "width"); jw_int(&w, c->width);
    jw_key(&w, "height"); jw_int(&w, c->height);
    jw_key(&w, "fps"); jw_num(&w, c->fps);
    jw_key(&w, "format"); jw_str(&w, "gray8");
    jw_key(&w, "crop"); jw_str(&w, d->has_crops ? "per-utterance box from crops (x y w h), else full frame" : "full frame");
    jw_obj_end(&w);
    jw_key(&w, "audio_frames_per_second"); jw_int(&w, AUDIO_FPS);
    jw_key(&w, "audio_frames_per_video_frame"); jw_int(&w, extract_stack(c));
    jw_key(&w, "alignment"); jw_str(&w, "streams trimmed to whole tokens of the shorter one");
    jw_key(&w, "source"); jw_str(&w, d->audio_only ? "wav.scp" : "media.scp");
    jw_key(&w, "segments"); jw_bool(&w, d->has_segments);
    jw_obj_end(&w);
    return b.s;
}

void utt_feats_free(utt_feats *f) {
    free(f->fbank);
    free(f->video);
    free(f->error);
    memset(f, 0, sizeof *f);
}

/* The reason without the "<path>: " prefix media_decode puts in front. */
static char *reason_of(const char *err, const char *path) {
    size_t n = strlen(path);
    if (!strncmp(err, path, n) && err[n] == ':' && err[n + 1] == ' ') err += n + 2;
    return xstrdup(err);
}

/* Token alignment. With video: video frame k (at video_start + k/fps on the shared clock)
 * pairs with audio frames off+stack*k .. off+stack*k+stack-1, where off is the audio frame
 * at video_start; both are cut to the tokens they share. Audio only: whole tokens. */
static void align(const extract_cfg *c, const avm_media *m, int has_video, const float *fb, int64_t na,
                  utt_feats *out) {
    int stack = extract_stack(c);
    int64_t off = 0, tokens;
    int use_video = has_video && m->has_video && m->n_frames > 0;
    if (use_video) {
        off = llround(m->video_start * AUDIO_FPS);
        if (off < 0) off = 0;
        int64_t ta = na > off ? (na - off) / stack : 0;
        tokens = ta < m->n_frames ? ta : m->n_frames;
    } else {
        tokens = na / stack;
    }
    out->a_frames = tokens * stack;
    out->fbank = xmalloc(sizeof(float) * (out->a_frames * c->n_mels + 1));
    if (out->a_frames) memcpy(out->fbank, fb + off * c->n_mels, sizeof(float) * out->a_frames * c->n_mels);
    if (use_video) {
        size_t fsz = (size_t)m->width * m->height;
        out->v_frames = tokens;
        out->video = xmalloc(fsz * tokens + 1);
        memcpy(out->video, m->frames, fsz * tokens);
    }
}

void extract_utt(const extract_cfg *c, const avm_fbank *fb, int has_video, const avm_utt *u, utt_feats *out) {
    memset(out, 0, sizeof *out);
    avm_media_opts mo;
    media_default_opts(&mo);
    mo.want_video = has_video;
    mo.width = c->width;
    mo.height = c->height;
    mo.fps = c->fps;
    memcpy(mo.crop, u->crop, sizeof mo.crop);
    mo.start = u->start;
    mo.end = u->end;
    avm_media m;
    if (media_decode(u->path, &mo, &m)) {
        out->error = reason_of(avm_error(), u->path);
        return;
    }
    int64_t na = fbank_num_frames(fb, m.n_samples);
    float *feats = xmalloc(sizeof(float) * (na * c->n_mels + 1));
    fbank_compute_pcm(fb, m.pcm, m.n_samples, feats);
    out->seconds = m.sample_rate > 0 ? (double)m.n_samples / m.sample_rate : 0;
    align(c, &m, has_video, feats, na, out);
    if (out->a_frames == 0) {
        int64_t nv = m.has_video ? m.n_frames : 0;
        utt_feats_free(out);
        out->error = xasprintf("too short: %lld audio frames, %lld video frames, no whole token", (long long)na,
                               (long long)nv);
    }
    free(feats);
    media_free(&m);
}
