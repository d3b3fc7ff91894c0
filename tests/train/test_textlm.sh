#!/usr/bin/env bash
# timeout: 240
# avmask textlm on general English from Debian packages (recipes/steps/text_corpus.sh:
# fortunes-min and WordNet's glosses):
#  - the corpus tool: fortunes cut into sentences, attributions dropped, one WordNet line
#    per synset ("lemma, lemma: definition") and its quoted examples, EXTRA files appended;
#  - MLM training: the validation loss falls from the untrained model's (step 0) by at
#    least 2 nats in 300 steps (measured: 8.02 -> 5.60, masked accuracy 0 -> 0.12), training
#    metrics and validation lines;
#  - words outside the vocabulary: counted in the log exactly (a validation text with known
#    unknown words), and in --embed's log;
#  - --max-steps=0 writes the initialised model; --embed writes /embeddings [n, d] and
#    /ids (utt-ids of a Kaldi text, sorted; line numbers of a lines file, blank lines kept);
#  - --resume: a run killed by SIGKILL between checkpoints and resumed logs the same metrics
#    and ends with bitwise identical model dirs and checkpoint (parameters, AdamW moments);
#  - refusals, one line each: an existing checkpoint without --resume, --resume with another
#    model or vocabulary, invalid UTF-8 text (file and line), an empty text, a bad vocab.txt,
#    a model dir whose vocabulary is not the one its config.json names, a flipped byte in
#    its text_encoder.h5.
set -u
export OMP_WAIT_POLICY=PASSIVE
fail() { echo "FAIL: $*"; exit 1; }
steps=$AVMASK_ROOT/recipes/steps

# ---- the corpus tool ----
printf 'Turn the volume up\n\n  make   it louder  \n' >cmds.txt
bash "$steps/text_corpus.sh" corpus.txt cmds.txt >tool.out || fail "text_corpus.sh"
grep -Eq '^corpus.txt: [0-9]+ sentences \([0-9]+ fortunes, [0-9]+ wordnet, 2 extra\)$' tool.out || { cat tool.out; fail "tool summary"; }
grep -qx 'Or is it?' corpus.txt || fail "fortune not cut after '?'"
grep -qx 'A day for firm decisions!!!!!' corpus.txt || fail "fortune sentence"
grep -qx 'sedate, calm, tranquilize, tranquillize, tranquillise: cause to be calm or quiet as by administering a sedative to' corpus.txt ||
    fail "WordNet lemma line"
grep -qx 'The patient must be sedated before the operation' corpus.txt || fail "WordNet example"
grep -q '^--\|^ \|  \| $' corpus.txt && fail "attribution, leading, double or trailing blanks left"
grep -qx '' corpus.txt && fail "empty line"
[ "$(tail -2 corpus.txt | tr '\n' '|')" = "Turn the volume up|make it louder|" ] || fail "extra text not appended as it is"
n=$(wc -l <corpus.txt)
[ "$n" -gt 150000 ] || fail "only $n sentences"
awk 'NR % 300 == 0' corpus.txt >valid.txt
awk 'NR % 300 != 0 && NR % 4 == 0' corpus.txt >train.txt

# ---- training: the validation loss falls; <unk> counted ----
printf 'the zzyzx sat on the qwrtpfl\nzzyzx\n' >>valid.txt
small=(--d=32 --ffn=64 --heads=2 --layers=1 --max-len=24 --max-vocab=3000 --batch-tokens=512 --threads=2)
"$AVMASK" textlm --text=train.txt --valid-text=valid.txt --out=lm "${small[@]}" --max-steps=300 --warmup=20 --lr=2e-3 \
    --log-every=10 --valid-every=100 >lm.out 2>lm.err || { cat lm.err; fail "training"; }
[ -f lm/model/text_encoder.h5 ] && [ -f lm/model/vocab.txt ] && [ -f lm/model-best/config.json ] || fail "model dirs"
[ "$(head -5 lm/model/vocab.txt | tr "\\n" "|")" = "<pad> 0|<unk> 1|<mask> 2|<cls> 3|: 4|" ] || fail "vocab.txt head (WordNet lines make : the most frequent token)"
[ "$(wc -l <lm/model/vocab.txt)" = 3000 ] || fail "vocab size"
# the unknown words of valid.txt, counted independently through the saved vocabulary
want=$("$PY" - <<'PY'
# the tokenizer as train/vocab.h states it, on bytes; 23 words per sentence (max_len 24 - <cls>)
def split(line):
    al = lambda c: 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122
    pu = lambda c: 32 < c < 127 and not al(c)
    bl = lambda c: c in b" \t\r\v\f"
    out, i, n = [], 0, len(line)
    while i < n:
        if bl(line[i]): i += 1; continue
        if pu(line[i]): out.append(line[i:i + 1]); i += 1; continue
        j = i
        while j < n and not bl(line[j]) and (not pu(line[j]) or (line[j] == 39 and al(line[j - 1]) and j + 1 < n and al(line[j + 1]))):
            j += 1
        out.append(line[i:j].lower())
        i = j
    return out
vocab = {l.split()[0].encode() for l in open("lm/model/vocab.txt")}
words = unk = 0
for line in open("valid.txt", "rb"):
    for w in split(line.rstrip(b"\n"))[:23]:
        words += 1
        unk += w not in vocab
print(words, unk)
PY
)
read -r vw vu <<<"$want"
grep -q "validation text: $(wc -l <valid.txt) sentences, $vw words, $vu (" lm.err ||
    { grep "validation text" lm.err; fail "validation <unk> count, wanted $vw words, $vu unknown"; }
[ "$vu" -ge 3 ] || fail "the made-up words were not counted ($vu)"
"$PY" - <<'PY' || fail "the loss did not fall enough"
import json
rows = [json.loads(l) for l in open("lm/metrics.jsonl")]
v = [r for r in rows if "valid_loss" in r]
t = [r for r in rows if "loss" in r]
assert [r["step"] for r in v] == [0, 100, 200, 300], [r["step"] for r in v]
assert [r["step"] for r in t] == list(range(10, 301, 10))
assert all(k in t[0] for k in ("loss_mlm", "loss_contrastive", "acc", "lr", "grad_norm", "tokens_per_s"))
drop = v[0]["valid_loss"] - v[-1]["valid_loss"]
print("valid loss %.3f -> %.3f (fell by %.3f nats), masked accuracy %.3f" % (v[0]["valid_loss"], v[-1]["valid_loss"], drop, v[-1]["valid_acc"]))
assert drop >= 2.0, drop
assert v[0]["valid_acc"] < 0.01 and v[-1]["valid_acc"] > 0.08
PY

# ---- an untrained model; embeddings of a Kaldi text and of a lines file ----
"$AVMASK" textlm --text=train.txt --out=lm0 "${small[@]}" --max-steps=0 >/dev/null 2>lm0.err || { cat lm0.err; fail "--max-steps=0"; }
[ -f lm0/model/text_encoder.h5 ] || fail "--max-steps=0 wrote no model"
printf 'utt2 make it small\nutt1 what is the weather zzyzx\nutt3\n' >text
"$AVMASK" textlm --embed --model=lm/model --input=text --format=kaldi --out=k.h5 >k.out 2>k.err || { cat k.err; fail "embed kaldi"; }
grep -q "text: 3 sentences, 8 words, 1 (12.50 %) outside the vocabulary mapped to <unk>" k.err || { cat k.err; fail "embed <unk> count"; }
printf 'make it small\n\nwhat is the weather\n' >lines.txt
"$AVMASK" textlm --embed --model=lm/model --input=lines.txt --out=l.h5 >/dev/null 2>l.err || { cat l.err; fail "embed lines"; }
"$PY" - <<'PY' || fail "embedding files"
import h5py, numpy as np
k, l = h5py.File("k.h5", "r"), h5py.File("l.h5", "r")
assert [s.decode() for s in k["ids"][()]] == ["utt1", "utt2", "utt3"]
assert [s.decode() for s in l["ids"][()]] == ["1", "2", "3"]
ek, el = k["embeddings"][()], l["embeddings"][()]
assert ek.shape == (3, 32) and el.shape == (3, 32) and np.isfinite(ek).all()
assert np.allclose(ek[1], el[0], atol=1e-6), "the same sentence, another embedding"
assert k.attrs["format"] == "avmask-text-embeddings-1" and k.attrs["pooling"] == "mean" and k.attrs["unk"] == 1
PY

# ---- --resume after SIGKILL: bitwise the same ----
run=(textlm --text=train.txt --valid-text=valid.txt "${small[@]}" --max-steps=22 --warmup=4 --log-every=1
     --valid-every=5 --save-every=6 --dropout=0.1)
"$AVMASK" "${run[@]}" --out=a >/dev/null 2>a.err || { cat a.err; fail "uninterrupted run"; }
"$AVMASK" "${run[@]}" --out=b --debug-kill-step=15 >/dev/null 2>b.err
rc=$?
[ $rc = 137 ] || { cat b.err; fail "expected death by SIGKILL (137), got $rc"; }
ls b/*.tmp 2>/dev/null && fail "a temporary checkpoint was left"
"$AVMASK" "${run[@]}" --out=b --resume >/dev/null 2>b2.err || { cat b2.err; fail "resume"; }
grep -q "resuming at step 12" b2.err || fail "resume message"
"$PY" - <<'PY' || fail "the resumed run differs"
import json, os, sys, h5py, numpy as np
sys.path.insert(0, os.environ["AVMASK_ROOT"] + "/tests/train")
from runs import rows
a, b = rows("a/metrics.jsonl"), rows("b/metrics.jsonl")
assert a == b, [(x, y) for x, y in zip(a, b) if x != y][:3]
n = 0
for sub in ("model", "model-best"):
    pa, pb = h5py.File("a/%s/text_encoder.h5" % sub, "r")["params"], h5py.File("b/%s/text_encoder.h5" % sub, "r")["params"]
    assert set(pa) == set(pb) and "text_encoder.tok_emb" in pa and not any(k.startswith("mlm_head") for k in pa)
    for k in pa:
        assert np.array_equal(pa[k][()], pb[k][()]), (sub, k)
        n += 1
    assert open("a/%s/vocab.txt" % sub).read() == open("b/%s/vocab.txt" % sub).read()
fa, fb = h5py.File("a/checkpoint-last.h5", "r"), h5py.File("b/checkpoint-last.h5", "r")
for g in ("params", "optim/m", "optim/v"):
    for k in fa[g]:
        assert np.array_equal(fa[g][k][()], fb[g][k][()]), (g, k)
assert "mlm_head.bias" in fa["params"] and int(fa.attrs["step"]) == int(fb.attrs["step"]) == 22
print("textlm resume: %d metric lines identical, %d model tensors and the checkpoint bitwise equal" % (len(a), n))
PY

# ---- refusals: one line each, nothing overwritten ----
sum0=$(md5sum <b/checkpoint-last.h5)
one() {  # expected-regex, then the arguments
    local want=$1; shift
    "$AVMASK" "$@" >/dev/null 2>bad.err && fail "accepted: $*"
    [ "$(wc -l <bad.err)" = 1 ] || { cat bad.err; fail "not one line: $*"; }
    grep -Eq "$want" bad.err || { cat bad.err; fail "unclear error for $*: wanted /$want/"; }
    [ "$(md5sum <b/checkpoint-last.h5)" = "$sum0" ] || fail "checkpoint changed by: $*"
}
one 'b/checkpoint-last.h5 exists \(step 22\); pass --resume' "${run[@]}" --out=b
one 'another text model \(model.d is 32; this run: 48\)' "${run[@]}" --out=b --resume --d=48
one 'another text model \(model.vocab is 3000; this run: 2000\)' "${run[@]}" --out=b --resume --max-vocab=2000
printf 'good line\nbad \xff line\n' >bad.txt
one 'bad.txt:2: not valid UTF-8' textlm --text=bad.txt --out=c --max-steps=1
printf '\n  \n' >empty.txt
one 'empty.txt: no sentence' textlm --text=empty.txt --out=c --max-steps=1
printf '<pad> 0\n<unk> 1\n<cls> 2\n' >vocab_bad.txt
one 'vocab_bad.txt: id 2 must be <mask>' textlm --text=train.txt --vocab=vocab_bad.txt --out=c --max-steps=1
cp -r lm/model broken && sed -i '$d' broken/vocab.txt
one 'broken/vocab.txt: 2999 tokens .* names a vocabulary of 3000' textlm --embed --model=broken --input=lines.txt --out=x.h5
one 'no-such-file.txt' textlm --embed --model=lm/model --input=no-such-file.txt --out=x.h5
cp -r lm/model flipped
"$PY" -c "
f = open('flipped/text_encoder.h5', 'r+b'); f.seek(5000); b = f.read(1); f.seek(5000); f.write(bytes([b[0] ^ 1]))"
one 'flipped/text_encoder.h5: .*(seal|checksum|corrupt)' textlm --embed --model=flipped --input=lines.txt --out=x.h5
[ ! -e c ] && [ ! -e x.h5 ] || fail "a refused run left output"
echo "test_textlm: ok"
