/* data/slu: the intent list, intent files and menu files; every refusal is one line
 * naming the file and line. */
#include "check.h"
#include "errcheck.h"
#include "common/util.h"
#include "data/slu.h"
#include <stdlib.h>
#include <string.h>

static void test_intents(void) {
    avm_intents l;
    put("intents.txt", "music_play title\nmusic_pause command\nweather_query\n");
    CHECK(intents_read(&l, "intents.txt") == 0);
    CHECK(l.n == 3 && !strcmp(l.name[1], "music_pause") && !strcmp(l.cls[1], "command") && !strcmp(l.cls[2], ""));
    CHECK(intents_find(&l, "weather_query") == 2 && intents_find(&l, "weather") == -1);
    intents_free(&l);
    put("i2.txt", "a\nb\na\n");
    expect(intents_read(&l, "i2.txt"), "i2.txt:3: intent 'a' is listed twice");
    put("i3.txt", "a\n\nb\n");
    expect(intents_read(&l, "i3.txt"), "i3.txt:2: empty line");
    put("i4.txt", "a command extra\n");
    expect(intents_read(&l, "i4.txt"), "i4.txt:1: expected '<intent> [<class>]'");
    put("i5.txt", "");
    expect(intents_read(&l, "i5.txt"), "i5.txt: no intents");
    expect(intents_read(&l, "nosuch.txt"), "nosuch.txt");
}

static void test_intent_file(void) {
    avm_intents l;
    put("intents.txt", "music_play title\nmusic_pause command\nweather_query other\n");
    CHECK(intents_read(&l, "intents.txt") == 0);
    char *utts[] = {"u3", "u1", "u2"};
    int lab[3] = {-1, -1, -1};
    put("intent", "u0 weather_query\nu1 music_pause\nu2 music_play\nu3 weather_query\n");
    CHECK(intent_read("intent", &l, utts, 3, lab) == 0);   /* u0 is not in the data dir: ignored */
    CHECK(lab[0] == 2 && lab[1] == 1 && lab[2] == 0);
    put("missing", "u1 music_pause\nu3 weather_query\n");
    expect(intent_read("missing", &l, utts, 3, lab), "missing:2: no intent for utterance 'u2'");
    put("missing_end", "u1 music_pause\nu2 music_play\n");
    expect(intent_read("missing_end", &l, utts, 3, lab), "missing_end:3: no intent for utterance 'u3'");
    put("unknown", "u1 music_pause\nu2 music_plya\nu3 weather_query\n");
    expect(intent_read("unknown", &l, utts, 3, lab), "unknown:2: unknown intent 'music_plya'");
    put("two", "u1 music_pause music_play\nu2 music_play\nu3 weather_query\n");
    expect(intent_read("two", &l, utts, 3, lab), "two:1: expected '<utt-id> <intent>'");
    put("none", "u1 music_pause\nu2\nu3 weather_query\n");
    expect(intent_read("none", &l, utts, 3, lab), "none:2: expected '<utt-id> <intent>'");
    put("unsorted", "u2 music_play\nu1 music_pause\nu3 weather_query\n");
    expect(intent_read("unsorted", &l, utts, 3, lab), "unsorted:2:");
    put("empty", "");
    expect(intent_read("empty", &l, utts, 3, lab), "empty:1: no intent for utterance 'u3'");
    intents_free(&l);
}

static void test_menus(void) {
    avm_menus m;
    put("menu5", "u1 silver harbor|quiet river | golden moon\nu2 amber sky|old road\n");
    CHECK(menus_read(&m, "menu5") == 0);
    CHECK(m.n == 2);
    const avm_menu *a = menus_find(&m, "u1");
    CHECK(a && a->n == 3 && !strcmp(a->title[1], "quiet river") && !strcmp(a->title[2], "golden moon"));
    CHECK(menus_find(&m, "u2") && menus_find(&m, "u2")->n == 2 && !menus_find(&m, "u3"));
    menus_free(&m);
    put("m_empty", "u1 a b|c d\nu2\n");
    expect(menus_read(&m, "m_empty"), "m_empty:2: empty menu");
    put("m_rep", "u1 a b|c d|a b\n");
    expect(menus_read(&m, "m_rep"), "m_rep:1: title 'a b' appears twice in the menu");
    put("m_rep2", "u0 x\nu1 a b|c d| a b \n");
    expect(menus_read(&m, "m_rep2"), "m_rep2:2: title 'a b' appears twice");
    put("m_bar", "u1 a b||c d\n");
    expect(menus_read(&m, "m_bar"), "m_bar:1: empty title (title 2 of the menu)");
    put("m_sort", "u2 a\nu1 b\n");
    expect(menus_read(&m, "m_sort"), "m_sort:2:");
}

int main(void) {
    test_intents();
    test_intent_file();
    test_menus();
    return check_done("test_slu");
}
