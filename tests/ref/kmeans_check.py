#!/usr/bin/python3
"""Checks of `avmask kmeans` outputs with h5py, numpy and scikit-learn (Debian python3-sklearn).

parity DUMP OUTDIR K N_INIT: the inertia avmask reports equals the inertia of its codebook on
  the dumped vectors recomputed in float64 (1e-4 relative: avmask sums float32 distances) and
  never rose from pass to pass;
  scikit-learn's KMeans (Lloyd) started from the centres avmask's streamed passes started
  from (the dump's /init) ends at the same inertia (1e-6 relative: the streamed passes are
  Lloyd's algorithm); and avmask's own seeding (best of its --n-init) is at most 1.03 x the
  best of N_INIT k-means++ runs of KMeans (on these rough sets the best of 10 still varies by
  about +-2 % with the seed on either side); MiniBatchKMeans is printed beside it.
labels FEATS LABELS DUMP CODEBOOK: every label shard read back: ids and counts equal the
  feature index's utterances and tokens, and every label is the nearest centre in float64
  (a different label only where the two distances tie within 1e-5 relative).
same DIR1 DIR2: two label dirs hold the same labels, ids and offsets.
metrics FEATS LABELS CTM JSON: phone purity, cluster purity and PNMI recomputed with numpy
  from the label shards and the CTM (token centre rule, "<sil>" outside phones) equal JSON's
  within 1e-9."""
import json
import sys

import h5py
import numpy as np


def index(feats):
    return [(u, int(s), int(r), int(a) // 4) for u, s, r, a, v in
            (l.split("\t") for l in open(feats + "/index.tsv").read().splitlines())]


def parity(dump, out, k, n_init):
    from sklearn.cluster import KMeans, MiniBatchKMeans
    x = h5py.File(dump, "r")["x"][:].astype(np.float64)
    c = h5py.File(out + "/codebook.h5", "r")["centres"][:].astype(np.float64)
    d = (x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None]
    ours_np = np.maximum(d, 0).min(1).sum()
    summ = json.load(open(out + "/kmeans.json"))
    passes = [json.loads(l) for l in open(out + "/kmeans.jsonl")]
    ine = [p["inertia"] for p in passes]
    assert all(b <= a * (1 + 1e-6) for a, b in zip(ine, ine[1:])), ine
    assert abs(summ["inertia"] - ours_np) <= 1e-4 * ours_np, (summ["inertia"], ours_np)
    init = h5py.File(dump, "r")["init"][:].astype(np.float64)
    same = KMeans(int(k), init=init, n_init=1, tol=0, max_iter=1000, algorithm="lloyd").fit(x)
    rel = abs(same.inertia_ - ours_np) / same.inertia_   # both in float64
    print("Lloyd from avmask's initial centres: sklearn %.8g after %d iterations, avmask %.8g after %d passes "
          "(relative difference %.1e, tolerance 1e-6)" % (same.inertia_, same.n_iter_, ours_np,
                                                          summ["lloyd_passes"], rel))
    assert rel <= 1e-6
    km = KMeans(int(k), n_init=int(n_init), random_state=0, algorithm="lloyd").fit(x)
    mb = MiniBatchKMeans(int(k), n_init=int(n_init), random_state=0, batch_size=4096).fit(x)
    ratio = summ["inertia"] / km.inertia_
    print("%d x %d, k %s: avmask %.6g (recomputed %.6g, %d Lloyd passes), sklearn KMeans best of %s %.6g, "
          "MiniBatchKMeans %.6g; avmask / KMeans = %.4f (tolerance 1.03)" %
          (x.shape[0], x.shape[1], k, summ["inertia"], ours_np, summ["lloyd_passes"], n_init, km.inertia_,
           mb.inertia_, ratio))
    assert ratio <= 1.03


def read_labels(ldir, ix):
    out, shards = {}, {}
    for u, s, r, T in ix:
        if s not in shards:
            with h5py.File("%s/labels-%05d.h5" % (ldir, s), "r") as f:
                shards[s] = (f["labels"][:], f["offsets"][:], [i.decode() for i in f["utt_ids"][:]],
                             dict(f.attrs))
        lab, off, ids, attrs = shards[s]
        assert ids[r] == u, (ids[r], u)
        assert off[r + 1] - off[r] == T, (u, off[r + 1] - off[r], T)
        out[u] = lab[off[r]:off[r + 1]]
    return out, shards


def labels(feats, ldir, dump, codebook):
    ix = index(feats)
    lab, shards = read_labels(ldir, ix)
    x = h5py.File(dump, "r")["x"][:].astype(np.float64)
    with h5py.File(codebook, "r") as f:
        c = f["centres"][:].astype(np.float64)
        h = f.attrs["hash"]
    assert all(a["codebook_hash"] == h for _, _, _, a in shards.values())
    got = np.concatenate([lab[u] for u, _, _, _ in ix])
    assert got.dtype == np.int32 and len(got) == len(x), (got.dtype, len(got), len(x))
    d = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    best = d.argmin(1)
    diff = np.nonzero(best != got)[0]
    dmin = d[np.arange(len(x)), best]
    ties = np.abs(d[diff, got[diff]] - dmin[diff]) <= 1e-5 * np.maximum(dmin[diff], 1e-9)
    print("%d utterances, %d tokens: counts equal the tokens; labels = argmin in float64 except %d ties" %
          (len(ix), len(got), len(diff)))
    assert ties.all(), diff[~ties][:10]


def same(a, b):
    import glob
    import os
    fa = sorted(os.path.basename(p) for p in glob.glob(a + "/labels-*.h5"))
    assert fa == sorted(os.path.basename(p) for p in glob.glob(b + "/labels-*.h5")) and fa
    for n in fa:
        with h5py.File(a + "/" + n, "r") as x, h5py.File(b + "/" + n, "r") as y:
            for k in ("labels", "offsets", "utt_ids"):
                assert np.array_equal(x[k][:], y[k][:]), (n, k)
    assert open(a + "/index.tsv").read() == open(b + "/index.tsv").read()
    print("%d label shards identical" % len(fa))


def metrics(feats, ldir, ctm, js):
    ix = index(feats)
    lab, _ = read_labels(ldir, ix)
    ts = json.load(open(ldir + "/labels.json"))["token_seconds"]
    segs = {}
    for line in open(ctm):
        u, _, st, du, ph = line.split()
        segs.setdefault(u, []).append((float(st), float(st) + float(du), ph))
    ys, zs = [], []
    for u, _, _, T in ix:
        if u not in segs:
            continue
        for t in range(T):
            c = (t + 0.5) * ts
            ph = [p for s, e, p in segs[u] if s <= c < e]
            ys.append(ph[0] if ph else "<sil>")
            zs.append(lab[u][t])
    phones = sorted(set(ys))
    y = np.array([phones.index(p) for p in ys])
    z = np.array(zs)
    k = json.load(open(ldir + "/labels.json"))["k"]
    joint = np.zeros((len(phones), k))
    np.add.at(joint, (y, z), 1)
    p = joint / joint.sum()
    py, pz = p.sum(1), p.sum(0)
    nz = p > 0
    mi = (p[nz] * np.log(p[nz] / np.outer(py, pz)[nz])).sum()
    ref = {"phone_purity": p.max(0).sum(), "cluster_purity": p.max(1).sum(),
           "pnmi": mi / -(py[py > 0] * np.log(py[py > 0])).sum()}
    got = json.load(open(js))
    print("tokens %d (avmask %d), phones %d: " % (len(y), got["tokens"], len(phones)) +
          ", ".join("%s avmask %.6f numpy %.6f" % (n, got[n], v) for n, v in ref.items()))
    assert got["tokens"] == len(y) and got["phones"] == len(phones)
    for n, v in ref.items():
        assert abs(got[n] - v) <= 1e-9, n
    # the labels carry phone information: a shuffle of them keeps much less
    zs2 = np.random.default_rng(0).permutation(z)
    j2 = np.zeros_like(joint)
    np.add.at(j2, (y, zs2), 1)
    p2 = j2 / j2.sum()
    nz2 = p2 > 0
    mi2 = (p2[nz2] * np.log(p2[nz2] / np.outer(p2.sum(1), p2.sum(0))[nz2])).sum()
    print("PNMI %.4f vs %.4f for the same labels shuffled" % (ref["pnmi"], mi2 / -(py[py > 0] * np.log(py[py > 0])).sum()))
    assert mi > 2 * mi2


if __name__ == "__main__":
    {"parity": parity, "labels": labels, "same": same, "metrics": metrics}[sys.argv[1]](*sys.argv[2:])
