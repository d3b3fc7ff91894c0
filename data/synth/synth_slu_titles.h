/* Titles for "play [title]" in the spoken-command corpus: adjective + noun pairs
 * ("silver harbor") from two embedded lists of common English words (all in WordNet,
 * all read correctly by espeak-ng and flite), split into train and test titles that are
 * disjoint: by pairs (test titles are new pairs of words that train titles also use) or
 * by words (a quarter of the adjectives and of the nouns are kept for test titles, so
 * no word of a test title is ever spoken in training). */
#ifndef AVMASK_SYNTH_SLU_TITLES_H
#define AVMASK_SYNTH_SLU_TITLES_H
#include <stdint.h>

typedef enum { SLU_SPLIT_PAIRS, SLU_SPLIT_WORDS } slu_title_split;

typedef struct {
    char **train, **test;
    int ntrain, ntest;
} slu_titles;

/* Draws ntrain and ntest titles (seeded by seed alone, in drawing order) from the first
 * nwords adjectives and nouns of the seed's shuffled lists (0 or more than a list: all of
 * it; a few words make a small corpus hear each word often). 0, or -1 + avm_fail when the
 * split has fewer pairs than asked for. */
int slu_titles_make(uint64_t seed, slu_title_split split, int nwords, int ntrain, int ntest, slu_titles *t);
void slu_titles_free(slu_titles *t);
/* The most titles a split of nwords words can give: *ntrain, *ntest. */
void slu_titles_capacity(slu_title_split split, int nwords, int *ntrain, int *ntest);
/* The adjectives (which = 0) or nouns (1): n words. */
const char *const *slu_title_words(int which, int *n);
#endif
