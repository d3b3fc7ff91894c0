# timeout: 120
# The frame-level probe (finetune --objective=frame, decode, eval --unit=frame) on
# tests/tools/ctc_mkdata's corpus with class p7 a pause (in no transcript, no CTM line:
# silence). Checks: the first step's head gradient of a frozen probe with layer weights
# matches PyTorch's F.cross_entropy over every token (tests/ref/frame_check.py, labels from
# the CTM computed there); asr.json says "objective":"frame"; a probe of a frozen random
# encoder learns the classes (dev frame error < 10 %, a fifth of the untrained head's at
# most); decode writes one phone or <sil> per token; eval --unit=frame on dev gives exactly
# the run's last validation error, and --frame-tokens=speech scores exactly the tokens a
# Python reading of the CTM calls speech; bad inputs fail with one line.
set -eu
mk="$AVMASK_BUILD/tools/ctc_mkdata"
"$mk" --feats=tr_f --data=tr_d --n=48 --n-mels=20 --seed=1 --pause-class=7
"$mk" --feats=va_f --data=va_d --n=16 --n-mels=20 --seed=2 --pause-class=7
"$mk" --feats=g_f --data=g_d --n=5 --n-mels=20 --seed=3 --pause-class=7
grep -q 'p7' tr_d/phones.ctm && { echo "the pause class is in the CTM"; exit 1; }
common=(--init=none --data=tr_d --d=32 --ffn=64 --heads=2 --layers-audio=2 --layers-fusion=1 --threads=1
        --objective=frame --layer-weights --freeze-steps=all)

# 1. gradient parity: one step over the whole set as one batch, an lr too small to move it
"$AVMASK" finetune "${common[@]}" --feats=g_f --ali=g_d/phones.ctm --data=g_d --out=g --max-steps=1 --lr=1e-9 \
    --warmup=0 --batch-tokens=100000 --dump-grad=g.f32 > /dev/null
grep -q '"objective":"frame","layer_weights":5,"layer_norm":1}' g/model/asr.json
"$PY" "$AVMASK_ROOT/tests/ref/frame_check.py" g/model g_f g_d/phones.ctm g.f32

# 2. a probe learns; its validation error is what eval computes from decode's output
ft=(--feats=tr_f --ali=tr_d/phones.ctm --valid=va_f --valid-data=va_d --valid-ali=va_d/phones.ctm --batch-tokens=400
    --warmup=5)
"$AVMASK" finetune "${common[@]}" "${ft[@]}" --out=p0 --max-steps=1 --lr=1e-9 --valid-every=1 > /dev/null
"$AVMASK" finetune "${common[@]}" "${ft[@]}" --out=p --max-steps=120 --lr=2e-2 --valid-every=60 > /dev/null
grep -q 'frame objective' p/train.log
for m in p0 p; do
    "$AVMASK" decode --model=$m/model --feats=va_f --out=$m/dec > /dev/null
    "$AVMASK" eval --unit=frame --ref=va_d/phones.ctm --hyp=$m/dec/hyp --by=va_d/conditions > /dev/null
    "$AVMASK" eval --unit=frame --frame-tokens=speech --ref=va_d/phones.ctm --hyp=$m/dec/hyp \
        --out=$m/dec/eval_speech.json > /dev/null
done
"$PY" - <<'E'
import json
def last_valid(run):
    return [json.loads(l) for l in open(f"{run}/metrics.jsonl") if "valid_err" in l][-1]
ctm = [l.split() for l in open("va_d/phones.ctm")]
ntok = {l.split()[0]: int(l.split()[3]) // 4 for l in open("va_f/index.tsv")}
speech = sum(1 for u, T in ntok.items() for t in range(T)
             if any(p[0] == u and float(p[2]) <= (t + 0.5) * 0.04 < float(p[2]) + float(p[3]) for p in ctm))
for run in ("p0", "p"):
    hyp = {l.split()[0]: l.split()[1:] for l in open(f"{run}/dec/hyp")}
    assert {u: len(h) for u, h in hyp.items()} == ntok, f"{run}: not one label per token"
    assert set(x for h in hyp.values() for x in h) <= {"<sil>", "<unk>"} | {f"p{k}" for k in range(7)}, run
    ev, sp = json.load(open(f"{run}/dec/eval.json")), json.load(open(f"{run}/dec/eval_speech.json"))
    v = last_valid(run)
    assert abs(ev["overall"]["err"] - v["valid_err"]) < 1e-4, (run, ev["overall"], v)
    assert ev["overall"]["N"] == sum(ntok.values()) and sp["overall"]["N"] == speech, (ev["overall"], sp["overall"], speech)
    assert sp["overall"]["N"] < ev["overall"]["N"], "the pause class left no silence"
    assert {c["value"] for c in ev["conditions"]["snr"]} == {"0", "10"}, ev["conditions"]
untrained, trained = last_valid("p0")["valid_err"], last_valid("p")["valid_err"]
print(f"frame error on dev: untrained head {untrained:.1f} %, after 120 steps {trained:.1f} %")
assert trained < 10 and trained < untrained / 5, (untrained, trained)
E

# a validation phone the training units lack is <unk> (never right), not an error
sed 's/ p3$/ zz/' va_d/phones.ctm > va_zz.ctm
"$AVMASK" finetune "${common[@]}" --feats=tr_f --ali=tr_d/phones.ctm --valid=va_f --valid-data=va_d \
    --valid-ali=va_zz.ctm --batch-tokens=400 --out=pz --max-steps=1 --lr=1e-9 --valid-every=1 > /dev/null
# a reference utterance without a hypothesis: its tokens up to its last phone, all wrong
grep -v '^utt00000 ' p/dec/hyp > part.hyp
"$AVMASK" eval --unit=frame --ref=va_d/phones.ctm --hyp=part.hyp --out=part.json > /dev/null
"$PY" - <<'E'
import json, math
full, part = json.load(open("p/dec/eval.json"))["overall"], json.load(open("part.json"))
end = max(float(p[2]) + float(p[3]) for p in (l.split() for l in open("va_d/phones.ctm")) if p[0] == "utt00000")
h0 = [l.split() for l in open("p/dec/hyp") if l.startswith("utt00000 ")][0][1:]
ref0 = [json.loads(l) for l in open("pz/metrics.jsonl") if "valid_err" in l][-1]["valid_err"]
assert 0 <= ref0 <= 100, ref0
n0 = math.ceil(end / 0.04 - 1e-9)
o = part["overall"]
assert o["N"] == full["N"] - len(h0) + n0 and part["ref_without_hyp"]["count"] == 1, (o, full, n0)
row = [l.rstrip("\n").split("\t") for l in open("part.utts.tsv") if l.startswith("utt00000\t")][0]
assert row[1:5] == [str(n0), "0", "0", str(n0)], row   # S D I N: every token wrong
print(f"without utt00000's hypothesis: {n0} tokens scored wrong")
E

# 3. bad inputs: one line each
bad() {   # expected-message command...
    local want=$1; shift
    if "$@" > out 2> err; then echo "accepted: $*"; exit 1; fi
    [ "$(wc -l < err)" = 1 ] && grep -q -- "$want" err || { echo "want '$want':"; cat err; exit 1; }
}
bad "needs --ali" "$AVMASK" finetune "${common[@]}" --feats=tr_f --out=x --max-steps=1
bad "apply with --objective=frame only" "$AVMASK" finetune --init=none --feats=tr_f --data=tr_d --ali=tr_d/phones.ctm \
    --out=x --max-steps=1
bad "unit=phone" "$AVMASK" finetune "${common[@]}" --feats=tr_f --ali=tr_d/phones.ctm --unit=char --out=x --max-steps=1
head -20 tr_d/phones.ctm > part.ctm
bad "part.ctm: 4.* have no alignment" "$AVMASK" finetune "${common[@]}" --feats=tr_f --ali=part.ctm --out=x --max-steps=1
sed 's/ p3$/ zz/' tr_d/phones.ctm > zz.ctm
bad "zz.ctm: phone 'zz' is not one of the" "$AVMASK" finetune "${common[@]}" --feats=tr_f --ali=zz.ctm --out=x --max-steps=1
bad "ends at .* (--token-seconds?)" "$AVMASK" eval --unit=frame --ref=va_d/phones.ctm --hyp=p/dec/hyp --token-seconds=0.01
bad "apply to --unit=frame only" "$AVMASK" eval --ref=va_d/phones --hyp=p/dec/hyp --frame-tokens=speech
# a CTC checkpoint is not resumed as a frame probe (its labels differ)
"$AVMASK" finetune --init=none --feats=tr_f --data=tr_d --d=32 --ffn=64 --heads=2 --layers-audio=2 --layers-fusion=1 \
    --threads=1 --layer-weights --freeze-steps=all --out=r --max-steps=1 > /dev/null
bad "was trained on other data" "$AVMASK" finetune "${common[@]}" --feats=tr_f --ali=tr_d/phones.ctm --out=r \
    --max-steps=2 --resume
bad "frame-level classifier" "$AVMASK" decode --model=p/model --feats=va_f --out=x --menu=/dev/null \
    --intents-from=tr_d --intents=/dev/null
echo "test_frame_probe: ok"
