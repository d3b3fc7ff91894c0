/* Fuzz target: the text encoder's vocab.txt (train/vocab.c vocab_read) and its tokenizer
 * (vocab_split) on the same bytes. Invariants: a vocabulary read starts with the four
 * specials, finds every token at its id, holds UTF-8 only and encodes the input's text to
 * ids inside it; the tokenizer gives non-empty tokens without blanks, and splitting its
 * tokens joined by blanks gives the same tokens (the rules are a fixed point). */
#include "fuzz.h"
#include "common/util.h"
#include "models/textenc.h"
#include "train/vocab.h"
#include <stdlib.h>
#include <string.h>

static void check_split(const char *text) {
    char **t, **u;
    int n = vocab_split(text, &t);
    size_t len = 1;
    for (int i = 0; i < n; i++) {
        if (!*t[i]) fuzz_bug("an empty token");
        if (strpbrk(t[i], " \t\r\v\f")) fuzz_bug("a token with a blank");
        len += strlen(t[i]) + 1;
    }
    char *joined = xmalloc(len);
    joined[0] = 0;
    for (int i = 0; i < n; i++) { if (i) strcat(joined, " "); strcat(joined, t[i]); }
    int m = vocab_split(joined, &u);
    if (m != n) fuzz_bug("splitting the joined tokens gives another count");
    for (int i = 0; i < n && i < m; i++)
        if (strcmp(t[i], u[i])) fuzz_bug("splitting the joined tokens gives other tokens");
    vocab_free_split(t, n);
    vocab_free_split(u, m);
    free(joined);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    check_split(text);
    avm_vocab v;
    if (!vocab_read(&v, fuzz_file("vocab.txt", data, size))) {
        static const char *const sp[] = {"<pad>", "<unk>", "<mask>", "<cls>"};
        if (v.n <= AVM_TEXT_SPECIALS) fuzz_bug("a vocabulary without words");
        for (int i = 0; i < AVM_TEXT_SPECIALS; i++)
            if (strcmp(v.word[i], sp[i])) fuzz_bug("specials missing");
        for (int i = 0; i < v.n; i++)
            if (vocab_id(&v, v.word[i]) != i) fuzz_bug("vocab_id does not find a token at its id");
            else if (!utf8_valid(v.word[i])) fuzz_bug("a token that is not UTF-8");
        int32_t ids[16];
        avm_text_counts c = {0};
        int n = vocab_encode(&v, text, 16, ids, &c);
        if (n < 1 || n > 16 || ids[0] != AVM_TEXT_CLS || c.unk > c.words) fuzz_bug("encoding out of bounds");
        for (int i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= v.n) fuzz_bug("an id outside the vocabulary");
        free(vocab_decode(&v, ids, n));
        vocab_free(&v);
    }
    free(text);
    return 0;
}
