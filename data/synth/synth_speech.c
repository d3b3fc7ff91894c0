/* espeak-ng -> PCM + phone segments. espeak-ng reports each phoneme's start time
 * (audio_position, ms) in its events; a phone ends where the next event begins. */
#include "data/synth/synth_speech.h"
#include "data/synth/synth_phones.h"
#include "common/util.h"
#include <espeak-ng/speak_lib.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libswresample/swresample.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

static int es_rate;          /* espeak-ng's native rate (22050) */
static const char *es_data;  /* its data directory */

/* Collected by the callback during one espeak_Synth call. */
typedef struct { int pos_ms; char name[9]; } ph_event;
static struct {
    short *pcm; int n, cap;
    ph_event *ev; int nev, evcap;
} col;

static int on_synth(short *wav, int n, espeak_EVENT *ev) {
    if (n > 0) {
        if (col.n + n > col.cap) {
            col.cap = 2 * (col.n + n);
            col.pcm = xrealloc(col.pcm, (size_t)col.cap * sizeof *col.pcm);
        }
        memcpy(col.pcm + col.n, wav, (size_t)n * sizeof *wav);
        col.n += n;
    }
    for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
        if (ev->type != espeakEVENT_PHONEME) continue;
        if (col.nev == col.evcap)
            col.ev = xrealloc(col.ev, (size_t)(col.evcap = col.evcap ? 2 * col.evcap : 64) * sizeof *col.ev);
        col.ev[col.nev].pos_ms = ev->audio_position;
        memcpy(col.ev[col.nev].name, ev->id.string, 8);
        col.ev[col.nev].name[8] = 0;
        col.nev++;
    }
    return 0;
}

static int start_helper(void);

int synth_speech_init(void) {
    if (es_rate > 0) return 0;
    int r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                              espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_DONT_EXIT);
    if (r <= 0) return avm_fail("espeak-ng: initialisation failed (is espeak-ng-data installed?)");
    es_rate = r;
    espeak_Info(&es_data);
    espeak_SetSynthCallback(on_synth);
    return start_helper();
}

/* espeak_SetVoiceByName() also accepts partial matches ("klingon" selects
 * Greenlandic "kl"), so a voice must match a listed language, name or file exactly.
 * The list is read once and copied, and the parent never selects a voice: with one
 * espeak_ListVoices() + espeak_SetVoiceByName() per checked voice, the first phoneme
 * events of later utterances went missing (tests/synth/test_synth_corpus.sh caught it). */
static char **voice_names;
static int n_voice_names;

static void add_name(const char *s, int *cap) {
    if (n_voice_names == *cap) voice_names = xrealloc(voice_names, (size_t)(*cap = *cap ? 2 * *cap : 256) * sizeof *voice_names);
    voice_names[n_voice_names++] = xstrdup(s);
}

static int voice_listed(const char *name) {
    if (!voice_names) {
        int cap = 0;
        const espeak_VOICE **v = espeak_ListVoices(NULL);
        for (int i = 0; v && v[i]; i++) {
            if (v[i]->name) add_name(v[i]->name, &cap);
            if (v[i]->identifier) {
                add_name(v[i]->identifier, &cap);
                const char *id = strrchr(v[i]->identifier, '/');
                if (id) add_name(id + 1, &cap);
            }
            for (const char *l = v[i]->languages; l && *l; l += strlen(l + 1) + 2)   /* priority byte, name */
                add_name(l + 1, &cap);
        }
    }
    for (int i = 0; i < n_voice_names; i++)
        if (!strcasecmp(voice_names[i], name)) return 1;
    return 0;
}

int synth_voice_check(const char *accent, const char *variant) {
    if (synth_speech_init()) return -1;
    if (!voice_listed(accent))
        return avm_fail("unknown voice '%s' (espeak-ng has no such voice; see espeak-ng --voices=en)", accent);
    if (variant[0]) {
        /* espeak-ng silently ignores unknown variants, so look for the file */
        char *p = xasprintf("%s/voices/!v/%s", es_data ? es_data : "", variant);
        int ok = !strchr(variant, '/') && file_exists(p);
        free(p);
        if (!ok) return avm_fail("unknown voice variant '%s' (see %s/voices/!v/)", variant, es_data ? es_data : "espeak-ng-data");
    }
    return 0;
}

int synth_resample(const short *in, int n, int from_rate, int to_rate, float **out, int *nout) {
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    SwrContext *swr = NULL;
    int r = swr_alloc_set_opts2(&swr, &mono, AV_SAMPLE_FMT_FLT, to_rate, &mono, AV_SAMPLE_FMT_S16,
                                from_rate, 0, NULL);
    if (r < 0 || (r = swr_init(swr)) < 0) {
        swr_free(&swr);
        return avm_fail("libswresample: cannot resample %d -> %d Hz: %s", from_rate, to_rate, av_err2str(r));
    }
    int cap = (int)swr_get_out_samples(swr, n) + 64, got = 0;
    float *buf = xmalloc((size_t)cap * sizeof *buf);
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)buf;
    if ((r = swr_convert(swr, &dst, cap, &src, n)) < 0) goto fail;
    got = r;
    dst = (uint8_t *)(buf + got);
    if ((r = swr_convert(swr, &dst, cap - got, NULL, 0)) < 0) goto fail;   /* flush */
    got += r;
    swr_free(&swr);
    *out = buf;
    *nout = got;
    return 0;
fail:
    swr_free(&swr);
    free(buf);
    return avm_fail("libswresample: %s", av_err2str(r));
}

/* Sets the voice and speaks into col. */
static int speak_here(const synth_voice *v, const char *text) {
    char name[80];
    snprintf(name, sizeof name, v->variant[0] ? "%s+%s" : "%s", v->accent, v->variant);
    if (espeak_SetVoiceByName(name) != EE_OK) return avm_fail("unknown voice '%s'", name);
    if (espeak_SetParameter(espeakRATE, v->rate, 0) != EE_OK ||
        espeak_SetParameter(espeakPITCH, v->pitch, 0) != EE_OK ||
        espeak_SetParameter(espeakRANGE, v->range, 0) != EE_OK ||
        espeak_SetParameter(espeakWORDGAP, v->wordgap, 0) != EE_OK)
        return avm_fail("espeak-ng: cannot set voice parameters of '%s'", name);
    col.n = col.nev = 0;
    if (espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL) != EE_OK)
        return avm_fail("espeak-ng: synthesis failed for '%s'", text);
    if (col.n == 0) return avm_fail("espeak-ng: no audio for '%s'", text);
    return 0;
}

static int write_full(int fd, const void *p, size_t n) {
    for (const char *c = p; n > 0;) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w; n -= (size_t)w;
    }
    return 0;
}

static int read_full(int fd, void *p, size_t n) {
    for (char *c = p; n > 0;) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r; n -= (size_t)r;
    }
    return 0;
}

/* espeak-ng keeps state from one call to the next (wave generator phase, filter
 * memories), so the same sentence would sound slightly different depending on what
 * was spoken before. So every utterance is spoken by a process forked from the state
 * right after initialisation: a small helper, forked once after espeak_Initialize(),
 * forks one worker per request. (Forking the big generator process itself per
 * utterance costs a copy-on-write fault on every page it writes afterwards.) The
 * worker sends back status, samples and phoneme events; the helper exits when the
 * request pipe closes or a worker dies. */
static pid_t helper_pid;
static int req_fd = -1, resp_fd = -1;

typedef struct { synth_voice v; int textlen; } request;

static void worker(const request *rq, const char *text, int out) {
    int st = speak_here(&rq->v, text);
    char msg[512] = "";
    if (st) snprintf(msg, sizeof msg, "%s", avm_error());
    int bad = write_full(out, &st, sizeof st) ||
              (st ? write_full(out, msg, sizeof msg)
                  : write_full(out, &col.n, sizeof col.n) || write_full(out, &col.nev, sizeof col.nev) ||
                        write_full(out, col.pcm, (size_t)col.n * sizeof *col.pcm) ||
                        write_full(out, col.ev, (size_t)col.nev * sizeof *col.ev));
    _exit(bad);   /* no exit handlers or leak checks: they belong to the generator */
}

static _Noreturn void helper(int in, int out) {
    request rq;
    char *text = NULL;
    while (read_full(in, &rq, sizeof rq) == 0 && rq.textlen >= 0 && rq.textlen < (1 << 20)) {
        text = xrealloc(text, (size_t)rq.textlen + 1);
        if (read_full(in, text, (size_t)rq.textlen)) break;
        text[rq.textlen] = 0;
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) worker(&rq, text, out);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(status) || WEXITSTATUS(status)) break;   /* the reply may be partial */
    }
    _exit(0);
}

static int start_helper(void) {
    int rq[2], rs[2];
    if (pipe(rq)) return avm_fail("espeak-ng: pipe: %s", strerror(errno));
    if (pipe(rs)) { close(rq[0]); close(rq[1]); return avm_fail("espeak-ng: pipe: %s", strerror(errno)); }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(rq[0]); close(rq[1]); close(rs[0]); close(rs[1]);
        return avm_fail("espeak-ng: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(rq[1]);
        close(rs[0]);
        helper(rq[0], rs[1]);
    }
    close(rq[0]);
    close(rs[1]);
    helper_pid = pid;
    req_fd = rq[1];
    resp_fd = rs[0];
    return 0;
}

static int speak_isolated(const synth_voice *v, const char *text) {
    request rq;
    memset(&rq, 0, sizeof rq);
    rq.v = *v;
    rq.textlen = (int)strlen(text);
    if (write_full(req_fd, &rq, sizeof rq) || write_full(req_fd, text, (size_t)rq.textlen))
        return avm_fail("espeak-ng: the synthesis process has gone");
    int st = -1, n = 0, nev = 0;
    char msg[512];
    if (read_full(resp_fd, &st, sizeof st)) return avm_fail("espeak-ng: the synthesis process died");
    if (st) {
        if (read_full(resp_fd, msg, sizeof msg)) return avm_fail("espeak-ng: the synthesis process died");
        msg[sizeof msg - 1] = 0;
        return avm_fail("%s", msg);
    }
    if (read_full(resp_fd, &n, sizeof n) || read_full(resp_fd, &nev, sizeof nev) || n < 0 || nev < 0)
        return avm_fail("espeak-ng: the synthesis process died");
    if (n > col.cap) col.pcm = xrealloc(col.pcm, (size_t)(col.cap = n) * sizeof *col.pcm);
    if (nev > col.evcap) col.ev = xrealloc(col.ev, (size_t)(col.evcap = nev) * sizeof *col.ev);
    if (read_full(resp_fd, col.pcm, (size_t)n * sizeof *col.pcm) || read_full(resp_fd, col.ev, (size_t)nev * sizeof *col.ev))
        return avm_fail("espeak-ng: the synthesis process died");
    col.n = n;
    col.nev = nev;
    return 0;
}

int synth_speak(const synth_voice *v, const char *text, int rate, synth_audio *out) {
    memset(out, 0, sizeof *out);
    if (synth_speech_init()) return -1;
    if (speak_isolated(v, text)) return -1;
    if (synth_resample(col.pcm, col.n, es_rate, rate, &out->pcm, &out->n)) return -1;
    out->rate = rate;
    double dur = (double)col.n / es_rate;
    out->seg = xmalloc((size_t)(col.nev + 1) * sizeof *out->seg);
    /* espeak-ng occasionally reports a phoneme a few ms before its predecessor */
    for (int i = 1; i < col.nev; i++)
        if (col.ev[i].pos_ms < col.ev[i - 1].pos_ms) col.ev[i].pos_ms = col.ev[i - 1].pos_ms;
    for (int i = 0; i < col.nev; i++) {
        int id = synth_phone_from_espeak(col.ev[i].name);
        if (id == -2) {
            synth_audio_free(out);
            return avm_fail("espeak-ng phoneme '%s' (in '%s') has no phone in the phone set", col.ev[i].name, text);
        }
        if (id == SYNTH_SIL) continue;
        double s = col.ev[i].pos_ms / 1000.0;
        double e = i + 1 < col.nev ? col.ev[i + 1].pos_ms / 1000.0 : dur;
        if (e > dur) e = dur;
        if (s > e) s = e;
        out->seg[out->nseg++] = (synth_seg){id, s, e};
    }
    return 0;
}

void synth_audio_free(synth_audio *a) {
    free(a->pcm);
    free(a->seg);
    memset(a, 0, sizeof *a);
}

void synth_speech_close(void) {
    if (req_fd >= 0) close(req_fd);
    if (resp_fd >= 0) close(resp_fd);
    if (helper_pid > 0) while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR) {}
    req_fd = resp_fd = -1;
    helper_pid = 0;
    if (es_rate > 0) espeak_Terminate();
    for (int i = 0; i < n_voice_names; i++) free(voice_names[i]);
    free(voice_names);
    voice_names = NULL;
    n_voice_names = 0;
    es_rate = 0;
    free(col.pcm);
    free(col.ev);
    memset(&col, 0, sizeof col);
}
