/* `avmask kmeans`: fit a codebook, apply it (label shards), measure labels against phone
 * alignments. The modes live in kmeans_fit.c, kmeans_apply.c and kmeans_metrics.c. */
#include "cluster/kmeans_cmd.h"

/* modes: fit (bit 0), --apply (1), --merge (2), --metrics (3) */
enum { FIT = 1, APPLY = 2, MERGE = 4, METRICS = 8 };
#define F(f) OPT_FIELD(km_opts, f)
static const avm_optdef table[] = {
    {OPT_TEXT, .help = "modes (at most one; none: fit a codebook):"},
    {OPT_FLAG, "apply", F(apply), .help = "label shards of --feats with --codebook: OUT/labels-NNNNN.h5,\n"
                                          "OUT/index.tsv, OUT/labels.json"},
    {OPT_FLAG, "merge", F(merge), .help = "after --apply --job=K/N jobs: check the label shards, write the index"},
    {OPT_FLAG, "metrics", F(metrics), .help = "phone purity, cluster purity, PNMI of --labels against --ali"},
    {OPT_TEXT, .help = "every mode:"},
    {OPT_STR, "feats", F(feats), .meta = "DIR", .flags = OPT_REQ, .help = "feature dir (avmask extract)"},
    {OPT_STR, "out", F(out), .meta = "DIR", .flags = OPT_REQ, .modes = FIT | APPLY | MERGE,
     .help = "codebook dir (fit) or label dir (apply, merge)"},
    OPT_THREADS("OpenMP and OpenBLAS threads (default: all cores or OMP_NUM_THREADS)"),
    {OPT_TEXT, .help = "fit (writes OUT/codebook.h5, OUT/kmeans.json, OUT/kmeans.jsonl: inertia per pass,\n"
                       "OUT/kmeans.log):"},
    {OPT_INT, "k", F(k), .def = "100", .lo = 1, .hi = 1 << 16, .modes = FIT, .help = "clusters"},
    {OPT_ENUM, "source", F(source), .def = "mfcc", .values = "mfcc|fbank|layer", .modes = FIT,
     .help = "mfcc: 13 cepstra + deltas + delta-deltas, mean over\n"
             "the token's 4 frames, standardised (39 dims); fbank: 4 stacked CMVN frames;\n"
             "layer: a hidden state of --checkpoint (standardised)"},
    {OPT_STR, "checkpoint", F(ckpt), .meta = "FILE", .modes = FIT | APPLY | MERGE,
     .help = "layer: a pretraining checkpoint (AV: the video enters, features\n"
             "are audio-visual); apply: the codebook's checkpoint if it moved (its\n"
             "checksum must match)"},
    {OPT_INT, "layer", F(layer), .lo = 0, .hi = 4095, .meta = "N", .modes = FIT,
     .help = "layer: 0 embeddings, 1..La audio encoder, La+1..La+Lf fusion"},
    {OPT_ENUM, "video", F(video), .def = "use", .values = "use|drop", .modes = FIT,
     .help = "layer, AV checkpoint: use: the video enters (AV-HuBERT's labels);\n"
             "drop: it is absent, as in the exported audio branch (what its\n"
             "fine-tuning and probes see); recorded in the codebook"},
    {OPT_INT, "batch-tokens", F(batch_tokens), .def = "4000", .lo = 1, .hi = 1L << 30, .modes = FIT | APPLY | MERGE,
     .help = "layer: padded tokens per forward batch"},
    {OPT_NUM, "sample", F(sample), .def = "0.1", .min = 0, .max = 1, .flags = OPT_MIN_OPEN, .modes = FIT,
     .help = "fraction of tokens drawn for the k-means++ seeding ..."},
    {OPT_INT, "max-sample", F(max_sample), .def = "100000", .lo = 1, .hi = 1 << 26, .modes = FIT,
     .help = "... at most this many (reservoir)"},
    {OPT_INT, "n-init", F(n_init), .def = "5", .lo = 1, .hi = 1000, .modes = FIT,
     .help = "k-means++ seedings (each refined by Lloyd on the sample); the best is kept"},
    {OPT_INT, "iters", F(iters), .def = "20", .lo = 1, .hi = 100000, .modes = FIT, .help = "streamed Lloyd passes at most"},
    {OPT_NUM, "tol", F(tol), .def = "1e-4", .min = 0, .max = 1, .flags = OPT_MAX_OPEN, .modes = FIT,
     .help = "stop when a pass lowers the inertia by less than this fraction"},
    {OPT_INT, "batch", F(batch), .def = "8192", .lo = 1, .hi = 1 << 24, .modes = FIT | APPLY | MERGE,
     .help = "tokens per block (memory)"},
    {OPT_INT, "seed", F(seed), .def = "1", .lo = 0, .hi = 1L << 62, .modes = FIT, .help = "sampling and seeding"},
    {OPT_STR, "dump-feats", F(dump), .meta = "FILE", .modes = FIT,
     .help = "also write every clustered vector to FILE (/x; tests, small sets)"},
    {OPT_TEXT, .help = "apply, merge (label shards OUT/labels-NNNNN.h5, OUT/index.tsv, OUT/labels.json):"},
    {OPT_STR, "codebook", F(codebook), .meta = "DIR|FILE", .flags = OPT_REQ, .modes = APPLY | MERGE,
     .help = "codebook dir or its codebook.h5"},
    {OPT_STR, "job", F(job_arg), .meta = "K/N", .modes = APPLY,
     .help = "only job K of N (contiguous shards); then --merge writes the index"},
    {OPT_STR, "ali", F(ali), .meta = "CTM", .modes = APPLY | MERGE | METRICS,
     .help = "phone alignment: with --apply/--merge also phone purity, cluster\n"
             "purity, PNMI -> OUT/metrics.json; required with --metrics"},
    {OPT_TEXT, .help = "metrics:"},
    {OPT_STR, "labels", F(labels), .meta = "DIR", .flags = OPT_REQ, .modes = METRICS, .help = "label dir"},
    {OPT_STR, "json", F(json), .meta = "FILE", .modes = METRICS, .help = "where to write (default: LABELS/metrics.json)"},
    {.type = OPT_END},
};

const avm_optspec kmeans_optspec = {
    "kmeans",
    "usage: avmask kmeans --feats=DIR --out=DIR [--k=100 --source=mfcc|fbank|layer ...]   fit a codebook\n"
    "       avmask kmeans --apply --codebook=DIR|FILE --feats=DIR --out=DIR [--job=K/N] [--ali=CTM]\n"
    "       avmask kmeans --merge --codebook=DIR|FILE --feats=DIR --out=DIR [--ali=CTM]\n"
    "       avmask kmeans --metrics --labels=DIR --feats=DIR --ali=CTM [--json=FILE]\n"
    "Clusters 25 Hz token vectors of a feature dir (HuBERT's cluster targets), streaming the\n"
    "shards (memory does not grow with the corpus). See cluster/README.md.\n",
    table, NULL, "fit|apply|merge|metrics",
};

int cmd_kmeans(int argc, char **argv) {
    avm_opts o;
    km_opts k;
    opts_parse(&o, &kmeans_optspec, &k, argc, argv);
    int rc = k.apply || k.merge ? kmeans_apply(&o, &k) : k.metrics ? kmeans_metrics(&o, &k) : kmeans_fit(&o, &k);
    opts_free(&o);
    return rc;
}
