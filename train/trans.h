/* Transcript tables: files of "<utt-id> tokens..." lines (Kaldi's text/phones, and
 * the hyp files decode writes). Kept sorted by utt-id for lookup; a repeated utt-id
 * is an error naming file and line. A line with only an utt-id is an empty
 * transcript; blank lines are skipped. */
#ifndef AVMASK_TRANS_H
#define AVMASK_TRANS_H

typedef struct {
    char *id;
    char *text;     /* everything after the utt-id, blanks trimmed at both ends */
    char **tok;     /* text split on blanks */
    int n;          /* number of tokens */
    int lineno;
} avm_trans_utt;

typedef struct {
    char *path;
    avm_trans_utt *u;
    int n;
} avm_trans;

int  trans_read(avm_trans *t, const char *path);   /* 0, or -1 + avm_fail("path:line: ...") */
void trans_free(avm_trans *t);
int  trans_find(const avm_trans *t, const char *id);   /* index, or -1 */
/* Replaces u's tokens with copies of syms [n], in trans_read's layout (tok[0] owns one
 * buffer holding them all); text is left as it is. */
void trans_set_tokens(avm_trans_utt *u, char *const *syms, int n);
#endif
