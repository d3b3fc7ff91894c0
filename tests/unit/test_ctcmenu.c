/* eval/ctcmenu: the CTC baseline's transcript -> decision mapping on a hand-made training
 * dir with known answers: the index (distinct transcripts, counts, title spans), the
 * nearest transcript's intent and its ties (votes by utterances, then the intent list's
 * order), the class -> decision, the query after the carrier phrase (insertions at its edge,
 * the whole-transcript fallback), the title of least normalised character distance and its
 * ties, and the one-line refusals. */
#include "check.h"
#include "errcheck.h"
#include "common/util.h"
#include "eval/ctcmenu.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void make_dir(void) {
    put("intents.txt", "music_play title\nmusic_next command\nmusic_pause command\nweather_query other\n");
    mkdir_p("tr");
    put("tr/text", "u01 play red fox\nu02 could you play blue cat\nu03 pause\nu04 pause\nu05 next song\n"
                   "u06 next song\nu07 stop\nu08 what is the weather\nu09 pause the music\n");
    put("tr/intent", "u01 music_play\nu02 music_play\nu03 music_pause\nu04 music_pause\nu05 music_next\n"
                     "u06 music_next\nu07 music_next\nu08 weather_query\nu09 music_pause\n");
    put("tr/slots", "u01 title=red fox\nu02 title=blue cat\nu03 -\nu04 -\nu05 -\nu06 -\nu07 -\nu08 -\nu09 -\n");
}

static const cm_entry *entry(const cm_index *x, const char *first, int nw) {
    for (int i = 0; i < x->n; i++)
        if (x->e[i].nw == nw && !strcmp(x->e[i].w[0], first)) return &x->e[i];
    return NULL;
}

static void test_index(const cm_index *x) {
    CHECK_MSG(x->n == 7, "%d distinct transcripts, want 7", x->n);
    const cm_entry *ns = entry(x, "next", 2), *pa = entry(x, "pause", 1), *pr = entry(x, "play", 3),
                   *cy = entry(x, "could", 5), *st = entry(x, "stop", 1);
    CHECK(ns && ns->count == 2 && ns->intent == 1 && ns->t0 == -1);
    CHECK(pa && pa->count == 2 && pa->intent == 2);
    CHECK(st && st->count == 1 && st->intent == 1);
    CHECK(pr && pr->t0 == 1 && pr->t1 == 3 && pr->count == 1 && pr->intent == 0);
    CHECK(cy && cy->t0 == 3 && cy->t1 == 5);
    CHECK(x->cls[0] == 1 && x->cls[1] == 0 && x->cls[2] == 0 && x->cls[3] == 2);
    for (int i = 1; i < x->n; i++) CHECK(strcmp(x->e[i - 1].w[0], x->e[i].w[0]) <= 0);
}

/* Decision of t without menu: hyp string, intent and distance. */
static void decide(const cm_index *x, const char *t, const char *want, int intent, int dist) {
    cm_decision d;
    cm_decide(x, t, NULL, CM_QUERY_REST, &d);
    char *h = cm_hyp(x, &d, NULL);
    CHECK_MSG(!strcmp(h, want) && d.intent == intent && d.dist == dist && d.title == -1 && !d.query,
              "'%s': '%s' intent %d dist %d, want '%s' %d %d", t, h, d.intent, d.dist, want, intent, dist);
    free(h);
    cm_decision_free(&d);
}

static void test_intents(const cm_index *x) {
    decide(x, "pause the music", "command music_pause", 2, 0);
    /* 'stop' (music_next, 1 utterance) and 'pause' (music_pause, 2) both at 1: the votes win */
    decide(x, "stopp", "command music_pause", 2, 1);
    /* 'pause' and 'next song' at 1 with 2 utterances each: the intent listed first */
    decide(x, "pause song", "command music_next", 1, 1);
    decide(x, "what is weather", "defer", 3, 1);
    decide(x, "play green owl", "play -", 0, 2);
    decide(x, "", "defer", -1, -1);
    decide(x, "   ", "defer", -1, -1);
}

static avm_menu menu_of(char **t, int n) { return (avm_menu){"u", t, n}; }

/* Title of t on the menu: index, query and hyp. */
static void title(const cm_index *x, const char *t, char **titles, int n, cm_query q, int want, const char *query,
                  const char *hyp) {
    avm_menu m = menu_of(titles, n);
    cm_decision d;
    cm_decide(x, t, &m, q, &d);
    char *h = cm_hyp(x, &d, &m);
    CHECK_MSG(d.title == want && d.query && !strcmp(d.query, query) && !strcmp(h, hyp),
              "'%s' (%s): title %d query '%s' hyp '%s', want %d '%s' '%s'", t, q == CM_QUERY_REST ? "rest" : "whole",
              d.title, d.query ? d.query : "(null)", h, want, query, hyp);
    free(h);
    cm_decision_free(&d);
}

static void test_titles(const cm_index *x) {
    char *m1[] = {"red box", "blue cap", "blue cat", "bleu cat"};
    title(x, "could you play blue cat", m1, 4, CM_QUERY_REST, 2, "blue cat", "play blue cat");
    title(x, "play blue cat", m1, 4, CM_QUERY_REST, 2, "blue cat", "play blue cat");
    /* the carrier phrase decides: whole transcript -> 'play blue', after 'play' -> 'blue cat' */
    char *m2[] = {"play blue", "blue cat"};
    title(x, "play blue ca", m2, 2, CM_QUERY_REST, 1, "blue ca", "play blue cat");
    title(x, "play blue ca", m2, 2, CM_QUERY_WHOLE, 0, "play blue ca", "play play blue");
    /* an insertion after the title span is title; nothing aligned to it: the whole transcript */
    title(x, "play red fox now", m1, 4, CM_QUERY_REST, 0, "red fox now", "play red box");
    title(x, "play", m1, 4, CM_QUERY_REST, 1, "play", "command music_pause");   /* 6/8 to 'blue cap' first */
    /* ties (both 1 of 7 characters): the first of the menu, in either order */
    char *m3[] = {"abc fox", "abd fox"}, *m4[] = {"abd fox", "abc fox"};
    title(x, "play abx fox", m3, 2, CM_QUERY_REST, 0, "abx fox", "play abc fox");
    title(x, "play abx fox", m4, 2, CM_QUERY_REST, 0, "abx fox", "play abd fox");
    /* a command still ranks the menu (title_rank: the matching whatever the decision), with
     * the words aligned to the nearest title transcript's title ('play red fox': 3 errors) */
    title(x, "pause the music", m1, 4, CM_QUERY_REST, 0, "the music", "command music_pause");
    CHECK_NEAR(cm_char_dist("abc", "abc"), 0, 0);
    CHECK_NEAR(cm_char_dist("", ""), 0, 0);
    CHECK_NEAR(cm_char_dist("abc", "xyz"), 1, 0);
    CHECK_NEAR(cm_char_dist("ab cd", "ab"), 3.0 / 5, 1e-12);   /* the blank is a character */
    CHECK_NEAR(cm_char_dist("ab", "ab cd"), 3.0 / 5, 1e-12);
}

static void test_refusals(void) {
    cm_index x;
    mkdir_p("t2");
    put("t2/text", "u01 pause\n");
    expect(cm_index_read(&x, "t2", "intents.txt"), "t2/intent");
    put("t2/intent", "u01 music_stop\n");
    expect(cm_index_read(&x, "t2", "intents.txt"), "music_stop");
    put("t2/intent", "u02 music_pause\n");
    expect(cm_index_read(&x, "t2", "intents.txt"), "u01");
    put("bad.txt", "music_play title\nmusic_pause cmd\n");
    expect(cm_index_read(&x, "tr", "bad.txt"), "bad.txt:2: intent 'music_pause' has class 'cmd'");
    expect(cm_index_read(&x, "nosuch", "intents.txt"), "nosuch/text");
}

int main(void) {
    char dir[] = "/tmp/avmask-test_ctcmenu.XXXXXX";
    if (!mkdtemp(dir) || chdir(dir)) { perror(dir); return 1; }
    make_dir();
    cm_index x;
    CHECK_MSG(cm_index_read(&x, "tr", "intents.txt") == 0, "%s", avm_error());
    test_index(&x);
    test_intents(&x);
    test_titles(&x);
    cm_index_free(&x);
    test_refusals();
    char *rm = xasprintf("rm -rf '%s'", dir);
    if (system(rm)) fprintf(stderr, "could not remove %s\n", dir);
    free(rm);
    return check_done("test_ctcmenu");
}
