/* The text encoder's tokenizer and word vocabulary (vocab.txt beside the model).
 * Tokenizer (vocab_split): ASCII letters are lower-cased; blanks separate words; every
 * ASCII punctuation character is a token of its own, except an apostrophe between two
 * letters or digits, which stays inside its word ("what's", "don't", "rock'n'roll"); any
 * other byte (UTF-8 letters, digits) belongs to the word it is in.
 * Ids: 0 <pad>, 1 <unk>, 2 <mask>, 3 <cls> (models/textenc.h: padding, words outside the
 * vocabulary, the MLM mask, the first token of every sentence), then the words of the
 * training text seen at least min_count times, most frequent first (ties in byte order),
 * at most max_size entries in all. The tokenizer never makes a special token (its '<' and
 * '>' are punctuation). A word outside the vocabulary maps to <unk>; the counts say how
 * many. vocab.txt: "<token> <id>" per line, ids 0..n-1 in order (Kaldi's words.txt, as
 * units.txt). */
#ifndef AVMASK_VOCAB_H
#define AVMASK_VOCAB_H
#include <stdint.h>

typedef struct {
    char **word;            /* [n] id -> token */
    int n;
    int *slot, cap;         /* open-addressing hash of the tokens: id, or -1 when empty */
} avm_vocab;

/* What encoding a text met: words (specials excluded), those mapped to <unk>, sentences,
 * and sentences cut at the model's max_len. */
typedef struct { long words, unk, sentences, cut; } avm_text_counts;

/* Tokens of one line (*toks allocated; free with vocab_free_split). */
int  vocab_split(const char *line, char ***toks);
void vocab_free_split(char **toks, int n);

/* From n sentences: the specials, then the words seen >= min_count times, most frequent
 * first, n entries <= max_size (>= 5). -1 + avm_fail if no word qualifies. */
int  vocab_build(avm_vocab *v, char *const *lines, int n, int min_count, int max_size);
/* vocab.txt (train/units.h's symtab_read: ids in order, valid UTF-8, errors naming file and
 * line), the four specials first, no token twice. */
int  vocab_read(avm_vocab *v, const char *path);
int  vocab_write(const avm_vocab *v, const char *path);
void vocab_free(avm_vocab *v);
int  vocab_id(const avm_vocab *v, const char *tok);   /* id, or -1 */
/* CRC-32 of vocab.txt as vocab_write writes it (names the vocabulary in configurations: a
 * resumed run or a reader checks it). */
uint32_t vocab_crc(const avm_vocab *v);

/* <cls> and the ids of line's tokens, at most max_len ids in all (the rest is cut), into
 * ids (max_len slots); returns their count and adds to c (may be NULL). */
int  vocab_encode(const avm_vocab *v, const char *line, int max_len, int32_t *ids, avm_text_counts *c);
/* The tokens of ids joined by spaces, <cls> and <pad> left out (caller frees). */
char *vocab_decode(const avm_vocab *v, const int32_t *ids, int n);
#endif
