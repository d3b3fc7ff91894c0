/* `avmask kmeans`: fit a codebook, apply it (label shards), measure labels against phone
 * alignments. The modes live in kmeans_fit.c, kmeans_apply.c and kmeans_metrics.c. */
#include "cluster/kmeans_cmd.h"

static const char *usage =
    "usage: avmask kmeans --feats=DIR --out=DIR [--k=100 --source=mfcc|fbank ...]     fit a codebook\n"
    "       avmask kmeans --apply --codebook=DIR|FILE --feats=DIR --out=DIR [--job=K/N] [--ali=CTM]\n"
    "       avmask kmeans --merge --codebook=DIR|FILE --feats=DIR --out=DIR [--ali=CTM]\n"
    "       avmask kmeans --metrics --labels=DIR --feats=DIR --ali=CTM [--json=FILE]\n"
    "Clusters 25 Hz token vectors of a feature dir (HuBERT's cluster targets), streaming the\n"
    "shards (memory does not grow with the corpus). See cluster/README.md.\n"
    "fit:\n"
    "  --k=100            clusters\n"
    "  --source=mfcc      mfcc (13 cepstra + deltas + delta-deltas, mean over the token's 4\n"
    "                     frames, standardised: 39 dims), fbank (4 stacked CMVN frames) or layer\n"
    "  --checkpoint=FILE  layer: a pretraining checkpoint (AV: the video enters, features are audio-visual)\n"
    "  --layer=N          layer: 0 embeddings, 1..La audio encoder, La+1..La+Lf fusion (standardised)\n"
    "  --batch-tokens=4000  layer: padded tokens per forward batch\n"
    "  --sample=0.1       fraction of tokens drawn for the k-means++ seeding ...\n"
    "  --max-sample=100000  ... at most this many (reservoir)\n"
    "  --n-init=5         k-means++ seedings (each refined by Lloyd on the sample); the best is kept\n"
    "  --iters=20         streamed Lloyd passes at most\n"
    "  --tol=1e-4         stop when a pass lowers the inertia by less than this fraction\n"
    "  --batch=8192       tokens per block (memory)\n"
    "  --seed=1           sampling and seeding\n"
    "  --dump-feats=FILE  also write every clustered vector to FILE (/x; tests, small sets)\n"
    "  writes OUT/codebook.h5, OUT/kmeans.json, OUT/kmeans.jsonl (inertia per pass), OUT/kmeans.log\n"
    "apply (label shards OUT/labels-NNNNN.h5, OUT/index.tsv, OUT/labels.json):\n"
    "  --job=K/N          only job K of N (contiguous shards); then --merge writes the index\n"
    "  --ali=CTM          also phone purity, cluster purity, PNMI -> OUT/metrics.json\n"
    "  --batch=8192\n"
    "  --checkpoint=FILE  layer: the codebook's checkpoint if it moved (its checksum must match)\n"
    "every mode: --threads=N (OpenMP and OpenBLAS)\n";

int cmd_kmeans(int argc, char **argv) {
    avm_opts o;
    opts_parse(&o, "kmeans", usage, argc, argv);
    int apply = opt_bool(&o, "apply", 0), merge = opt_bool(&o, "merge", 0), metrics = opt_bool(&o, "metrics", 0);
    if (apply + merge + metrics > 1) avm_die("kmeans: --apply, --merge and --metrics exclude each other");
    if (o.npos) avm_die("kmeans: unexpected argument '%s' (options are --key=value)", o.pos[0]);
    int rc = apply || merge ? kmeans_apply(&o) : metrics ? kmeans_metrics(&o) : kmeans_fit(&o);
    opts_free(&o);
    return rc;
}
