#!/usr/bin/python3
"""Checks a corpus written by `avmask synth-slu` with Python's wave module and numpy.

usage: synth_slu_check.py CORPUS RATE

Asserts (exit 1 with one line per failure):
- train/, dev/, test/ hold wav.scp, text, intent, slots, paraphrase, conditions, phones,
  utt2spk, spk2utt, sorted by utt-id (C locale), every file with the same utt-ids, and
  phones.ctm with the phones of `phones`; spk2utt matches utt2spk; dev/ and test/ also hold
  one menuN per menu size of slu.json;
- intents come from intents.txt, and `conditions` says the intent's class and the
  utterance's paraphrase label; slots are "-" or name=value pairs whose values the text
  holds; an utterance has a title slot exactly when its intent's class is "title";
- every spoken command is a rendering in text_corpus.tsv (a test title read as a train
  title) with the same intent and the same seen/unseen label; train/ and dev/ hold only
  seen paraphrases, and no unseen paraphrase of the text corpus is spoken in train/;
- titles_train.txt and titles_test.txt are disjoint; train/dev titles are train titles,
  test titles test titles;
- train, dev and test speakers are disjoint; the held-out family of slu.json speaks only in
  test/ (and does); `conditions` names each speaker's family;
- menus: exactly the "title" utterances of dev/test have one; each menu has N distinct
  titles of its set's list, the utterance's title among them; noisy copies share the
  menu of their clean utterance;
- every WAV is 16-bit mono PCM at RATE and not silent; phone timings match the clean test
  audio of each voice family (power inside phones > 20 dB above the power 20 ms or more
  away from any phone); the leading pause of every clean utterance is a noise floor at most
  70 dB below its phones, never digital silence (half its 16-bit samples nonzero at least),
  and at least 40 dB below them for espeak-ng voices (20 for flite's: the pause units of
  its voices are recordings, with their own room tone and breaths); test utterances at N dB hold their clean
  version plus noise N dB (+-1) below it over the active speech (first phone start to last
  phone end), measured by least squares; train/dev conditions are clean or in [0, 20] dB;
  test/ has every condition of slu.json.
"""
import json
import os
import sys
import wave

import numpy as np

from synth_check import errors, fail, read_lines   # the AV corpus's check, beside this file

FILES = ["wav.scp", "text", "intent", "slots", "paraphrase", "conditions", "phones", "utt2spk", "spk2utt"]


def kv(path):
    """{key: rest of line}, checking the order (C locale)."""
    lines = read_lines(path)
    keys = [l.split(" ", 1)[0] for l in lines]
    if keys != sorted(keys, key=lambda s: s.encode()) or len(set(keys)) != len(keys):
        fail(f"{path}: not sorted by key (C locale) or a key twice")
    return {l.split(" ", 1)[0]: (l.split(" ", 1) + [""])[1] for l in lines}


def conditions(line):
    return dict(kvp.split("=", 1) for kvp in line.split())


def read_wav(path, rate):
    with wave.open(path) as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getcomptype()) != (1, 2, rate, "NONE"):
            fail(f"{path}: not 16-bit mono PCM at {rate} Hz")
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64) / 32768


def check_dir(root, d, menus):
    p = os.path.join(root, d)
    maps = {}
    for name in FILES + ([f"menu{m}" for m in menus] if d != "train" else []):
        if not os.path.isfile(os.path.join(p, name)):
            fail(f"{d}/{name}: missing")
            return None
        maps[name] = kv(os.path.join(p, name))
    utts = sorted(maps["wav.scp"])
    for name in FILES[1:-1]:
        if sorted(maps[name]) != utts:
            fail(f"{d}/{name}: utt-ids differ from wav.scp")
    ctm = {}
    for l in read_lines(os.path.join(p, "phones.ctm")):
        u, _, st, du, ph = l.split()
        ctm.setdefault(u, []).append((float(st), float(st) + float(du), ph))
    if {u: [c[2] for c in v] for u, v in ctm.items()} != {u: v.split() for u, v in maps["phones"].items()}:
        fail(f"{d}/phones.ctm: phones differ from {d}/phones")
    maps["ctm"] = ctm
    u2s = {}
    for u, s in maps["utt2spk"].items():
        u2s.setdefault(s, []).append(u)
        if not u.startswith(s + "-u"):
            fail(f"{d}: utt-id {u} does not start with its speaker")
    if {s: v.split() for s, v in maps["spk2utt"].items()} != u2s:
        fail(f"{d}/spk2utt: does not match utt2spk")
    return maps


def slots(line):
    return {} if line == "-" else dict(kvp.split("=", 1) for kvp in line.split(";"))


def main(root, rate):
    meta = json.load(open(os.path.join(root, "slu.json")))
    menus = meta["menus"]
    intents = dict(l.split() for l in read_lines(os.path.join(root, "intents.txt")))
    tr_titles = read_lines(os.path.join(root, "titles_train.txt"))
    te_titles = read_lines(os.path.join(root, "titles_test.txt"))
    if len(intents) != meta["intents"] or set(tr_titles) & set(te_titles):
        fail("intents.txt does not match slu.json, or train and test titles overlap")
    if (len(tr_titles), len(te_titles)) != (meta["titles"]["train"], meta["titles"]["test"]):
        fail("title counts differ from slu.json")
    corpus = {}
    for l in read_lines(os.path.join(root, "text_corpus.tsv")):
        intent, para, text = l.split("\t")
        corpus[text] = (intent, para)
    plain = read_lines(os.path.join(root, "text_corpus.txt"))
    if plain != [l.split("\t")[2] for l in read_lines(os.path.join(root, "text_corpus.tsv"))]:
        fail("text_corpus.txt is not the sentences of text_corpus.tsv")
    if len(plain) != meta["text_corpus_lines"]:
        fail("text_corpus.txt: line count differs from slu.json")
    unseen_sentences = {t for t, (_, p) in corpus.items() if p == "unseen"}
    speakers = {l.split("\t")[0]: l.split("\t") for l in read_lines(os.path.join(root, "speakers.tsv"))[1:]}

    data = {d: check_dir(root, d, menus) for d in ("train", "dev", "test")}
    if any(m is None for m in data.values()):
        return 1
    spk = {d: set(m["utt2spk"].values()) for d, m in data.items()}
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        if spk[a] & spk[b]:
            fail(f"speakers {sorted(spk[a] & spk[b])} in both {a}/ and {b}/")
    held = meta["heldout_family"]
    if held:
        in_test = {s for s in spk["test"] if speakers[s][2] == held}
        if not in_test or any(speakers[s][2] == held for s in spk["train"] | spk["dev"]):
            fail(f"held-out family {held}: speakers outside test/ or none in test/")
    if set(data["train"]["text"].values()) & unseen_sentences:
        fail("train/ speaks unseen paraphrases")

    counts = {}
    for d, m in data.items():
        titles = te_titles if d == "test" else tr_titles
        for u in m["wav.scp"]:
            intent, text, para = m["intent"][u], m["text"][u], m["paraphrase"][u]
            c, sl = conditions(m["conditions"][u]), slots(m["slots"][u])
            if intent not in intents:
                fail(f"{d}/intent: {u}: unknown intent {intent}")
                continue
            if c.get("class") != intents[intent] or c.get("paraphrase") != para:
                fail(f"{d}/conditions: {u}: class/paraphrase {c.get('class')}/{c.get('paraphrase')} "
                     f"!= {intents[intent]}/{para}")
            if d != "test" and para != "seen":
                fail(f"{d}: {u} is an unseen paraphrase")
            if c.get("family") != speakers[m["utt2spk"][u]][2]:
                fail(f"{d}/conditions: {u}: family {c.get('family')} is not its speaker's")
            if any(v not in text for v in sl.values()):
                fail(f"{d}/slots: {u}: {sl} not in '{text}'")
            title = sl.get("title")
            if (title is not None) != (intents[intent] == "title") or (title is not None and title not in titles):
                fail(f"{d}/slots: {u}: title {title!r} for intent {intent} (not in its set's titles?)")
            key = text.replace(title, tr_titles[0]) if title else text
            if corpus.get(key) != (intent, para):
                fail(f"{d}: {u}: '{text}' is not in text_corpus.tsv as {intent}/{para}")
            if d != "train":
                for n in menus:
                    mu = m[f"menu{n}"].get(u)
                    t = mu.split("|") if mu else []
                    if (title is None) != (mu is None) or (mu and (len(t) != n or len(set(t)) != n or
                                                                   title not in t or set(t) - set(titles))):
                        fail(f"{d}/menu{n}: {u}: {mu!r} (title {title!r})")
                    base = u.split("-snr")[0]
                    if mu and m[f"menu{n}"].get(base) != mu:
                        fail(f"{d}/menu{n}: {u} has another menu than {base}")
            counts[(d, c["snr"])] = counts.get((d, c["snr"]), 0) + 1
            if d != "test" and not (c["snr"] == "clean" or 0 <= float(c["snr"]) <= 20):
                fail(f"{d}/conditions: {u}: snr={c['snr']}")
    want = {t[3:] if t.startswith("snr") else t for t in meta["test_conditions"]}
    if {s for (d, s) in counts if d == "test"} != want:
        fail(f"test/ conditions {sorted(s for (d, s) in counts if d == 'test')} != {sorted(want)}")

    # audio: format, level, phone timings, noise floor, SNR of the noisy test copies
    audio = {}
    for d, m in data.items():
        for u, rel in m["wav.scp"].items():
            x = audio[(d, u)] = read_wav(os.path.join(root, d, rel), rate)
            if np.sqrt(np.mean(x ** 2)) < 0.005:
                fail(f"{d}/{u}: silent")
    timing, floor = {}, []
    for d, m in data.items():
        for u, segs in m["ctm"].items():
            c = conditions(m["conditions"][u])
            if c["snr"] != "clean":
                continue
            x = audio[(d, u)]
            mask = np.zeros(len(x), bool)
            for s0, e0, _ in segs:
                mask[int(s0 * rate):int(e0 * rate)] = True
            sil = np.convolve(mask, np.ones(2 * int(0.02 * rate) + 1), "same") == 0
            t = timing.setdefault(c["family"], [0.0, 0, 0.0, 0])
            t[0] += np.sum(x[mask] ** 2); t[1] += mask.sum(); t[2] += np.sum(x[sil] ** 2); t[3] += sil.sum()
            lead = x[:int((segs[0][0] - 0.02) * rate)]
            # a floor 60 dB below the speech is ~2.6 LSB rms in 16 bits: some samples round to 0
            if np.count_nonzero(lead) < 0.5 * len(lead):
                fail(f"{d}/{u}: the leading pause is digital silence (no noise floor)")
                continue
            floor.append(10 * np.log10(np.mean(x[mask] ** 2) / np.mean(lead ** 2)))
            lo = 40 if c["family"] == "espeak" else 20
            if not lo <= floor[-1] <= 70:
                fail(f"{d}/{u}: noise floor {floor[-1]:.1f} dB below the phones, expected {lo} to 70")
    for fam, (pin, nin, pout, nout) in sorted(timing.items()):
        db = 10 * np.log10((pin / nin) / max(pout / max(nout, 1), 1e-20))
        print(f"phone timing, {fam}: power inside phones {db:.1f} dB above silence")
        if db < 20:
            fail(f"phone timing, {fam}: power inside phones only {db:.1f} dB above silence")
    if floor:
        print(f"noise floor: {len(floor)} clean utterances, {min(floor):.1f} to {max(floor):.1f} dB below the phones")
    snrs = {}
    for u, line in data["test"]["conditions"].items():
        c = conditions(line)
        if c["snr"] == "clean":
            continue
        base = u.split("-snr")[0]
        x, y = audio[("test", base)], audio[("test", u)]
        segs = data["test"]["ctm"][base]
        a, b = int(segs[0][0] * rate), int(segs[-1][1] * rate)
        xs, ys = x[a:b], y[a:b]
        g = np.dot(xs, ys) / np.dot(xs, xs)
        snrs.setdefault(float(c["snr"]), []).append(10 * np.log10(np.sum((g * xs) ** 2) / np.sum((ys - g * xs) ** 2)))
    for want_db, got in sorted(snrs.items()):
        print(f"test snr={want_db:g}: measured {np.mean(got):.2f} dB (min {np.min(got):.2f}, max {np.max(got):.2f}) "
              f"over {len(got)} utterances")
        if max(abs(v - want_db) for v in got) > 1.0:
            fail(f"test snr={want_db:g}: measured SNRs {np.round(got, 2).tolist()} not within 1 dB")
    n = {d: len(m["wav.scp"]) for d, m in data.items()}
    print(f"checked {sum(n.values())} WAVs ({n}), {len(corpus)} text-corpus sentences: {len(errors)} failures")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
