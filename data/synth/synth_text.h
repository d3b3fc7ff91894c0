/* Sentence generator for the synthetic corpus: voice-assistant style utterances
 * (commands, digits, names, places, times) over a fixed vocabulary of a few hundred
 * words, so that labelled ASR on the corpus is meaningful. */
#ifndef AVMASK_SYNTH_TEXT_H
#define AVMASK_SYNTH_TEXT_H
#include "common/rng.h"
#include "common/strbuf.h"

/* Appends one sentence (lower-case words separated by single spaces, no
 * punctuation) to out. Uses only words of the vocabulary. */
void synth_sentence(avm_rng *r, avm_strbuf *out);

/* The vocabulary, sorted (C locale), without duplicates; n words. Built once. */
const char *const *synth_vocab(int *n);
#endif
