/* common/: JSON writer and reader, RNG, string buffer, the
 * background committer, whole warning lines from processes writing at once. */
#include "check.h"
#include "common/commit.h"
#include "common/json.h"
#include "common/rng.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_json(void) {
    avm_strbuf b = {0};
    avm_jw w;
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_key(&w, "a"); jw_int(&w, 3);
    jw_key(&w, "s"); jw_str(&w, "q\"\n\\");
    jw_key(&w, "arr"); jw_arr_begin(&w); jw_num(&w, 0.5); jw_bool(&w, 1); jw_null(&w); jw_arr_end(&w);
    jw_key(&w, "o"); jw_obj_begin(&w); jw_key(&w, "d"); jw_num(&w, 128); jw_obj_end(&w);
    jw_obj_end(&w);
    CHECK_MSG(!strcmp(b.s, "{\"a\":3,\"s\":\"q\\\"\\n\\\\\",\"arr\":[0.5,true,null],\"o\":{\"d\":128}}"), "%s", b.s);
    json_value *v = json_parse(b.s);
    CHECK(v && v->type == JSON_OBJ && v->n == 4);
    CHECK(json_num_or(v, "a", 0) == 3);
    CHECK(!strcmp(json_str_or(v, "s", ""), "q\"\n\\"));
    CHECK(json_num_or(v, "o.d", 0) == 128);
    json_value *arr = json_get(v, "arr");
    CHECK(arr && arr->type == JSON_ARR && arr->n == 3 && arr->items[0]->num == 0.5);
    CHECK(json_num_or(v, "missing.x", -1) == -1);
    avm_strbuf again = {0};     /* a parsed document written back is the same text */
    avm_jw w2;
    jw_init(&w2, &again);
    jw_value(&w2, v);
    CHECK_MSG(!strcmp(again.s, b.s), "%s", again.s);
    sb_free(&again);
    json_free(v);
    sb_free(&b);
    const char *bad[] = {"{", "{\"a\" 1}", "[1,]", "tru", "{\"a\":1} x", "\"abc"};
    for (int i = 0; i < 6; i++) {
        json_value *x = json_parse(bad[i]);
        CHECK_MSG(x == NULL, "parsed malformed %s", bad[i]);
        json_free(x);
    }
}

/* Strings: \u escapes of characters outside the BMP come as surrogate pairs and become
 * one UTF-8 character; a lone surrogate, \u0000 (a NUL would cut the string) and a raw
 * control character are refused (tests/fuzz/regressions/json/). */
static void test_json_strings(void) {
    json_value *v = json_parse("[\"\\ud83d\\ude00\", \"\\u00e9\\u20ac\"]");
    CHECK(v && v->n == 2 && !strcmp(v->items[0]->str, "\xf0\x9f\x98\x80") && !strcmp(v->items[1]->str, "\xc3\xa9\xe2\x82\xac"));
    json_free(v);
    const char *bad[] = {"\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\\u0000b\"", "\"a\tb\"", "\"a\nb\"",
                         "{\"k\\u0000\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_value *x = json_parse(bad[i]);
        CHECK_MSG(x == NULL, "parsed bad string %s", bad[i]);
        json_free(x);
    }
    CHECK(!json_parse("\"\\u0000\"") && strstr(avm_error(), "NUL"));
}

/* Only JSON's number grammar: strtod's hex, nan, inf and leading '+' or '.' are refused,
 * and so is a number that overflows to infinity. */
static void test_json_numbers(void) {
    const char *bad[] = {"0x10", "-nan", "nan", "inf", "-inf", "Infinity", "+1", ".5", "1.", "01", "-",
                         "1e", "1e+", "[1e999]", "-0x1p3", "[0X1A]", "1.5e3x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_value *x = json_parse(bad[i]);
        CHECK_MSG(x == NULL, "parsed non-JSON number %s", bad[i]);
        json_free(x);
    }
    const char *good[] = {"0", "-0", "12", "-1.5", "1e3", "1E+3", "2.5e-3", "0.0"};
    const double val[] = {0, 0, 12, -1.5, 1000, 1000, 0.0025, 0};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        json_value *x = json_parse(good[i]);
        CHECK_MSG(x && x->type == JSON_NUM && x->num == val[i], "%s", good[i]);
        json_free(x);
    }
}

/* JSON -> integer conversions go through one checked helper. */
static void test_json_int(void) {
    json_value *v = json_parse("{\"a\":7,\"big\":1e300,\"neg\":-3,\"frac\":2.5,\"s\":\"7\",\"o\":{\"n\":1e9}}");
    long long x = 0;
    CHECK(v && json_int_range(v, "a", 0, 10, JSON_REQUIRED, &x) == 0 && x == 7);
    CHECK(json_int_range(v, "o.n", 0, 2000000000LL, JSON_REQUIRED, &x) == 0 && x == 1000000000LL);
    CHECK(json_int_range(v, "big", 0, 1000, JSON_REQUIRED, &x) == -1 && strstr(avm_error(), "'big'"));
    printf("json_int_range: %s\n", avm_error());
    CHECK(json_int_range(v, "neg", 0, 1000, JSON_REQUIRED, &x) == -1 && strstr(avm_error(), "'neg'"));
    CHECK(json_int_range(v, "frac", 0, 1000, JSON_REQUIRED, &x) == -1 && strstr(avm_error(), "'frac'"));
    CHECK(json_int_range(v, "s", 0, 1000, JSON_REQUIRED, &x) == -1 && strstr(avm_error(), "'s'"));
    CHECK(json_int_range(v, "missing", 0, 1000, JSON_REQUIRED, &x) == -1 && strstr(avm_error(), "'missing' missing"));
    CHECK(json_int_range(v, "missing", 0, 1000, 5, &x) == 0 && x == 5);
    json_free(v);
}

/* Messages carry names read from files: control bytes are shown as \xNN, so a name cannot
 * move the cursor, clear the terminal or split the one-line error. */
static void test_escape(void) {
    avm_fail("data/media.scp:3: utt-id 'a\033[2Jb\tc\nd\x7f' is out of order");
    CHECK_MSG(!strcmp(avm_error(), "data/media.scp:3: utt-id 'a\\x1b[2Jb\\x09c\\x0ad\\x7f' is out of order"),
              "%s", avm_error());
    avm_fail("caf\xc3\xa9 %s", "ok");   /* UTF-8 stays */
    CHECK(!strcmp(avm_error(), "caf\xc3\xa9 ok"));
}

static void test_rng(void) {
    avm_rng a, b;
    rng_seed(&a, 42, 0);
    rng_seed(&b, 42, 0);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= rng_u64(&a) == rng_u64(&b);
    CHECK(same);
    rng_seed(&b, 42, 1);
    CHECK(rng_u64(&a) != rng_u64(&b));
    /* moments of uniform and normal */
    double s = 0, s2 = 0, ns = 0, ns2 = 0;
    int n = 200000, hist[7] = {0};
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&a), z = rng_normal(&a);
        s += u; s2 += u * u; ns += z; ns2 += z * z;
        hist[rng_below(&a, 7)]++;
    }
    CHECK_NEAR(s / n, 0.5, 0.005);
    CHECK_NEAR(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002);
    CHECK_NEAR(ns / n, 0, 0.01);
    CHECK_NEAR(ns2 / n, 1, 0.02);
    for (int k = 0; k < 7; k++) CHECK_NEAR(hist[k] / (double)n, 1.0 / 7, 0.005);
    int perm[50], seen[50] = {0};
    for (int i = 0; i < 50; i++) perm[i] = i;
    rng_shuffle(&a, perm, 50);
    int ok = 1;
    for (int i = 0; i < 50; i++) { ok &= perm[i] >= 0 && perm[i] < 50 && !seen[perm[i]]; seen[perm[i]] = 1; }
    CHECK(ok);
}

static void test_util(void) {
    char *p = path_join("dir/", "x"), *q = path_join("dir", "/abs");
    CHECK(!strcmp(p, "dir/x") && !strcmp(q, "/abs"));
    free(p); free(q);
    CHECK(mkdir_p("avm_t/a/b") == 0 && dir_exists("avm_t/a/b"));
    CHECK(write_file_atomic("avm_t/a/f.txt", "hello\n", 6) == 0);
    size_t n;
    char *s = read_file("avm_t/a/f.txt", &n);
    CHECK(s && n == 6 && !strcmp(s, "hello\n"));
    free(s);
    CHECK(read_file("avm_t/none", NULL) == NULL && strstr(avm_error(), "avm_t/none"));
    avm_fail("inner reason");
    avm_fail("outer: %s", avm_error());      /* wrapping the previous reason */
    CHECK_MSG(!strcmp(avm_error(), "outer: inner reason"), "%s", avm_error());
    char line[] = "  utt1\tpath  x ";
    char *fl[4];
    CHECK(split_ws(line, fl, 4) == 3 && !strcmp(fl[1], "path"));
    unlink("avm_t/a/f.txt"); rmdir("avm_t/a/b"); rmdir("avm_t/a"); rmdir("avm_t");
}

static int file_is(const char *path, const char *text) {
    char *s = file_exists(path) ? read_file(path, NULL) : NULL;
    int ok = s && !strcmp(s, text);
    free(s);
    return ok;
}

/* Commits land in order; after a failure nothing queued later lands, and every later
 * call and the wait report the first failure, naming its file. */
static void test_committer(void) {
    CHECK(mkdir_p("avm_c") == 0);
    avm_committer *cm = committer_new();
    char name[64], text[64];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "avm_c/f%d.txt", i);
        snprintf(text, sizeof text, "file %d\n", i);
        CHECK(committer_write(cm, name, text, strlen(text)) == 0);
    }
    CHECK(write_file_atomic("avm_c/r.tmp", "renamed\n", 8) == 0);
    CHECK(committer_rename(cm, "avm_c/r.tmp", "avm_c/r.txt") == 0);
    CHECK(committer_wait(cm) == 0);
    int all = 1;
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "avm_c/f%d.txt", i);
        snprintf(text, sizeof text, "file %d\n", i);
        all &= file_is(name, text);
    }
    CHECK(all);
    CHECK(file_is("avm_c/r.txt", "renamed\n") && !file_exists("avm_c/r.tmp"));

    /* a rename into a missing directory fails; what was queued after it never lands */
    CHECK(write_file_atomic("avm_c/bad.tmp", "x", 1) == 0);
    CHECK(committer_rename(cm, "avm_c/bad.tmp", "avm_c/nodir/bad.txt") == 0 || strstr(avm_error(), "bad.tmp"));
    committer_write(cm, "avm_c/after.txt", "late\n", 5);   /* may be refused already */
    CHECK(committer_wait(cm) == -1);
    CHECK_MSG(strstr(avm_error(), "avm_c/bad.tmp") != NULL, "%s", avm_error());
    CHECK(!file_exists("avm_c/after.txt") && !file_exists("avm_c/bad.tmp"));
    CHECK(committer_write(cm, "avm_c/later.txt", "no\n", 3) == -1 && strstr(avm_error(), "avm_c/bad.tmp"));
    CHECK(!file_exists("avm_c/later.txt"));
    committer_free(cm);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "avm_c/f%d.txt", i);
        unlink(name);
    }
    unlink("avm_c/r.txt");
    CHECK(rmdir("avm_c") == 0);   /* nothing else was left behind (no stray .tmp files) */
}

/* Two processes warning at once into one pipe (extract --nj workers sharing stderr): every
 * line arrives whole, none spliced into another. */
static void test_warn_lines_whole(void) {
    enum { CHILDREN = 2, LINES = 2000 };
    int fd[2];
    CHECK(pipe(fd) == 0);
    pid_t pid[CHILDREN];
    for (int c = 0; c < CHILDREN; c++) {
        if ((pid[c] = fork()) == 0) {
            close(fd[0]);
            dup2(fd[1], STDERR_FILENO);
            for (int i = 0; i < LINES; i++) avm_warn("child %d line %d: %s", c, i, "0123456789abcdef0123456789");
            _exit(0);
        }
    }
    close(fd[1]);
    FILE *in = fdopen(fd[0], "r");
    char line[256];
    int whole = 0, spliced = 0;
    while (fgets(line, sizeof line, in)) {
        int c, i, n = -1;
        if (sscanf(line, "avmask: warning: child %d line %d: 0123456789abcdef0123456789\n%n", &c, &i, &n) == 2 &&
            n == (int)strlen(line))
            whole++;
        else
            spliced++;
    }
    fclose(in);
    for (int c = 0; c < CHILDREN; c++) waitpid(pid[c], NULL, 0);
    CHECK_MSG(whole == CHILDREN * LINES && spliced == 0, "%d whole lines, %d spliced", whole, spliced);
}

int main(void) {
    test_warn_lines_whole();
    test_committer();
    test_json();
    test_json_numbers();
    test_json_strings();
    test_json_int();
    test_escape();
    test_rng();
    test_util();
    return check_done("test_common");
}
