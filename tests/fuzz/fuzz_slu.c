/* Fuzz target: the spoken-language-understanding files (data/slu.c): an intent list, an
 * intent file read for the utterances it names (plus one it may lack), and a menu file;
 * the input is up to three parts split at lines "%%". Invariants: listed intents are
 * non-empty and distinct; every label indexes the list and names the file's intent; every
 * menu has titles, none empty, none with a '|' or outer blank, none twice, and
 * menus_find finds each utterance. */
#include "fuzz.h"
#include "common/util.h"
#include "data/datadir.h"
#include "data/slu.h"
#include <stdlib.h>
#include <string.h>

static void check_intents(const char *list, const char *file) {
    avm_intents l;
    if (intents_read(&l, list)) return;
    for (int i = 0; i < l.n; i++) {
        if (!*l.name[i] || strpbrk(l.name[i], " \t")) fuzz_bug("an empty or blank intent name");
        for (int j = 0; j < i; j++)
            if (!strcmp(l.name[i], l.name[j])) fuzz_bug("an intent listed twice");
    }
    avm_kv kv;
    if (kv_read(&kv, file, 1) == 0) {
        char **utts = xmalloc(((size_t)kv.n + 1) * sizeof *utts);
        int *label = xmalloc(((size_t)kv.n + 1) * sizeof *label);
        for (int i = 0; i < kv.n; i++) utts[i] = kv.keys[i];
        utts[kv.n] = "no such utt";   /* a blank: never a key of the file */
        for (int extra = 0; extra < 2; extra++)
            if (intent_read(file, &l, utts, kv.n + extra, label) == 0) {
                if (extra) fuzz_bug("a missing utterance was accepted");
                for (int i = 0; i < kv.n; i++)
                    if (label[i] < 0 || label[i] >= l.n || strcmp(l.name[label[i]], kv.vals[i]))
                        fuzz_bug("a label that is not the file's intent");
            }
        free(utts);
        free(label);
        kv_free(&kv);
    }
    intents_free(&l);
}

static void check_menus(const char *file) {
    avm_menus m;
    if (menus_read(&m, file)) return;
    for (int i = 0; i < m.n; i++) {
        const avm_menu *e = &m.m[i];
        if (e->n < 1) fuzz_bug("an empty menu");
        if (menus_find(&m, e->utt) != e) fuzz_bug("menus_find misses an utterance");
        for (int j = 0; j < e->n; j++) {
            const char *t = e->title[j];
            size_t len = strlen(t);
            if (!len || strchr(t, '|') || strchr(" \t", t[0]) || strchr(" \t", t[len - 1]))
                fuzz_bug("an empty title, or one with '|' or outer blanks");
            for (int k = 0; k < j; k++)
                if (!strcmp(t, e->title[k])) fuzz_bug("a title twice in a menu");
        }
    }
    menus_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *part[3];
    size_t len[3];
    int n = fuzz_split(data, size, part, len, 3);
    char *list = xstrdup(fuzz_file("intents.txt", part[0], len[0]));
    char *file = xstrdup(fuzz_file("intent", n > 1 ? part[1] : (const uint8_t *)"", n > 1 ? len[1] : 0));
    const char *menu = fuzz_file("menu5", n > 2 ? part[2] : (const uint8_t *)"", n > 2 ? len[2] : 0);
    check_menus(menu);
    check_intents(list, file);
    free(list);
    free(file);
    return 0;
}
