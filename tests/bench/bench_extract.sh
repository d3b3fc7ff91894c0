# Extraction throughput against FFmpeg's own decoding (the floor), per
# /work/shared/BENCHMARKING.md: a 96x96 25 fps H.264+AAC corpus (20 files of 10 s) is
# decoded by `ffmpeg -threads 1 -benchmark -i X -f null -` (its rtime summed over files:
# decode-only time on one core, no process start-up) and extracted by `avmask extract`
# with --nj=1 and --nj=2 (wall time of the whole command: start-up, decode, fbank, video,
# HDF5 writes, merge). Contenders are interleaved; medians and min-max of REPEATS runs
# after one warm-up. Prints RESULT lines for tests/bench/run.sh. Never a pass/fail.
set -eu
N=${N:-20}; SECONDS_PER_FILE=${SECONDS_PER_FILE:-10}; REPEATS=${REPEATS:-5}
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(ffmpeg -version | head -1)"

mkdir -p corpus/clips
for i in $(seq -w 1 "$N"); do
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "anoisesrc=d=$SECONDS_PER_FILE:c=pink:r=44100:a=0.2:seed=$i" \
        -f lavfi -i "testsrc2=s=96x96:r=25:d=$SECONDS_PER_FILE" -c:v libx264 -pix_fmt yuv420p -c:a aac -b:a 64k \
        -shortest "corpus/clips/c$i.mp4"
    echo "c$i clips/c$i.mp4"
done >corpus/media.scp
audio_s=$((N * SECONDS_PER_FILE))
echo "corpus: $N files x ${SECONDS_PER_FILE} s = ${audio_s} s, H.264 (libx264 default preset) + AAC, 96x96 25 fps"

ffmpeg_time() {   # summed decode-only rtime over the corpus, one thread
    local total=0 r
    for f in corpus/clips/*.mp4; do
        r=$(ffmpeg -nostdin -threads 1 -benchmark -i "$f" -f null - 2>&1 | sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' | tail -1)
        total=$(awk -v a="$total" -v b="$r" 'BEGIN {print a + b}')
    done
    echo "$total"
}
extract_time() {  # wall seconds of one fresh extraction with --nj=$1
    rm -rf out
    local t0 t1
    t0=$(date +%s.%N)
    "$AVMASK" extract --data=corpus --out=out --nj="$1" --shard-size=5 2>/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
stats() {  # median min max of the arguments
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}

ffmpeg_time >/dev/null; extract_time 1 >/dev/null          # warm-up (page cache, libraries)
ff=(); e1=(); e2=()
for r in $(seq 1 "$REPEATS"); do
    ff+=("$(ffmpeg_time)"); e1+=("$(extract_time 1)"); e2+=("$(extract_time 2)")
done
"$AVMASK" info out | sed -n '1,5p'
read -r ffm ffl ffh <<<"$(stats "${ff[@]}")"
read -r e1m e1l e1h <<<"$(stats "${e1[@]}")"
read -r e2m e2l e2h <<<"$(stats "${e2[@]}")"
echo "ffmpeg decode-only (1 thread, rtime summed): median ${ffm}s (min ${ffl}, max ${ffh})"
echo "avmask extract --nj=1 (wall):                median ${e1m}s (min ${e1l}, max ${e1h})"
echo "avmask extract --nj=2 (wall):                median ${e2m}s (min ${e2l}, max ${e2h})"
awk -v a="$audio_s" -v f="$ffm" -v e1="$e1m" -v e2="$e2m" 'BEGIN {
    printf "RESULT extract x real time, 1 core | %.0fx | %.0fx (ffmpeg decode-only) | %.2f\n", a / e1, a / f, f / e1
    printf "RESULT extract --nj=2 vs --nj=1 speed-up | %.0fx real time | %.0fx real time (--nj=1) | %.2f\n", a / e2, a / e1, e1 / e2
}'
