/* `avmask info FEATS`: what a feature dir holds, from index.tsv, the first shard's
 * configuration, cmvn.h5 and extract.err. */
#include "common/log.h"
#include "common/opts.h"
#include "common/util.h"
#include "data/extract.h"
#include "data/shard.h"
#include <glob.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int failures; } info_opts;

static const avm_optdef table[] = {
    {OPT_INT, "failures", OPT_FIELD(info_opts, failures), .def = "5", .lo = 0, .hi = 1000000,
     .help = "failed utterances to list (0: none)"},
    OPT_THREADS("accepted by every command; info runs on one core"),
    {.type = OPT_END},
};

static const avm_optspec info_optspec = {
    "info",
    "usage: avmask info FEATS\n"
    "Summarises a feature dir written by 'avmask extract': utterances, hours, frames,\n"
    "dimensions, feature configuration, failures (extract.err) and shards.\n",
    table, "FEATS", NULL,
};

static int count_shards(const char *dir) {
    char *pat = path_join(dir, "shard-*.h5");
    glob_t g;
    int n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    if (n) globfree(&g);
    free(pat);
    return n;
}

/* Prints the count of extract.err lines and the first `show` of them. */
static void print_failures(const char *dir, int show) {
    char *p = path_join(dir, "extract.err");
    char *text = file_exists(p) ? read_file(p, NULL) : NULL;
    int n = 0;
    for (char *s = text; s && *s; s++) n += *s == '\n';
    printf("failures:     %d%s\n", n, text ? " (extract.err)" : " (no extract.err)");
    char *line = text;
    for (int i = 0; i < show && line && *line; i++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        printf("  %s\n", line);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    free(p);
}

int cmd_info(int argc, char **argv) {
    avm_opts o;
    info_opts io;
    opts_parse(&o, &info_optspec, &io, argc, argv);
    int show = io.failures;
    opts_threads(&o);
    if (o.npos != 1) avm_die("info: expected one feature dir (see --help)");
    const char *dir = o.pos[0];
    avm_feats fe;
    if (feats_open(&fe, dir)) avm_die("info: %s", avm_error());
    long long af = 0, vf = 0, with_video = 0;
    for (int i = 0; i < fe.n; i++) {
        af += fe.e[i].a_frames;
        vf += fe.e[i].v_frames;
        with_video += fe.e[i].v_frames > 0;
    }
    printf("feature dir:  %s\n", dir);
    printf("utterances:   %d (%lld with video)\n", fe.n, with_video);
    printf("hours:        %.3f\n", af / (double)AUDIO_FPS / 3600.0);
    printf("audio frames: %lld (fbank, %d mel bins, %d per second)\n", af, fe.n_mels, AUDIO_FPS);
    if (fe.has_video) printf("video frames: %lld (%dx%d gray)\n", vf, fe.width, fe.height);
    else printf("video frames: none (audio-only shards)\n");
    printf("shards:       %d files\n", count_shards(dir));
    char *cp = path_join(dir, "cmvn.h5");
    avm_cmvn cm;
    if (cmvn_read(cp, &cm) == 0) {
        printf("cmvn:         %.0f frames, mean[0] %.4f var[0] %.4f; pixels mean %.2f std %.2f\n", cm.count,
               cm.dim ? cm.mean[0] : 0, cm.dim ? cm.var[0] : 0, cm.pix_mean, cm.pix_std);
        cmvn_free(&cm);
    } else {
        printf("cmvn:         unreadable (%s)\n", avm_error());
    }
    free(cp);
    print_failures(dir, show);
    printf("config:       %s\n", fe.config_json);
    feats_close(&fe);
    opts_free(&o);
    return 0;
}
