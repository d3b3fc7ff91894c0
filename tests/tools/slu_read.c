/* slu_read: reads a data dir's spoken-language-understanding files through data/slu.h, as
 * the tasks that train on them will: the intent list, `intent` for every utterance of the
 * data dir, and every menuN file; prints "utterances N intents K menus A,B,.." (the
 * intents used, the utterances of each menu file). A refused file: its one-line error,
 * exit 1. */
#include "common/opts.h"
#include "common/util.h"
#include "data/datadir.h"
#include "data/slu.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static const avm_optdef table[] = {{.type = OPT_END}};
static const avm_optspec spec = {"slu_read", "usage: slu_read DATADIR INTENTS\n", table, "DATADIR INTENTS", NULL};

int main(int argc, char **argv) {
    avm_opts o;
    opts_parse(&o, &spec, NULL, argc, argv);
    if (o.npos != 2) avm_die("usage: slu_read DATADIR INTENTS");
    const char *dir = o.pos[0];
    avm_datadir d;
    avm_intents l;
    if (datadir_read(&d, dir) || intents_read(&l, o.pos[1])) avm_die("%s", avm_error());
    char **utts = xmalloc((size_t)d.n * sizeof *utts);
    int *label = xmalloc((size_t)d.n * sizeof *label), *used = xcalloc((size_t)l.n, sizeof *used), k = 0;
    for (int i = 0; i < d.n; i++) utts[i] = d.u[i].id;
    char *path = path_join(dir, "intent");
    if (intent_read(path, &l, utts, d.n, label)) avm_die("%s", avm_error());
    free(path);
    for (int i = 0; i < d.n; i++) k += !used[label[i]]++;
    printf("utterances %d intents %d menus", d.n, k);
    DIR *dd = opendir(dir);
    struct dirent *e;
    const char *sep = " ";
    while (dd && (e = readdir(dd))) {
        if (strncmp(e->d_name, "menu", 4)) continue;
        avm_menus m;
        path = path_join(dir, e->d_name);
        if (menus_read(&m, path)) avm_die("%s", avm_error());
        printf("%s%s=%d", sep, e->d_name, m.n);
        sep = ",";
        menus_free(&m);
        free(path);
    }
    if (dd) closedir(dd);
    printf("\n");
    intents_free(&l);
    datadir_free(&d);
    free(utts); free(label); free(used);
    opts_free(&o);
    return 0;
}
