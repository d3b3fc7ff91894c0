/* Fuzz target: the JSON reader (common/json.c), which reads config.json, asr.json,
 * metrics.jsonl, job files and every JSON attribute. Invariants: a document that parses
 * re-serialises (jw_value) to JSON that parses again and serialises to the same text;
 * json_int_range never converts a number outside its range; a UTF-8 document gives UTF-8
 * strings and keys (no NUL byte cutting one, no surrogate code points). */
#include "fuzz.h"
#include "common/json.h"
#include "common/util.h"
#include <stdlib.h>
#include <string.h>

/* Every string and key of v is UTF-8 (utf8_valid refuses surrogates and overlong forms). */
static int all_utf8(const json_value *v) {
    if (v->type == JSON_STR && !utf8_valid(v->str)) return 0;
    for (int i = 0; i < v->n; i++)
        if ((v->keys && !utf8_valid(v->keys[i])) || !all_utf8(v->items[i])) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    json_value *v = json_parse(text);
    int utf8 = utf8_valid(text) && strlen(text) == size;
    free(text);
    if (!v) return 0;
    if (utf8 && !all_utf8(v)) fuzz_bug("a UTF-8 document gave a string that is not UTF-8");
    char *t1 = json_text(v);
    json_value *w = json_parse(t1);
    if (!w) fuzz_bug("re-serialised JSON does not parse");
    char *t2 = json_text(w);
    if (strcmp(t1, t2)) fuzz_bug("JSON round trip is not stable");
    char key[128];
    if (json_first_diff(v, w, "doc", key, sizeof key) && v->type != JSON_NUM && v->type != JSON_OBJ &&
        v->type != JSON_ARR)
        fuzz_bug("a scalar changed in the round trip");
    if (v->type == JSON_OBJ)
        for (int i = 0; i < v->n; i++) {
            long long x;
            if (strchr(v->keys[i], '.')) continue;   /* json_path splits on dots */
            if (!json_int_range(v, v->keys[i], -1000, 1000, JSON_REQUIRED, &x) && (x < -1000 || x > 1000))
                fuzz_bug("json_int_range returned a value outside its range");
        }
    free(t1); free(t2);
    json_free(v);
    json_free(w);
    return 0;
}
