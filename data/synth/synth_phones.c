/* espeak-ng English mnemonics -> ARPAbet-39. Reduced and accent variants fold onto
 * the nearest ARPAbet phone the way TIMIT-39 folds its 61 labels (schwa -> ah,
 * syllabic l -> l, flaps and unreleased stops -> t). */
#include "data/synth/synth_phones.h"
#include <string.h>

static const char *const phones[SYNTH_NPHONES] = {
    "aa", "ae", "ah", "ao", "aw", "ay", "b", "ch", "d", "dh", "eh", "er", "ey", "f", "g",
    "hh", "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh",
    "t", "th", "uh", "uw", "v", "w", "y", "z", "zh"};

static const struct { const char *es, *ph; } map[] = {
    /* vowels */
    {"0", "aa"}, {"A:", "aa"}, {"A@", "aa"}, {"A", "aa"}, {"a", "ae"}, {"aa", "ae"},
    {"a#", "ah"}, {"@", "ah"}, {"@-", "ah"}, {"@2", "ah"}, {"@5", "ah"}, {"V", "ah"},
    {"3", "er"}, {"3:", "er"}, {"VR", "er"}, {"IR", "er"}, {"UR", "er"}, {"@L", "l"},
    {"E", "eh"}, {"e", "eh"}, {"e@", "eh"}, {"eI", "ey"}, {"I", "ih"}, {"I#", "ih"},
    {"I2", "ih"}, {"i@", "ih"}, {"i@3", "ih"}, {"i", "iy"}, {"i:", "iy"},
    {"O", "ao"}, {"O:", "ao"}, {"O2", "ao"}, {"O@", "ao"}, {"o@", "ao"}, {"o", "ow"},
    {"oU", "ow"}, {"OI", "oy"}, {"U", "uh"}, {"U@", "uh"}, {"u", "uw"}, {"u:", "uw"},
    {"aI", "ay"}, {"aI2", "ay"}, {"aI@", "ay"}, {"aI3", "ay"}, {"aU", "aw"}, {"aU@", "aw"},
    /* consonants */
    {"p", "p"}, {"b", "b"}, {"t", "t"}, {"d", "d"}, {"k", "k"}, {"g", "g"}, {"f", "f"},
    {"v", "v"}, {"T", "th"}, {"D", "dh"}, {"s", "s"}, {"z", "z"}, {"S", "sh"}, {"Z", "zh"},
    {"h", "hh"}, {"tS", "ch"}, {"dZ", "jh"}, {"m", "m"}, {"n", "n"}, {"N", "ng"},
    {"l", "l"}, {"r", "r"}, {"w", "w"}, {"j", "y"}, {";", "y"}, {"?", "t"}, {"x", "k"},
    {NULL, NULL}};

const char *synth_phone_name(int id) {
    return id >= 0 && id < SYNTH_NPHONES ? phones[id] : "?";
}

int synth_phone_id(const char *name) {
    for (int i = 0; i < SYNTH_NPHONES; i++)
        if (!strcmp(phones[i], name)) return i;
    return -1;
}

static int lookup(const char *es) {
    for (int i = 0; map[i].es; i++)
        if (!strcmp(map[i].es, es)) return synth_phone_id(map[i].ph);
    return -2;
}

int synth_phone_from_espeak(const char *m) {
    if (!m[0] || m[0] == '_') return SYNTH_SIL;
    int id = lookup(m);
    if (id != -2) return id;
    /* variants carry a modifier suffix ("t#", "r-", "t[", "n-"): drop it and retry */
    char base[16];
    size_t n = strlen(m);
    if (n >= sizeof base) return -2;
    memcpy(base, m, n + 1);
    while (n > 1 && strchr("#-[2345;", base[n - 1])) {
        base[--n] = 0;
        if ((id = lookup(base)) != -2) return id;
    }
    return -2;
}

/* flite's US English phone set is the CMU dictionary's plus reduced and syllabic forms,
 * folded like TIMIT-39. */
int synth_phone_from_cmu(const char *name) {
    static const struct { const char *cmu, *ph; } fold[] = {
        {"ax", "ah"}, {"axr", "er"}, {"el", "l"}, {"em", "m"}, {"en", "n"}, {"nx", "n"}, {"dx", "t"},
        {NULL, NULL}};
    if (!strcmp(name, "pau") || !strcmp(name, "h#") || !strcmp(name, "brth")) return SYNTH_SIL;
    int id = synth_phone_id(name);
    for (int i = 0; id < 0 && fold[i].cmu; i++)
        if (!strcmp(name, fold[i].cmu)) id = synth_phone_id(fold[i].ph);
    return id >= 0 ? id : -2;
}
