/* eval/units: building char/phone/word vocabularies from a data dir, units.txt
 * round trip and validation, encoding with and without a fixed vocabulary, decoding. */
#include "check.h"
#include "common/util.h"
#include "train/units.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *path, const char *s) { CHECK(write_file_atomic(path, s, strlen(s)) == 0); }

static int syms_are(const avm_units *u, const char *const *want, int n) {
    if (u->n != n) return 0;
    for (int i = 0; i < n; i++) if (strcmp(u->sym[i], want[i])) return 0;
    return 1;
}

static void test_build(void) {
    CHECK(mkdir_p("ud") == 0);
    put("ud/text", "u2 a  cat\nu1 the caf\xc3\xa9\n");
    put("ud/phones", "u1 dh ah k ae t\nu2 ah k ae t\n");
    avm_units u;
    CHECK(units_build(&u, "ud", UNITS_WORD) == 0);
    CHECK(syms_are(&u, (const char *[]){"<blank>", "<unk>", "a", "caf\xc3\xa9", "cat", "the"}, 6));
    units_free(&u);
    CHECK(units_build(&u, "ud", UNITS_PHONE) == 0);
    CHECK(syms_are(&u, (const char *[]){"<blank>", "<unk>", "ae", "ah", "dh", "k", "t"}, 7));
    units_free(&u);
    CHECK(units_build(&u, "ud", UNITS_CHAR) == 0);
    CHECK(syms_are(&u, (const char *[]){"<blank>", "<unk>", "<space>", "a", "c", "e", "f", "h", "t", "\xc3\xa9"}, 10));

    int *ids, n;
    CHECK(units_encode(&u, UNITS_CHAR, "u2", " a  cat ", 1, &ids, &n) == 0);
    int want[] = {3, 2, 4, 3, 8};
    CHECK(n == 5 && !memcmp(ids, want, sizeof want));
    char *s = units_decode(&u, UNITS_CHAR, ids, n);
    CHECK(!strcmp(s, "a cat"));
    free(s); free(ids);
    CHECK(units_encode(&u, UNITS_CHAR, "u9", "a dog", 1, &ids, &n) == -1);
    CHECK(strstr(avm_error(), "u9") && strstr(avm_error(), "'d'"));
    CHECK(units_encode(&u, UNITS_CHAR, "u9", "ad", 0, &ids, &n) == 0 && n == 2 && ids[1] == UNITS_UNK);
    free(ids);

    CHECK(units_write(&u, "ud/units.txt") == 0);
    avm_units v;
    CHECK(units_read(&v, "ud/units.txt") == 0 && v.n == u.n && units_id(&v, "h") == units_id(&u, "h"));
    CHECK(units_id(&v, "<space>") == 2 && units_id(&v, "zz") == -1);
    units_free(&v);
    units_free(&u);

    put("ud/bad1", "<blank> 0\n<unk> 1\na 3\n");
    CHECK(units_read(&v, "ud/bad1") == -1 && strstr(avm_error(), "ud/bad1:3"));
    put("ud/bad2", "<unk> 0\n<blank> 1\n");
    CHECK(units_read(&v, "ud/bad2") == -1 && strstr(avm_error(), "<blank> 0"));
    put("ud/bad3", "<blank> 0\n<unk> 1\na 2\na 3\n");
    CHECK(units_read(&v, "ud/bad3") == -1 && strstr(avm_error(), "'a' listed twice"));
    put("ud/bad4", "<blank> 0\n<unk> 1\na\xff 2\n");
    CHECK(units_read(&v, "ud/bad4") == -1 && strstr(avm_error(), "ud/bad4:3: not valid UTF-8"));
    CHECK(units_build(&u, "nodir", UNITS_PHONE) == -1 && strstr(avm_error(), "nodir/phones"));

    avm_unit_kind k;
    CHECK(units_kind_parse("phone", &k) == 0 && k == UNITS_PHONE && units_kind_parse("bpe", &k) == -1);
    const char *f[] = {"ud/text", "ud/phones", "ud/units.txt", "ud/bad1", "ud/bad2", "ud/bad3"};
    for (int i = 0; i < 6; i++) unlink(f[i]);
    rmdir("ud");
}

static void test_decode_words(void) {
    avm_units u = {0};
    char *syms[] = {"<blank>", "<unk>", "a", "b"};
    u.sym = syms;
    u.n = 4;
    int ids[] = {2, 0, 3, 7, 2};
    char *s = units_decode(&u, UNITS_WORD, ids, 5);
    CHECK(!strcmp(s, "a b a"));
    free(s);
}

int main(void) {
    test_build();
    test_decode_words();
    return check_done("test_units");
}
