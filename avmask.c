/* avmask: the subcommand table; nothing else. Each subcommand lives in its folder
 * (data/, train/, eval/) as cmd_<name>(argc, argv) with argv[0] = the name. */
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common/ompenv.h"
#include "common/version.h"
#include "models/blas_kernel.h"

typedef int (*cmd_fn)(int argc, char **argv);

/* One declaration and one table row per subcommand. */
int cmd_eval(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_finetune(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_pretrain(int argc, char **argv);
int cmd_kmeans(int argc, char **argv);
int cmd_textlm(int argc, char **argv);
int cmd_s2i(int argc, char **argv);
int cmd_tinys2i(int argc, char **argv);

/* omp: the command runs long OpenMP-parallel loops and BLAS, so it gets the passive wait
 * policy (common/ompenv.h) and the CPU's BLAS kernel (models/blas_kernel.h); the others skip
 * the re-execution that costs one more start-up. fn NULL: the command is in avmask-media
 * (avmask_media.c), which this binary runs for it. */
static const struct { const char *name; cmd_fn fn; int omp; const char *what; } commands[] = {
    {"synth", NULL, 0, "generate the synthetic audio-visual corpus (speech, talking face, noise)"},
    {"synth-slu", NULL, 0, "generate the spoken-command corpus (intents, slots, titles; espeak-ng + flite)"},
    {"extract", NULL, 0, "media files of a data dir -> feature shards (HDF5), index.tsv, cmvn.h5"},
    {"info", cmd_info, 0, "summary of a feature dir written by extract"},
    {"kmeans", cmd_kmeans, 1, "k-means codebook of token features (HuBERT targets); --apply writes label shards"},
    {"pretrain", cmd_pretrain, 1, "masked audio-visual pretraining -> checkpoints, metrics.jsonl"},
    {"export", cmd_export, 0, "audio branch of a checkpoint -> audio_encoder.h5, model.safetensors, config.json"},
    {"finetune", cmd_finetune, 1, "CTC fine-tuning of an exported audio encoder"},
    {"decode", cmd_decode, 1, "greedy CTC decoding of a feature dir -> hyp"},
    {"eval", cmd_eval, 0, "error rates (PER/CER/WER) of hypotheses, by condition"},
    {"report", cmd_report, 0, "experiment table and plots (Markdown + HTML)"},
    {"textlm", cmd_textlm, 1, "text encoder (BERT stand-in): MLM training; --embed writes sentence embeddings"},
    {"s2i", cmd_s2i, 1, "intent classification from speech on an exported encoder (+ cross-modal text loss)"},
    {"tinys2i", cmd_tinys2i, 1, "TinyS2I: tiny on-device model, commands + menu titles by a jointly trained title encoder"},
    {NULL, NULL, 0, NULL},
};

static void usage(FILE *f) {
    fprintf(f, "avmask %s: audio-visual masked-feature pretraining for ASR\n\n"
               "usage: avmask <command> [--key=value ...] [--config=FILE]\n\ncommands:\n",
            AVMASK_VERSION);
    for (int i = 0; commands[i].name; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "\n'avmask <command> --help' describes a command's options; 'avmask --system' names the\n"
               "CPU, its vector ISA, the BLAS kernel in use and the thread count.\n");
}

/* The commands that decode or write media need FFmpeg's codecs, espeak-ng and flite: about
 * 130 shared libraries, which made every start-up 4x longer (0.115 s against 0.03 s,
 * docs/timings.md) while no other command uses them. They are linked into avmask-media beside this binary, run with the same
 * arguments. Returns only if that fails. */
static int run_media(char **argv) {
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
    if (n > 0) path[n] = '\0';
    char *slash = n > 0 ? strrchr(path, '/') : NULL;
    if (!slash) { fprintf(stderr, "avmask: cannot find my own path in /proc/self/exe\n"); return 1; }
    strcpy(slash + 1, "avmask-media");
    argv[0] = path;
    execv(path, argv);
    fprintf(stderr, "avmask: cannot run %s for '%s': %s (make builds it beside avmask)\n", path, argv[1],
            strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("avmask %s\n", AVMASK_VERSION); return 0; }
    if (!strcmp(argv[1], "--system")) {
        if (blas_kernel_select()) env_reexec(argv);
        char line[1024];
        blas_kernel_describe(line, sizeof line, omp_get_max_threads());
        printf("avmask %s: %s\n", AVMASK_VERSION, line);
        return 0;
    }
    for (int i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            if (!commands[i].fn) return run_media(argv);
            if (commands[i].omp && (ompenv_set_passive() | blas_kernel_select())) env_reexec(argv);
            return commands[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "avmask: unknown command '%s' (see avmask --help)\n", argv[1]);
    return 2;
}
