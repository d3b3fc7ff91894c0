/* Voice-assistant sentences from templates with slots. A template is a string of
 * words where "$slot" is replaced by a random entry of that slot's list (an entry
 * may be several words, or itself contain slots, e.g. times). */
#include "data/synth/synth_text.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

typedef struct { const char *name; const char *const *items; } slot;

static const char *const names[] = {"anna", "ben", "carla", "david", "emma", "frank", "grace",
    "henry", "isabel", "jack", "kate", "liam", "maria", "nathan", "olivia", "peter", "rachel",
    "samuel", "sophie", "thomas", "victor", "william", "zoe", "mum", "dad", "grandma", "michael",
    "laura", "james", "helen", "robert", "susan", "daniel", "julia", "martin", "lucy", NULL};
static const char *const places[] = {"london", "paris", "berlin", "madrid", "boston", "chicago",
    "seattle", "denver", "tokyo", "sydney", "dublin", "toronto", "vienna", "rome", "oslo",
    "the airport", "the station", "the office", "the hospital", "the library", "the beach",
    "the park", "the museum", "the city centre", "home", "work", "school", "the gym",
    "the supermarket", "the bakery", NULL};
static const char *const rooms[] = {"kitchen", "bedroom", "living room", "bathroom", "hallway",
    "garage", "garden", "office", "dining room", "basement", NULL};
static const char *const digits[] = {"zero", "one", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", NULL};
static const char *const small_numbers[] = {"one", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", "ten", "eleven", "twelve", "fifteen", "twenty", "twenty five", "thirty",
    "forty", "forty five", "fifty", "sixty", "ninety", NULL};
static const char *const hours[] = {"one", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", "ten", "eleven", "twelve", "noon", "midnight", NULL};
static const char *const minutes[] = {"", "fifteen", "thirty", "forty five", "o clock", "ten",
    "twenty", "fifty", NULL};
static const char *const days[] = {"today", "tomorrow", "tonight", "this morning",
    "this afternoon", "this evening", "on monday", "on tuesday", "on wednesday", "on thursday",
    "on friday", "on saturday", "on sunday", "next week", "this weekend", NULL};
static const char *const months[] = {"january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december", NULL};
static const char *const genres[] = {"jazz", "rock", "classical", "pop", "country", "blues",
    "reggae", "soul", "folk", "dance", "relaxing", "some", "happy", "quiet", NULL};
static const char *const items[] = {"milk", "bread", "eggs", "butter", "cheese", "apples",
    "bananas", "coffee", "tea", "sugar", "rice", "pasta", "tomatoes", "potatoes", "onions",
    "carrots", "chicken", "fish", "orange juice", "yoghurt", "soap", "batteries", "paper towels",
    "olive oil", "chocolate", "cereal", "water", "lemons", NULL};
static const char *const tasks[] = {"call the doctor", "water the plants", "feed the cat",
    "take the medicine", "pay the rent", "buy a present", "book a table", "check the mail",
    "walk the dog", "clean the kitchen", "pick up the kids", "send the report",
    "charge the phone", "lock the door", "take out the rubbish", "renew the passport", NULL};
static const char *const devices[] = {"lights", "heating", "fan", "television", "radio",
    "air conditioning", "coffee machine", "alarm", "music", "oven", NULL};
static const char *const apps[] = {"calendar", "camera", "map", "clock", "calculator",
    "settings", "messages", "photos", "news", "weather app", NULL};
static const char *const phrases[] = {"i am on my way", "i will be late", "see you soon",
    "call me back", "running ten minutes late", "dinner is ready", "happy birthday",
    "thank you very much", "where are you", "i am at home", "good night", "let us meet at noon",
    NULL};
static const char *const onoff[] = {"on", "off", NULL};
static const char *const updown[] = {"up", "down", NULL};
static const char *const please[] = {"", "", "please", NULL};
static const char *const colours[] = {"red", "blue", "green", "yellow", "white", "purple",
    "orange", "warm", "bright", "dim", NULL};

static const slot slots[] = {
    {"name", names}, {"place", places}, {"room", rooms}, {"digit", digits},
    {"num", small_numbers}, {"hour", hours}, {"min", minutes}, {"day", days},
    {"month", months}, {"genre", genres}, {"item", items}, {"task", tasks},
    {"device", devices}, {"app", apps}, {"phrase", phrases}, {"onoff", onoff},
    {"updown", updown}, {"please", please}, {"colour", colours}, {NULL, NULL}};

static const char *const templates[] = {
    "turn $onoff the $room $device $please",
    "$please turn the $device $onoff",
    "set the $room lights to $colour",
    "set a timer for $num minutes",
    "set an alarm for $hour $min $day",
    "wake me up at $hour $min",
    "call $name",
    "call $name at $hour $min $day",
    "send a message to $name saying $phrase",
    "text $name $phrase",
    "what is the weather in $place $day",
    "will it rain in $place $day",
    "what time is it in $place",
    "navigate to $place",
    "how long does it take to get to $place",
    "play $genre music in the $room",
    "play $genre music $please",
    "turn the volume $updown",
    "remind me to $task $day",
    "remind me to $task at $hour $min",
    "add $item to my shopping list",
    "add $item and $item to the list",
    "do we need $item",
    "set the temperature to $num degrees",
    "open the $app",
    "my code is $digit $digit $digit $digit",
    "dial $digit $digit $digit $digit $digit $digit",
    "the number is $digit $digit $digit",
    "book a table for $digit at $hour $min",
    "what is on my calendar $day",
    "schedule a meeting with $name $day at $hour",
    "is $name at $place",
    "when is the next train to $place",
    "find a flight to $place in $month",
    "show me photos from $month",
    "stop the $device",
    "pause the music",
    "what is the news $day",
    NULL};

static const char *const *slot_items(const char *name, size_t len) {
    for (int i = 0; slots[i].name; i++)
        if (strlen(slots[i].name) == len && !strncmp(slots[i].name, name, len)) return slots[i].items;
    return NULL;
}

static int count(const char *const *list) {
    int n = 0;
    while (list[n]) n++;
    return n;
}

/* Expands template t into out; empty entries ("" optional words) add nothing. */
static void expand(avm_rng *r, const char *t, avm_strbuf *out) {
    while (*t) {
        while (*t == ' ') t++;
        const char *e = t;
        while (*e && *e != ' ') e++;
        if (e == t) break;
        if (*t == '$') {
            const char *const *list = slot_items(t + 1, (size_t)(e - t - 1));
            if (list) expand(r, list[rng_below(r, (uint32_t)count(list))], out);
        } else {
            if (out->len && out->s[out->len - 1] != ' ') sb_add(out, " ");
            sb_addn(out, t, (size_t)(e - t));
        }
        t = e;
    }
}

void synth_sentence(avm_rng *r, avm_strbuf *out) {
    expand(r, templates[rng_below(r, (uint32_t)count(templates))], out);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char **vocab;
static int vocab_n;

/* Adds every word of every template and slot entry. */
static void add_words(const char *s, char ***v, int *n, int *cap) {
    while (*s) {
        while (*s == ' ') s++;
        const char *e = s;
        while (*e && *e != ' ') e++;
        if (e > s && *s != '$') {
            if (*n == *cap) *v = xrealloc(*v, (size_t)(*cap = *cap ? 2 * *cap : 256) * sizeof **v);
            (*v)[(*n)++] = strndup(s, (size_t)(e - s));
        }
        s = e;
    }
}

const char *const *synth_vocab(int *n) {
    if (!vocab) {
        int cap = 0, m = 0;
        char **v = NULL;
        for (int i = 0; templates[i]; i++) add_words(templates[i], &v, &m, &cap);
        for (int i = 0; slots[i].name; i++)
            for (int j = 0; slots[i].items[j]; j++) add_words(slots[i].items[j], &v, &m, &cap);
        qsort(v, (size_t)m, sizeof *v, cmp_str);
        int k = 0;
        for (int i = 0; i < m; i++) {
            if (k && !strcmp(v[k - 1], v[i])) { free(v[i]); continue; }
            v[k++] = v[i];
        }
        vocab = v;
        vocab_n = k;
    }
    *n = vocab_n;
    return (const char *const *)vocab;
}
