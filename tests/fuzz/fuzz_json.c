/* Fuzz target: the JSON reader (common/json.c), which reads config.json, asr.json,
 * metrics.jsonl, job files and every JSON attribute. Invariants: a document that parses
 * re-serialises (jw_value) to JSON that parses again and serialises to the same text;
 * json_int_range never converts a number outside its range. */
#include "fuzz.h"
#include "common/json.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_cstr(data, size);
    json_value *v = json_parse(text);
    free(text);
    if (!v) return 0;
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
