# Extraction throughput against FFmpeg's own decoding (the floor), per
# /work/shared/BENCHMARKING.md: a 96x96 25 fps H.264+AAC corpus (40 files of 15 s: large enough that start-up costs do not dominate) is
# decoded by `ffmpeg -threads 1 -benchmark -i X -f null -` (its rtime summed over files:
# decode-only time on one core, no process start-up) and extracted by `avmask extract`
# with --nj=1 and --nj=2 (wall time of the whole command: start-up, decode, fbank, video,
# HDF5 writes, merge). How far two cores can go at all: one ffmpeg decoding the whole corpus
# (concat demuxer) against two decoding one half each at the same time (the slower half's
# rtime), i.e. the machine's own scaling of pure decoding (shared caches, memory bandwidth). Contenders are interleaved; medians and min-max of REPEATS runs
# after one warm-up. Prints RESULT lines for tests/bench/run.sh. Never a pass/fail.
set -eu
N=${N:-40}; SECONDS_PER_FILE=${SECONDS_PER_FILE:-15}; REPEATS=${REPEATS:-5}
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

ffmpeg_time() {   # decode-only rtime and CPU (utime+stime) summed over the corpus, one thread
    for f in corpus/clips/*.mp4; do
        ffmpeg -nostdin -threads 1 -benchmark -i "$f" -f null - 2>&1 | grep 'bench: utime' | tail -1
    done | sed 's/.*utime=\([0-9.]*\)s stime=\([0-9.]*\)s rtime=\([0-9.]*\)s.*/\1 \2 \3/' |
        awk '{c += $1 + $2; r += $3} END {print r, c}'
}
ffmpeg_scaling() {  # the machine's own scaling of pure decoding: one ffmpeg decoding the whole corpus
    # (concat demuxer) vs two decoding one half each at once; prints "rtime_one rtime_slower_half"
    ls corpus/clips/*.mp4 | sed "s|^|file '$PWD/|; s|$|'|" >all.txt
    head -n $(( N / 2 )) all.txt >h1.txt; tail -n +$(( N / 2 + 1 )) all.txt >h2.txt
    cat_rtime() { ffmpeg -nostdin -threads 1 -benchmark -f concat -safe 0 -i "$1" -f null - 2>&1 |
                  grep 'bench: utime' | tail -1 | sed 's/.*rtime=\([0-9.]*\)s.*/\1/'; }
    local one; one=$(cat_rtime all.txt)
    cat_rtime h1.txt >r1.txt & cat_rtime h2.txt >r2.txt; wait
    echo "$one $(cat r1.txt r2.txt | sort -g | tail -1)"
}
extract_time() {  # wall and CPU (user+sys, jobs included) seconds of one fresh extraction, --nj=$1
    rm -rf out
    /usr/bin/time -f '%e %U %S' -o time.txt "$AVMASK" extract --data=corpus --out=out --nj="$1" --shard-size=5 2>/dev/null
    awk '{print $1, $2 + $3}' time.txt
}
stats() {  # median min max of the arguments
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}

startup_time() {  # wall and CPU of a process that only starts and exits (part of every extraction)
    /usr/bin/time -f '%e %U %S' -o time.txt "$AVMASK" --version >/dev/null
    awk '{print $1, $2 + $3}' time.txt
}
ffmpeg_time >/dev/null; extract_time 1 >/dev/null          # warm-up (page cache, libraries)
ffw=(); ffc=(); fo=(); ff2=(); w1=(); c1=(); w2=(); c2=(); sw=(); sc=()
for r in $(seq 1 "$REPEATS"); do
    read -r a b <<<"$(ffmpeg_time)"; ffw+=("$a"); ffc+=("$b")
    read -r a b <<<"$(ffmpeg_scaling)"; fo+=("$a"); ff2+=("$b")
    read -r a b <<<"$(extract_time 1)"; w1+=("$a"); c1+=("$b")
    read -r a b <<<"$(extract_time 2)"; w2+=("$a"); c2+=("$b")
    read -r a b <<<"$(startup_time)"; sw+=("$a"); sc+=("$b")
done
"$AVMASK" info out | sed -n '1,5p'
show() { read -r m l h <<<"$(stats "${@:2}")"; printf '%-48s median %6.2fs (min %.2f, max %.2f)\n' "$1" "$m" "$l" "$h"; echo "$m" >"$1.med"; }
show "ffmpeg decode-only rtime (1 thread, summed)" "${ffw[@]}"
show "ffmpeg decode-only CPU (utime+stime, summed)" "${ffc[@]}"
show "ffmpeg decode-only rtime, whole corpus in one" "${fo[@]}"
show "ffmpeg decode-only rtime, 2 halves at once" "${ff2[@]}"
show "avmask extract --nj=1 wall" "${w1[@]}"
show "avmask extract --nj=1 CPU (user+sys)" "${c1[@]}"
show "avmask extract --nj=2 wall" "${w2[@]}"
show "avmask extract --nj=2 CPU (user+sys)" "${c2[@]}"
show "avmask process start-up only, wall" "${sw[@]}"
show "avmask process start-up only, CPU" "${sc[@]}"
echo "(ffmpeg's -benchmark figures exclude its start-up and the opening/probing of the input;"
echo " avmask's include them: one start-up per job plus the parent, and every file's open+probe)"
med() { cat "$1.med"; }
echo "(the machine is shared: wall times carry other load; CPU times do not)"
awk -v a="$audio_s" -v fw="$(med 'ffmpeg decode-only rtime (1 thread, summed)')" \
    -v fc="$(med 'ffmpeg decode-only CPU (utime+stime, summed)')" -v w1="$(med 'avmask extract --nj=1 wall')" \
    -v c1="$(med 'avmask extract --nj=1 CPU (user+sys)')" -v w2="$(med 'avmask extract --nj=2 wall')" \
    -v f2="$(med 'ffmpeg decode-only rtime, 2 halves at once')" -v fo="$(med 'ffmpeg decode-only rtime, whole corpus in one')" 'BEGIN {
    printf "RESULT extract x real time, 1 core, wall | %.0fx | %.0fx (ffmpeg decode-only rtime) | %.2f\n", a / w1, a / fw, fw / w1
    printf "RESULT extract x real time per CPU-second | %.0fx | %.0fx (ffmpeg decode-only CPU) | %.2f\n", a / c1, a / fc, fc / c1
    printf "RESULT extract --nj=2 vs --nj=1 wall speed-up | %.0fx real time | %.0fx real time (--nj=1) | %.2f\n", a / w2, a / w1, w1 / w2
    printf "RESULT the machine: ffmpeg decode-only, 2 halves at once vs 1 core | %.0fx real time | %.0fx real time | %.2f\n", a / f2, a / fo, fo / f2
}'
