# timeout: 120
# k-means memory stays flat in corpus size: the same fit (fbank tokens, 320 dims, k 50,
# seeding sample capped at 5000 tokens) and the same --apply on a corpus and on one twice
# its size (tests/tools/train_mkfeats, 1000 vs 2000 utterances, ~34k vs ~68k tokens). Peak
# RSS (getrusage: kmeans.json for the fit, RUSAGE_CHILDREN for --apply, run one at a time
# so the children's maximum is the larger of the two) may grow by at most
# 4 MB, while holding the extra corpus's token vectors would take ~44 MB more (printed).
# The same for --source=layer (layer 2 of a tiny audio-only checkpoint trained 1 step on the
# smaller corpus: the model's forward batches stay at --batch-tokens, 128-dim vectors).
set -eu
# ASan keeps freed blocks in a quarantine (up to 256 MB), which would count as growth here
[ "${SAN:-0}" = 1 ] && export ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=0"
for n in 1000 2000; do
    "$AVMASK_BUILD/tools/train_mkfeats" --out=f$n --n=$n --no-video --shard-size=250 --seed=1
    "$AVMASK" kmeans --feats=f$n --out=k$n --source=fbank --k=50 --sample=1 --max-sample=5000 --iters=2 2>/dev/null
done
"$AVMASK" pretrain --feats=f1000 --out=p --model=tiny --modalities=audio --max-steps=1 --batch-tokens=600 >/dev/null 2>&1
for n in 1000 2000; do
    "$AVMASK" kmeans --feats=f$n --out=l$n --source=layer --checkpoint=p/checkpoint-last.h5 --layer=2 --k=50 --sample=1 \
        --max-sample=5000 --iters=1 2>/dev/null
done
"$PY" - <<'PY'
import json, resource, subprocess, os
fit = {n: json.load(open("k%d/kmeans.json" % n)) for n in (1000, 2000)}
app = {}
for n in (1000, 2000):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([os.environ["AVMASK"], "kmeans", "--apply", "--codebook=k%d" % n, "--feats=f%d" % n,
                    "--out=a%d" % n], check=True, stderr=subprocess.DEVNULL)
    app[n] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert app[n] >= before
tok = {n: fit[n]["tokens"] for n in fit}
held = (tok[2000] - tok[1000]) * 320 * 4 / 2**20
for name, r in (("fit", {n: fit[n]["peak_rss_kb"] for n in fit}), ("apply", app)):
    grow = (r[2000] - r[1000]) / 1024
    print("%-5s peak RSS %d tokens: %.1f MB, %d tokens: %.1f MB, growth %.2f MB (limit 4 MB; holding the extra "
          "vectors: %.0f MB)" % (name, tok[1000], r[1000] / 1024, tok[2000], r[2000] / 1024, grow, held))
    assert grow <= 4, name
assert tok[2000] > 1.8 * tok[1000]
lay = {n: json.load(open("l%d/kmeans.json" % n))["peak_rss_kb"] for n in (1000, 2000)}
grow = (lay[2000] - lay[1000]) / 1024
print("layer fit peak RSS %.1f MB -> %.1f MB, growth %.2f MB (limit 4 MB; holding the extra vectors: %.0f MB)"
      % (lay[1000] / 1024, lay[2000] / 1024, grow, (tok[2000] - tok[1000]) * 128 * 4 / 2**20))
assert grow <= 4, "layer fit"
PY
