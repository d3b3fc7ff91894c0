/* Output units of a CTC model: characters, phones or words, listed in units.txt
 * (Kaldi's words.txt format: "<symbol> <id>" per line, ids 0..n-1 in order).
 * Id 0 is <blank> (CTC), id 1 is <unk>; the units seen in the data dir's transcripts
 * follow in C (byte) order. Character units are UTF-8 characters, with one <space>
 * unit between words. */
#ifndef AVMASK_UNITS_H
#define AVMASK_UNITS_H
#include <stdint.h>

typedef enum { UNITS_CHAR, UNITS_PHONE, UNITS_WORD } avm_unit_kind;

#define UNITS_BLANK 0
#define UNITS_UNK 1
#define UNITS_SPACE_SYM "<space>"

typedef struct {
    char **sym;     /* [n] id -> symbol */
    int *order;     /* [n] ids sorted by symbol, for lookup */
    int n;
} avm_units;

/* "char", "phone" or "word"; -1 + avm_fail otherwise. */
int units_kind_parse(const char *s, avm_unit_kind *k);
/* Transcript file a kind is built from: "text" (char, word) or "phones". */
const char *units_source(avm_unit_kind k);

/* Splits one transcript into unit symbols (caller frees with units_free_split). */
int  units_split(avm_unit_kind k, const char *text, char ***syms);
void units_free_split(char **syms, int n);

/* From a data dir's text or phones: every unit that occurs. 0 or -1 + avm_fail. */
int  units_build(avm_units *u, const char *data_dir, avm_unit_kind k);
int  units_read(avm_units *u, const char *path);     /* checks ids and the two specials */
/* The "<symbol> <id>" files (units.txt, the text encoder's vocab.txt): symbols in id order,
 * ids 0..n-1 on consecutive lines (blank lines skipped), valid UTF-8; errors name file and
 * line ("expected '<what> N'"). *sym allocated. */
int  symtab_read(const char *path, const char *what, char ***sym, int *n);
int  symtab_write(char *const *sym, int n, const char *path);
/* CRC-32 of the text symtab_write writes (units_crc, vocab_crc). */
uint32_t symtab_crc(char *const *sym, int n);
int  units_write(const avm_units *u, const char *path);
/* CRC-32 of the text units_write writes (a fingerprint: fine-tuning's --resume compares it). */
uint32_t units_crc(const avm_units *u);
void units_free(avm_units *u);
int  units_id(const avm_units *u, const char *sym);  /* id, or -1 */

/* Transcript -> ids (*ids allocated, caller frees). An unknown unit maps to <unk>,
 * or with strict (a fixed vocabulary) is an error "utt: unit 'x' is not in units". */
int units_encode(const avm_units *u, avm_unit_kind k, const char *utt, const char *text,
                 int strict, int **ids, int *n);
/* Ids -> transcript: chars joined (<space> as ' '), phones/words joined by spaces;
 * ids outside the vocabulary and <blank> are skipped. Caller frees. */
char *units_decode(const avm_units *u, avm_unit_kind k, const int *ids, int n);
#endif
