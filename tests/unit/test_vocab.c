/* train/vocab: the tokenizer's rules (lower-casing, punctuation split, apostrophes inside
 * words, UTF-8 kept), building (specials first, min count, most frequent first with ties in
 * byte order, max size), encoding (<cls> first, words outside the vocabulary -> <unk> and
 * counted, sentences cut at max_len counted), the round trips text -> ids -> text and
 * vocab.txt -> vocab.txt, and vocab.txt files refused with file and line. */
#include "check.h"
#include "train/vocab.h"
#include "common/util.h"
#include "models/textenc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tokens of line joined by '|'. */
static char *joined(const char *line) {
    char **t;
    int n = vocab_split(line, &t);
    static char buf[512];
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(buf, "|");
        strcat(buf, t[i]);
    }
    vocab_free_split(t, n);
    return buf;
}

static void test_split(void) {
    CHECK(!strcmp(joined("Turn the Volume UP, please!"), "turn|the|volume|up|,|please|!"));
    CHECK(!strcmp(joined("  What's rock'n'roll?\t"), "what's|rock'n'roll|?"));
    CHECK(!strcmp(joined("'quoted' words' end"), "'|quoted|'|words|'|end"));
    CHECK(!strcmp(joined("a long-forgotten (loved) one... 3.5"), "a|long|-|forgotten|(|loved|)|one|.|.|.|3|.|5"));
    CHECK(!strcmp(joined("CAFÉ ÜBER <unk>"), "cafÉ|Über|<|unk|>"));   /* ASCII only is lower-cased */
    CHECK(!strcmp(joined(""), ""));
}

static void test_build_encode(void) {
    char *lines[] = {"the cat sat on the mat.", "The dog sat.", "a cat, a dog and the bird", "zebra"};
    avm_vocab v;
    CHECK(vocab_build(&v, lines, 4, 2, 100) == 0);
    /* the 4, cat 2, sat 2, a 2, dog 2, . 2 -> by count, then bytes: the . a cat dog sat */
    const char *want[] = {"<pad>", "<unk>", "<mask>", "<cls>", "the", ".", "a", "cat", "dog", "sat"};
    CHECK(v.n == 10);
    for (int i = 0; i < 10 && i < v.n; i++) CHECK_MSG(!strcmp(v.word[i], want[i]), "id %d: %s, want %s", i, v.word[i], want[i]);
    CHECK(vocab_id(&v, "cat") == 7 && vocab_id(&v, "zebra") == -1 && vocab_id(&v, "<cls>") == AVM_TEXT_CLS);
    vocab_free(&v);
    CHECK(vocab_build(&v, lines, 4, 2, 7) == 0 && v.n == 7 && !strcmp(v.word[6], "a"));   /* max size */
    avm_text_counts c = {0};
    int32_t ids[16];
    int n = vocab_encode(&v, "The zebra sat, a THE", 16, ids, &c);
    const int32_t want_ids[] = {AVM_TEXT_CLS, 4, AVM_TEXT_UNK, AVM_TEXT_UNK, AVM_TEXT_UNK, 6, 4};
    CHECK(n == 7 && !memcmp(ids, want_ids, sizeof want_ids));
    CHECK(c.words == 6 && c.unk == 3 && c.sentences == 1 && c.cut == 0);
    char *back = vocab_decode(&v, ids, n);
    CHECK_MSG(!strcmp(back, "the <unk> <unk> <unk> a the"), "decoded: %s", back);
    free(back);
    n = vocab_encode(&v, "the . a the . a", 4, ids, &c);   /* <cls> + 3 words, cut */
    CHECK(n == 4 && c.cut == 1 && c.words == 9 && c.sentences == 2);
    n = vocab_encode(&v, "", 4, ids, &c);
    CHECK(n == 1 && ids[0] == AVM_TEXT_CLS && c.sentences == 3);
    vocab_free(&v);
    CHECK(vocab_build(&v, lines, 4, 5, 100) == -1 && strstr(avm_error(), "no word occurs 5 times"));
    CHECK(vocab_build(&v, lines, 4, 1, 4) == -1 && strstr(avm_error(), "no room"));
}

/* Text -> ids -> text for in-vocabulary text gives the normalised text; vocab.txt round trip. */
static void test_round_trip(void) {
    char *lines[] = {"Pause the music, please.", "Volume up!", "What's the weather like today?"};
    avm_vocab v, w;
    CHECK(vocab_build(&v, lines, 3, 1, 1000) == 0);
    for (int i = 0; i < 3; i++) {
        int32_t ids[32];
        avm_text_counts c = {0};
        int n = vocab_encode(&v, lines[i], 32, ids, &c);
        char *back = vocab_decode(&v, ids, n), *norm = xstrdup(joined(lines[i]));
        for (char *p = norm; *p; p++) if (*p == '|') *p = ' ';
        CHECK_MSG(!strcmp(back, norm), "'%s' came back as '%s'", norm, back);
        CHECK(c.unk == 0);
        free(back); free(norm);
    }
    CHECK(vocab_write(&v, "vocab.txt") == 0);
    CHECK(vocab_read(&w, "vocab.txt") == 0 && w.n == v.n && vocab_crc(&w) == vocab_crc(&v));
    for (int i = 0; i < v.n && i < w.n; i++) CHECK(!strcmp(v.word[i], w.word[i]) && vocab_id(&w, v.word[i]) == i);
    vocab_free(&w);
    vocab_free(&v);
    char *more[] = {"Pause the music, please.", "Volume up!", "What's the weather like today"};
    CHECK(vocab_build(&w, more, 3, 1, 1000) == 0 && vocab_crc(&w) != 0);
    vocab_free(&w);
}

static void bad_file(const char *text, const char *want) {
    FILE *f = fopen("bad.txt", "w");
    fputs(text, f);
    fclose(f);
    avm_vocab v;
    CHECK_MSG(vocab_read(&v, "bad.txt") == -1 && strstr(avm_error(), want), "wanted '%s', got '%s'", want, avm_error());
}

static void test_bad_files(void) {
    bad_file("<pad> 0\n<unk> 1\n<cls> 2\n<mask> 3\nthe 4\n", "bad.txt: id 2 must be <mask>");
    bad_file("<pad> 0\n<unk> 1\n<mask> 2\n<cls> 3\nthe 4\nthe 5\n", "token 'the' listed twice");
    bad_file("<pad> 0\n<unk> 1\n<mask> 2\n<cls> 3\nthe 5\n", "bad.txt:5: expected '<token> 4'");
    bad_file("<pad> 0\n<unk> 1\n<mask> 2\n<cls> 3\n", "no word after");
    bad_file("<pad> 0\n<unk> 1\n<mask> 2\n<cls> 3\nthe 4 x\n", "bad.txt:5: expected");
    bad_file("<pad> 0\n<unk> 1\n<mask> 2\n<cls> 3\n\xff 4\n", "bad.txt:5: not valid UTF-8");
    avm_vocab v;
    CHECK(vocab_read(&v, "no-such-vocab.txt") == -1 && strstr(avm_error(), "no-such-vocab.txt"));
}

int main(void) {
    test_split();
    test_build_encode();
    test_round_trip();
    test_bad_files();
    return check_done("test_vocab");
}
