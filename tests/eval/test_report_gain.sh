# timeout: 60
# avmask report: the video-gain figures of pretraining runs over training seeds
# (eval/report_gain.c). Runs av, av-s2, av-s3 (AV) and audio, audio-s2 (audio-only) end
# at step 200 with known masked-audio losses; the table shows mean ± sample sd per group,
# a gain computed per seed then averaged (checked against numpy); a single-seed run has
# no row; seeds stopped at different steps show "differ" and no figures.
set -eu
"$PY" - <<'E'
import json, os
import numpy as np
runs = {"av": (0.43, 0.51, 0.57), "av-s2": (0.44, 0.52, 0.58), "av-s3": (0.45, 0.50, 0.56),
        "audio": (0.50, None, None), "audio-s2": (0.52, None, None),
        "solo": (0.40, 0.45, 0.50), "late": (0.41, 0.46, 0.52), "late-s2": (0.42, 0.47, 0.53)}
for name, (va, vd, vs) in runs.items():
    os.makedirs(f"exp/{name}", exist_ok=True)
    last = 150 if name == "late-s2" else 200
    with open(f"exp/{name}/metrics.jsonl", "w") as f:
        f.write(json.dumps({"step": 100, "loss": 1.0, "loss_video": 0.2 if vd else 0}) + "\n")
        for st in (100, last):
            r = {"step": st, "valid_loss": va, "valid_loss_audio": va}
            if vd: r.update(valid_loss_audio_novideo=vd, valid_loss_audio_shuffled=vs)
            f.write(json.dumps(r) + "\n")
def cell(x, fmt, sdfmt=None):
    x = np.array(x)
    return (fmt % x.mean()) + " ± " + ((sdfmt or fmt) % x.std(ddof=1))
av = [runs[n] for n in ("av", "av-s2", "av-s3")]
row = ["av", "audio-visual", "3", "200", cell([r[0] for r in av], "%.4f"), cell([r[1] for r in av], "%.4f"),
       cell([r[2] for r in av], "%.4f"), cell([100 * (r[2] - r[0]) / r[2] for r in av], "%+.1f", "%.1f"),
       cell([100 * (r[1] - r[0]) / r[1] for r in av], "%+.1f", "%.1f")]
au = [runs[n][0] for n in ("audio", "audio-s2")]
open("want.txt", "w").write("| audio | audio-only | 2 | 200 | " + cell(au, "%.4f") + " | - | - | - | - |\n" +
                            "| " + " | ".join(row) + " |\n" +
                            "| late | audio-visual | 2 | differ | - | - | - | - | - |\n")
E
"$AVMASK" report --exp=exp --out=rep > /dev/null
sed -n '/^Over training seeds/,/^$/d; /^| pretraining | kind | seeds/,/^$/p' rep/report.md | grep -E '^\| (av|audio|late|solo) ' > got.txt
diff want.txt got.txt
grep -B1 '^Over training seeds' rep/report.md | head -1 | grep -qx ''   # not glued to the table above
grep -q '<td>av</td><td>audio-visual</td><td>3</td>' rep/report.html
echo ok
