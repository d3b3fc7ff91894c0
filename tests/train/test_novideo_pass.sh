#!/usr/bin/env bash
# timeout: 90
# avmask pretrain --novideo-pass=1 (train/README.md "The no-video pass"): every step also
# predicts the masked audio with the video dropped and adds that mean loss to the objective.
# - Composition, checked against two runs without the pass (dropout off, so nothing random
#   but the masks, which are keyed by seed, step and sample): the first step's gradient is
#   the sum of the gradient with the video present (--modality-dropout-video=0) and the
#   gradient with the video always dropped (--modality-dropout-video=1), max rel 1e-5, and
#   the logged loss is the sum of theirs; loss_audio_novideo is the second run's loss_audio.
#   Also with noisy input (the pass reads the step's noisy audio) and cluster targets, with
#   and without the unmasked tokens' term (--unmasked-weight: the pass scores them too).
# - mpirun -np 2 gives one process's gradient (the pass has its own global token count).
# - SIGKILL and --resume: bitwise the uninterrupted run; the setting is in config.json.
# - --novideo-pass=1 with --modalities=audio is refused with one line.
set -u
fail() { echo "FAIL: $*"; exit 1; }
. "$AVMASK_ROOT/tests/train/mpi_launch.sh"   # mpi=(mpirun ... -np 2)
mk=$AVMASK_BUILD/tools/train_mkfeats
$mk --out=tr --n=9 --min-tokens=10 --max-tokens=30 || fail mkfeats
$mk --out=va --n=4 --seed=2 --min-tokens=10 --max-tokens=30 || fail mkfeats
$mk --out=nz --n=4 --seed=3 --min-tokens=2 --max-tokens=60 --no-video || fail mkfeats
"$AVMASK" kmeans --feats=tr --out=km --k=6 --source=fbank --sample=1 2>/dev/null || fail kmeans
"$AVMASK" kmeans --apply --codebook=km --feats=tr --out=lab 2>/dev/null || fail "kmeans --apply"
one=(pretrain --feats=tr --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=1 --batch-tokens=300 --max-len=30
     --dropout=0 --attn-dropout=0 --threads=1 --log-every=1 --mask-prob-audio=0.2 --modalities=av)
for mode in l1 noise clusters clusters_um; do
    case $mode in
        noise) mo=(--noise-feats=nz --noise-prob=0.7) ;;
        clusters) mo=(--target=clusters --labels=lab) ;;
        clusters_um) mo=(--target=clusters --labels=lab --unmasked-weight=0.7) ;;
        *) mo=() ;;
    esac
    "$AVMASK" "${one[@]}" "${mo[@]}" --novideo-pass=1 --out=p_$mode --dump-grad=gp_$mode.f32 2>p.err || { cat p.err; fail "pass ($mode)"; }
    "$AVMASK" "${one[@]}" "${mo[@]}" --out=a_$mode --dump-grad=ga_$mode.f32 2>a.err || { cat a.err; fail "video ($mode)"; }
    "$AVMASK" "${one[@]}" "${mo[@]}" --modality-dropout-video=1 --out=b_$mode --dump-grad=gb_$mode.f32 2>b.err ||
        { cat b.err; fail "video dropped ($mode)"; }
    mpi_pair $mode "${one[@]}" "${mo[@]}" --novideo-pass=1 --modality-dropout-video=0.4
done
"$PY" - <<'PY' || fail "the pass's gradient or losses"
import json, os, sys, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import grad_rel, same_metrics
g = lambda f: np.fromfile(f, np.float32)
m = lambda d: json.loads(open(d + "/metrics.jsonl").readline())
for mode in ("l1", "noise", "clusters", "clusters_um"):
    p, a, b = g("gp_%s.f32" % mode), g("ga_%s.f32" % mode), g("gb_%s.f32" % mode)
    assert p.size == a.size == b.size and p.size > 10000, (p.size, a.size, b.size)
    assert np.abs(b).max() > 0.1 * np.abs(a).max(), "the dropped-video run has no gradient"
    rel = np.abs(p - (a + b)).max() / np.abs(p).max()
    print("%s: pass gradient vs video + video-dropped gradients: max rel %.3g over %d" % (mode, rel, p.size))
    assert rel <= 1e-5, rel
    mp, ma, mb = m("p_" + mode), m("a_" + mode), m("b_" + mode)
    assert abs(mp["loss"] - (ma["loss"] + mb["loss"])) <= 1e-6 * mp["loss"], (mp, ma, mb)
    assert mp["loss_audio_novideo"] == mb["loss_audio"] and mp["loss_audio"] == ma["loss_audio"], (mp, ma, mb)
    assert "loss_audio_novideo" not in ma
    grad_rel(mode, min_size=10000)
    a, b = same_metrics(mode, ("loss", "loss_audio", "loss_audio_novideo"), 1e-6)
    assert "loss_audio_novideo" in a[0]
# the unmasked term acts (so its composition above is checked, not vacuous)
du = np.abs(g("gb_clusters_um.f32") - g("gb_clusters.f32")).max() / np.abs(g("gb_clusters.f32")).max()
print("clusters: --unmasked-weight=0.7 moves the video-dropped gradient by max rel %.3g" % du)
assert du > 0.05, du
PY

# killed after step 9 (last checkpoint: step 6) and resumed: bitwise the same run
run=(pretrain --feats=tr --valid=va --model=tiny --d=32 --ffn=64 --heads=2 --max-steps=14 --batch-tokens=240
     --max-len=30 --lr=3e-3 --warmup=4 --log-every=1 --valid-every=5 --save-every=6 --modalities=av
     --novideo-pass=1 --modality-dropout-video=0.3 --dropout=0.1 --attn-dropout=0.1 --threads=2)
"$AVMASK" "${run[@]}" --out=u 2>u.err || { cat u.err; fail "uninterrupted run"; }
"$AVMASK" "${run[@]}" --out=k --debug-kill-step=9 2>k.err
[ $? = 137 ] || fail "expected death by SIGKILL (137)"
"$AVMASK" "${run[@]}" --out=k --resume 2>k2.err || { cat k2.err; fail "resume"; }
grep -q "resuming at step 6" k2.err || { cat k2.err; fail "resume message"; }
"$PY" - <<'PY' || fail "resumed run differs"
import json, os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
u, k = rows("u/metrics.jsonl"), rows("k/metrics.jsonl")
assert u == k, [(x, y) for x, y in zip(u, k) if x != y][:3]
assert sum("loss_audio_novideo" in r for r in u) == 14
assert json.load(open("u/config.json"))["train"]["novideo_pass"] == 1
fu, fk = h5py.File("u/checkpoint-last.h5", "r"), h5py.File("k/checkpoint-last.h5", "r")
assert all(np.array_equal(fu["params"][n][()], fk["params"][n][()]) for n in fu["params"])
print("resume: %d metric lines and the parameters bitwise equal" % len(u))
PY
grep -q "audio_novideo" u/train.log || fail "train.log lacks the pass's loss"

"$AVMASK" "${one[@]}" --modalities=audio --novideo-pass=1 --out=x >x.out 2>x.err && fail "accepted with audio only"
[ "$(wc -l <x.err)" = 1 ] && grep -q "novideo-pass=1 needs --modalities=av" x.err || { cat x.err; fail "unclear refusal"; }
[ ! -e x ] || fail "a refused run left x/"
echo "test_novideo_pass: ok"
