/* Decoding of the model kinds that are not CTC or S2I, called by avmask decode (decode.c). */
#ifndef AVMASK_DECODE_H
#define AVMASK_DECODE_H

/* A TinyS2I model dir (train/tinys2i.h): decisions, commands and menu titles of every
 * utterance of feats into out/ (decode_tinys2i.c); menu is required. Dies with one line on
 * bad input; returns 0. */
int decode_tinys2i(const char *model, const char *feats, const char *out, const char *menu, int threads);
#endif
