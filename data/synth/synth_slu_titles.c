/* Title words: common, concrete, unambiguous to pronounce (no heteronyms such as
 * "live", "wind", "tear"), and none of them a word of the command templates or slot
 * values, so a title never reads as part of the command. */
#include "data/synth/synth_slu_titles.h"
#include "common/rng.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

static const char *const adjectives[] = {
    "amber", "ancient", "autumn", "bitter", "blue", "bold", "brave", "bright", "broken", "calm",
    "careless", "crimson", "crystal", "deep", "distant", "dusty", "early", "electric",
    "empty", "endless", "faded", "falling", "fearless", "final", "forgotten", "frozen", "gentle", "golden",
    "green", "grey", "hidden", "hollow", "honest", "hungry", "icy", "lazy", "little", "lonely",
    "lost", "lucky", "magic", "misty", "modern", "narrow", "neon", "northern", "old", "open",
    "pale", "perfect", "purple", "quiet", "rapid", "restless", "rising", "roaring", "rusty", "sacred",
    "secret", "shining", "silent", "silver", "simple", "sleepy", "slow", "small", "smoky", "soft",
    "southern", "sparkling", "stolen", "strange", "sudden", "summer", "sweet", "tender", "thin", "tiny",
    "twisted", "velvet", "violet", "wandering", "warm", "western", "wicked", "wild", "winter", "wooden",
    "yellow", "young", "burning", "cosmic", "crooked", "fragile", "glowing", "humble", "marble", "paper", "hazy", "copper",
};
static const char *const nouns[] = {
    "anchor", "angel", "apple", "arrow", "avenue", "balloon", "bay", "bell", "bird", "blanket",
    "boat", "bone", "bridge", "butterfly", "cabin", "candle", "canyon", "captain", "castle", "cat",
    "cathedral", "circle", "cliff", "cloud", "coast", "comet", "corner", "cottage", "crown", "daisy",
    "dancer", "desert", "diamond", "dog", "door", "dragon", "dream", "drum", "eagle", "echo",
    "ember", "engine", "falcon", "feather", "field", "fire", "flame", "flower", "forest", "fountain",
    "fox", "garden", "ghost", "giant", "hammer", "harbor", "heart", "highway", "hill", "horizon",
    "horse", "island", "jungle", "kingdom", "ladder", "lake", "lantern", "leaf", "lemon", "letter",
    "lion", "machine", "meadow", "mirror", "moon", "mountain", "needle", "ocean", "orchard", "owl",
    "painter", "palace", "parade", "pearl", "pepper", "piano", "pilot", "planet", "pocket", "pony",
    "prairie", "prince", "queen", "rabbit", "railroad", "raven", "ribbon", "river", "road", "rocket",
    "rose", "sailor", "shadow", "ship", "shore", "signal", "sky", "snake", "soldier", "sparrow",
    "spider", "star", "stone", "storm", "stranger", "street", "sun", "swan", "tiger", "tower",
    "train", "traveler", "tree", "valley", "village", "violin", "voyage", "wave", "whale", "wheel",
    "window", "wolf", "wonder", "bicycle", "carnival", "compass", "festival", "glacier", "harvest", "lighthouse",
};
#define NADJ ((int)(sizeof adjectives / sizeof *adjectives))
#define NNOUN ((int)(sizeof nouns / sizeof *nouns))

const char *const *slu_title_words(int which, int *n) {
    *n = which ? NNOUN : NADJ;
    return which ? nouns : adjectives;
}

/* In the word split, the last quarter of each shuffled list is for test titles. */
static int test_words(int n) { return n / 4; }

/* The adjectives and nouns in use: the first nwords of each shuffled list (0: all). */
static void words_used(int nwords, int *na, int *nn) {
    *na = nwords > 0 && nwords < NADJ ? nwords : NADJ;
    *nn = nwords > 0 && nwords < NNOUN ? nwords : NNOUN;
}

void slu_titles_capacity(slu_title_split split, int nwords, int *ntrain, int *ntest) {
    int na, nn;
    words_used(nwords, &na, &nn);
    if (split == SLU_SPLIT_PAIRS) {
        *ntrain = *ntest = na * nn;   /* together at most this many */
        return;
    }
    int ta = test_words(na), tn = test_words(nn);
    *ntrain = (na - ta) * (nn - tn);
    *ntest = ta * tn;
}

static int *perm(avm_rng *r, int n) {
    int *p = xmalloc((size_t)n * sizeof *p);
    for (int i = 0; i < n; i++) p[i] = i;
    rng_shuffle(r, p, n);
    return p;
}

/* count titles from order[from..]: pair k is adjective pa[a0 + k / nn], noun pn[n0 + k % nn]. */
static char **pairs(const int *order, int from, int count, const int *pa, int a0, const int *pn, int n0, int nn) {
    char **t = xcalloc((size_t)count + 1, sizeof *t);
    for (int i = 0; i < count; i++) {
        int k = order[from + i];
        t[i] = xasprintf("%s %s", adjectives[pa[a0 + k / nn]], nouns[pn[n0 + k % nn]]);
    }
    return t;
}

int slu_titles_make(uint64_t seed, slu_title_split split, int nwords, int ntrain, int ntest, slu_titles *t) {
    memset(t, 0, sizeof *t);
    int ctrain, ctest, na, nn;
    slu_titles_capacity(split, nwords, &ctrain, &ctest);
    words_used(nwords, &na, &nn);
    if (split == SLU_SPLIT_PAIRS && ntrain + ntest > ctrain)
        return avm_fail("%d train + %d test titles asked for; the pairs split has %d", ntrain, ntest, ctrain);
    if (split == SLU_SPLIT_WORDS && (ntrain > ctrain || ntest > ctest))
        return avm_fail("%d train and %d test titles asked for; the words split has at most %d and %d", ntrain,
                        ntest, ctrain, ctest);
    avm_rng r;
    rng_seed(&r, seed, 0x7171E5);
    int *pa = perm(&r, NADJ), *pn = perm(&r, NNOUN);
    if (split == SLU_SPLIT_PAIRS) {   /* one order of all pairs: the first for test, the next for train */
        int *order = perm(&r, na * nn);
        t->test = pairs(order, 0, ntest, pa, 0, pn, 0, nn);
        t->train = pairs(order, ntest, ntrain, pa, 0, pn, 0, nn);
        free(order);
    } else {                          /* test words are the last quarter of each shuffled list */
        int ta = test_words(na), tn = test_words(nn);
        int *ot = perm(&r, ta * tn), *or = perm(&r, (na - ta) * (nn - tn));
        t->test = pairs(ot, 0, ntest, pa, na - ta, pn, nn - tn, tn);
        t->train = pairs(or, 0, ntrain, pa, 0, pn, 0, nn - tn);
        free(ot);
        free(or);
    }
    t->ntrain = ntrain;
    t->ntest = ntest;
    free(pa);
    free(pn);
    return 0;
}

void slu_titles_free(slu_titles *t) {
    for (int i = 0; t->train && i < t->ntrain; i++) free(t->train[i]);
    for (int i = 0; t->test && i < t->ntest; i++) free(t->test[i]);
    free(t->train);
    free(t->test);
    memset(t, 0, sizeof *t);
}
