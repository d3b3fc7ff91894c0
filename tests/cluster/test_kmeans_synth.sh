# timeout: 120
# avmask kmeans on a real tiny corpus (avmask synth, 4 speakers x 5 utterances, extracted):
# per-frame MFCC + deltas against torchaudio.compliance.kaldi.mfcc (1e-5 of the largest
# value), the clustered token vectors against numpy from the shards (1e-4), then --apply
# --ali with phone purity, cluster purity and PNMI against numpy on the same labels and
# phones.ctm (1e-9), and --metrics giving the same numbers. tests/ref/kmeans_mfcc_ref.py,
# tests/ref/kmeans_check.py.
set -eu
"$AVMASK" synth --out=corpus --speakers=4 --utts-per-speaker=5 --heldout-speakers=2 --snr=clean --noise-clips=0
"$AVMASK" extract --data=corpus/train --out=feats
"$PY" "$AVMASK_ROOT/tests/ref/kmeans_mfcc_ref.py" frames "$AVMASK_BUILD/tools/kmeans_mfcc_dump" "$TEST_TMP"
"$AVMASK" kmeans --feats=feats --out=km --k=12 --sample=0.5 --dump-feats=dump.h5
"$PY" "$AVMASK_ROOT/tests/ref/kmeans_mfcc_ref.py" tokens feats dump.h5 km/codebook.h5
"$AVMASK" kmeans --apply --codebook=km --feats=feats --out=lab --ali=corpus/train/phones.ctm
"$PY" "$AVMASK_ROOT/tests/ref/kmeans_check.py" labels feats lab dump.h5 km/codebook.h5
"$PY" "$AVMASK_ROOT/tests/ref/kmeans_check.py" metrics feats lab corpus/train/phones.ctm lab/metrics.json
"$AVMASK" kmeans --metrics --labels=lab --feats=feats --ali=corpus/train/phones.ctm --json=m2.json
"$PY" -c 'import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:]); assert a == b, (a, b)' lab/metrics.json m2.json
echo "all synth kmeans checks passed"
