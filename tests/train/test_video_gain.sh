#!/usr/bin/env bash
# timeout: 120
# Video-gain diagnostics of AV validation (metrics.jsonl, train.log). Two tiny corpora from
# tests/tools/train_mkfeats: segments of 2-5 tokens of 8 classes, each class fixing an fbank
# and a video template. Audio spans of 8 tokens cover whole segments, so only the (unmasked)
# video tells what was under a mask: in the first corpus the video follows the audio's
# classes, in the control it follows classes of its own. After 200 tiny steps the masked-audio
# loss with the true video must be clearly below the loss with shuffled or dropped video
# (gain > 50 %; about 90 % seen) in the first corpus, and equal to them (|gain| < 5 %; about
# 0.3 % seen) in the control. The time-concatenated fusion's gain is printed for comparison.
set -euo pipefail
mk="$AVMASK_BUILD/tools/train_mkfeats"
common=(--min-tokens=30 --max-tokens=60 --seg-min=2 --seg-max=5)
for k in rel unrel; do
    opt=(); [ $k = unrel ] && opt=(--unrelated-video)
    "$mk" --out=tr-$k --n=64 --seed=1 "${common[@]}" "${opt[@]}"
    "$mk" --out=va-$k --n=16 --seed=2 "${common[@]}" "${opt[@]}"
done
run=(pretrain --model=tiny --d=32 --ffn=64 --heads=2 --dropout=0 --attn-dropout=0 --max-steps=200
     --batch-tokens=600 --lr=3e-3 --warmup=20 --valid-every=100 --log-every=50 --mask-prob-audio=0.1
     --mask-len-audio=8 --mask-prob-video=0 --modality-dropout-video=0.3 --threads=2)
"$AVMASK" "${run[@]}" --feats=tr-rel --valid=va-rel --out=rel > /dev/null
"$AVMASK" "${run[@]}" --feats=tr-unrel --valid=va-unrel --out=unrel > /dev/null
"$AVMASK" "${run[@]}" --feats=tr-rel --valid=va-rel --out=seq --fusion=sequence > /dev/null
grep -q 'video gain' rel/train.log
"$PY" - <<'PY'
import json
def last(d):
    return [json.loads(l) for l in open(d + "/metrics.jsonl") if "valid_loss" in l][-1]
rel, unrel, seq = last("rel"), last("unrel"), last("seq")
for name, r in (("video determines audio", rel), ("unrelated video", unrel), ("same, fusion=sequence", seq)):
    print("%-24s masked audio: video %.4f, shuffled %.4f, dropped %.4f; gain %+.1f %% / %+.1f %%" % (
        name, r["valid_loss_audio"], r["valid_loss_audio_shuffled"], r["valid_loss_audio_novideo"],
        100 * r["video_gain_shuffled"], 100 * r["video_gain_dropped"]))
assert rel["video_gain_shuffled"] > 0.5 and rel["video_gain_dropped"] > 0.5, rel
assert abs(unrel["video_gain_shuffled"]) < 0.05 and abs(unrel["video_gain_dropped"]) < 0.05, unrel
PY

# the report shows the three losses and the gains of every pretraining run
"$AVMASK" report --exp=. --out=report > /dev/null
"$PY" - <<'PY'
import json, re
md = open("report/report.md").read()
assert "does the video help predict the masked audio" in md
for run in ("rel", "unrel", "seq"):
    r = [json.loads(l) for l in open(run + "/metrics.jsonl") if "valid_loss" in l][-1]
    section = md.split("does the video help predict the masked audio")[1].split("\n## ")[0]
    row = [l for l in section.splitlines() if l.startswith("| %s |" % run)]
    assert len(row) == 1, (run, row)
    cells = [c.strip() for c in row[0].strip("|").split("|")]
    assert cells[2] == "200" and abs(float(cells[3]) - r["valid_loss_audio"]) < 1e-4, cells
    assert abs(float(cells[5]) - r["valid_loss_audio_shuffled"]) < 1e-4, cells
    assert abs(float(cells[6].rstrip(" %")) - 100 * r["video_gain_shuffled"]) < 0.06, cells
PY

# resuming with another fusion than the checkpoint's is one line naming it
if "$AVMASK" "${run[@]}" --feats=tr-rel --valid=va-rel --out=rel --fusion=sequence --resume 2>err; then exit 1; fi
cat err; [ "$(wc -l < err)" = 1 ] && grep -q 'different architecture.*"fusion":"concat".*"fusion":"sequence"' err
