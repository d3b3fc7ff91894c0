/* `avmask pretrain --target=clusters`: its options, the label dirs on the loaders, what a
 * run records of its targets and the rule for resuming (train/README.md, "Cluster targets"). */
#include "common/json.h"
#include "common/util.h"
#include "train/pretrain.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int clusters(const avm_pretrain_opts *po) { return po->model.target == AVM_TARGET_CLUSTERS; }

static const char *dir_opt(const char *v) { return v && v[0] ? v : NULL; }   /* --labels= : none */

void targets_parse(avm_pretrain_opts *po, avm_opts *o) {
    po->labels = dir_opt(po->labels);
    po->valid_labels = dir_opt(po->valid_labels);
    if (!clusters(po)) {
        if (po->labels || po->valid_labels || opts_given(o, "unmasked-weight"))
            avm_die("pretrain: --labels, --valid-labels and --unmasked-weight need --target=clusters");
        return;
    }
    if (!po->labels) avm_die("pretrain: --target=clusters needs --labels=DIR (the label dir `avmask kmeans --apply` wrote for --feats)");
    if (po->valid && !po->valid_labels)
        avm_die("pretrain: --target=clusters with --valid needs --valid-labels=DIR (the labels of %s)", po->valid);
    if (!po->valid && po->valid_labels) avm_die("pretrain: --valid-labels without --valid");
}

void targets_open(avm_pretrain_opts *po, avm_loader *train, avm_loader *valid) {
    if (!clusters(po)) return;
    if (loader_open_labels(train, po->labels, NULL)) avm_die("pretrain: --labels: %s", avm_error());
    int k = labels_k(train->labels);
    if (po->model_in_set[2] && po->model.num_classes != k)
        avm_die("pretrain: --num-classes=%d but %s holds labels of a codebook with k = %d", po->model.num_classes,
                po->labels, k);
    po->model.num_classes = k;
    po->codebook_hash = xstrdup(labels_hash(train->labels));
    if (valid && loader_open_labels(valid, po->valid_labels, po->codebook_hash))
        avm_die("pretrain: --valid-labels: %s", avm_error());
}

static const char *str_key(const json_value *obj, const char *key) {
    const json_value *v = obj ? json_get(obj, key) : NULL;
    return v && v->type == JSON_STR ? v->str : NULL;
}

void targets_check_resume(const avm_pretrain_opts *po, const char *path, const char *config_json) {
    json_value *v = json_parse(config_json);
    const json_value *tr = v ? json_get(v, "train") : NULL, *k = tr ? json_get(tr, "num_classes") : NULL;
    const char *t = str_key(tr, "target"), *hash = str_key(tr, "codebook_hash"), *dir = str_key(tr, "labels");
    const char *mine = clusters(po) ? "clusters" : "features";
    char *theirs = xstrdup(t ? t : "features");      /* no target: written before --target existed */
    char *msg = NULL;
    if (strcmp(theirs, mine))
        msg = xasprintf("%s was trained with --target=%s, this run has --target=%s; use another --out", path, theirs,
                        mine);
    else if (clusters(po) && (!hash || strcmp(hash, po->codebook_hash)))
        msg = xasprintf("%s was trained on labels of codebook %s (k = %g, %s), --labels=%s holds codebook %s (k = %d); "
                        "resume with the same labels or use another --out", path, hash ? hash : "(none)",
                        k && k->type == JSON_NUM ? k->num : NAN, dir ? dir : "?", po->labels, po->codebook_hash,
                        po->model.num_classes);
    json_free(v);       /* freed before dying: sanitizer builds check for leaks at exit */
    free(theirs);
    if (msg) {
        avm_fail("%s", msg);
        free(msg);
        avm_die("pretrain: %s", avm_error());
    }
}

/* Absolute, like the cmvn path: the record names the labels from any directory. */
static void path_value(avm_jw *w, const char *dir) {
    char *real = realpath(dir, NULL);
    jw_str(w, real ? real : dir);
    free(real);
}

void targets_config_json(const avm_pretrain_opts *po, avm_jw *w) {
    jw_key(w, "target"); jw_str(w, clusters(po) ? "clusters" : "features");
    if (!clusters(po)) return;
    jw_key(w, "labels"); path_value(w, po->labels);
    jw_key(w, "valid_labels"); if (po->valid_labels) path_value(w, po->valid_labels); else jw_null(w);
    jw_key(w, "codebook_hash"); jw_str(w, po->codebook_hash ? po->codebook_hash : "");
    jw_key(w, "num_classes"); jw_int(w, po->model.num_classes);
    jw_key(w, "unmasked_weight"); jw_num(w, po->unmasked_weight);
}
