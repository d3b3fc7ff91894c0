/* avmask-media: the subcommands that decode or write media (FFmpeg, espeak-ng, flite).
 * avmask runs this binary for them with its own arguments (avmask.c, run_media), so that
 * the libraries they need are loaded only when they are used. */
#include <stdio.h>
#include <string.h>

typedef int (*cmd_fn)(int argc, char **argv);

int cmd_synth(int argc, char **argv);
int cmd_synth_slu(int argc, char **argv);
int cmd_extract(int argc, char **argv);

static const struct { const char *name; cmd_fn fn; } commands[] = {
    {"synth", cmd_synth},
    {"synth-slu", cmd_synth_slu},
    {"extract", cmd_extract},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    for (int i = 0; argc >= 2 && commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "avmask-media: runs synth, synth-slu and extract for avmask: use 'avmask %s'\n",
            argc >= 2 ? argv[1] : "--help");
    return 2;
}
