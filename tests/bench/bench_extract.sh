# Extraction throughput against FFmpeg's own decoding (the floor), on a 96x96 25 fps
# H.264+AAC corpus (120 files of 15 s, 30 min: large enough that the fixed costs of every
# run, start-up and merge, do not dominate).
# Per core: `ffmpeg -threads 1 -benchmark -i X -f null -` (its rtime summed over files:
# decode-only time, no process start-up) against `avmask extract --nj=1` (wall time of the
# whole command: start-up, decode, fbank, video, HDF5 writes, merge), both pinned to the
# same core, for each core.
# Scaling: `avmask extract --nj=2` against --nj=1 on the faster core, beside how far two
# cores can go at all: FFmpeg decoding the whole corpus (concat demuxer) pinned to each core
# alone, then on both cores at once; perfectly balanced, two cores decode at the sum of
# their rates at once, against the faster core alone (the ceiling). The cores of these
# virtual machines are not always equal (one was seen a third slower than the other,
# whether or not the other was busy), so this ceiling is often below 2.
# Contenders are interleaved; ratios are taken within each repeat; medians and min-max of
# REPEATS repeats after one warm-up. Prints RESULT lines for tests/bench/run.sh. Never a
# pass/fail.
set -eu
N=${N:-120}; SECONDS_PER_FILE=${SECONDS_PER_FILE:-15}; REPEATS=${REPEATS:-5}
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

ffmpeg_time() {   # decode-only rtime and CPU (utime+stime) summed over the corpus, one thread on core $1
    for f in corpus/clips/*.mp4; do
        taskset -c "$1" ffmpeg -nostdin -threads 1 -benchmark -i "$f" -f null - 2>&1 | grep 'bench: utime' | tail -1
    done | sed 's/.*utime=\([0-9.]*\)s stime=\([0-9.]*\)s rtime=\([0-9.]*\)s.*/\1 \2 \3/' |
        awk '{c += $1 + $2; r += $3} END {print r, c}'
}
cat_rtime() {  # rtime of one ffmpeg decoding the whole corpus (concat demuxer) on core $1
    taskset -c "$1" ffmpeg -nostdin -threads 1 -benchmark -f concat -safe 0 -i all.txt -f null - 2>&1 |
        grep 'bench: utime' | tail -1 | sed 's/.*rtime=\([0-9.]*\)s.*/\1/'
}
ffmpeg_cores() {  # the machine's own 2-core decoding: prints "core0 core1 both0 both1" rtimes of
    # the whole corpus pinned to core 0 alone, to core 1 alone, and to 0 and 1 at once
    local c0 c1
    c0=$(cat_rtime 0) c1=$(cat_rtime 1)
    cat_rtime 0 >b0.txt & cat_rtime 1 >b1.txt; wait
    echo "$c0 $c1 $(cat b0.txt) $(cat b1.txt)"
}
extract_time() {  # wall and CPU (user+sys, jobs included) seconds of one fresh extraction, --nj=$1,
    # on the cores $2
    rm -rf out
    /usr/bin/time -f '%e %U %S' -o time.txt taskset -c "$2" "$AVMASK" extract --data=corpus --out=out --nj="$1" \
        --shard-size=5 2>/dev/null
    awk '{print $1, $2 + $3}' time.txt
}
stats() {  # median min max of the arguments
    printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR]}'
}
startup_time() {  # wall and CPU of a process that only starts and exits (part of every extraction)
    /usr/bin/time -f '%e %U %S' -o time.txt "$AVMASK" --version >/dev/null
    awk '{print $1, $2 + $3}' time.txt
}
calc() { awk "BEGIN {printf \"%.3f\", $1}"; }
ls corpus/clips/*.mp4 | sed "s|^|file '$PWD/|; s|$|'|" >all.txt
ffmpeg_time 0 >/dev/null; extract_time 1 0 >/dev/null          # warm-up (page cache, libraries)
for v in fw0 fc0 fw1 fc1 f0 f1 fb0 fb1 w10 c10 w11 c11 w2 c2 sw sc pc sp ceil eff; do eval "$v=()"; done
for r in $(seq 1 "$REPEATS"); do
    for k in 0 1; do
        read -r a b <<<"$(ffmpeg_time $k)"; eval "fw$k+=($a); fc$k+=($b)"
        read -r a b <<<"$(extract_time 1 $k)"; eval "w1$k+=($a); c1$k+=($b)"
    done
    read -r x0 x1 y0 y1 <<<"$(ffmpeg_cores)"; f0+=("$x0"); f1+=("$x1"); fb0+=("$y0"); fb1+=("$y1")
    read -r a b <<<"$(extract_time 2 0,1)"; w2+=("$a"); c2+=("$b")
    read -r a b <<<"$(startup_time)"; sw+=("$a"); sc+=("$b")
    # this repeat's figures: per core, ffmpeg's decode-only time over ours on the same core;
    # --nj=2 against --nj=1 on the faster core; the machine's ceiling (both cores decoding at
    # once at their measured rates, perfectly balanced, against the faster core alone)
    pc+=("$(calc "(${fw0[-1]} + ${fw1[-1]}) / (${w10[-1]} + ${w11[-1]})")")
    sp+=("$(calc "(${w10[-1]} < ${w11[-1]} ? ${w10[-1]} : ${w11[-1]}) / ${w2[-1]}")")
    ceil+=("$(calc "($x0 < $x1 ? $x0 : $x1) * (1 / $y0 + 1 / $y1)")")
    eff+=("$(calc "${sp[-1]} / ${ceil[-1]}")")
done
"$AVMASK" info out | sed -n '1,5p'
show() {  # label unit values...: prints the median and range, keeps the median as med[label]
    read -r m l h <<<"$(stats "${@:3}")"
    printf "%-56s median %6.2f%s (min %.2f, max %.2f)\n" "$1" "$m" "$2" "$l" "$h"
    med[$1]=$m
}
declare -A med
show "ffmpeg decode-only rtime (summed per file), core 0" s "${fw0[@]}"
show "ffmpeg decode-only rtime (summed per file), core 1" s "${fw1[@]}"
show "avmask extract --nj=1 wall, core 0" s "${w10[@]}"
show "avmask extract --nj=1 wall, core 1" s "${w11[@]}"
show "ffmpeg decode-only CPU (utime+stime, summed), core 0" s "${fc0[@]}"
show "avmask extract --nj=1 CPU (user+sys), core 0" s "${c10[@]}"
show "ffmpeg whole corpus (concat), core 0 alone" s "${f0[@]}"
show "ffmpeg whole corpus (concat), core 1 alone" s "${f1[@]}"
show "ffmpeg whole corpus (concat), core 0 while core 1 busy" s "${fb0[@]}"
show "ffmpeg whole corpus (concat), core 1 while core 0 busy" s "${fb1[@]}"
show "avmask extract --nj=2 wall" s "${w2[@]}"
show "avmask extract --nj=2 CPU (user+sys)" s "${c2[@]}"
show "avmask process start-up only, wall" s "${sw[@]}"
show "avmask process start-up only, CPU" s "${sc[@]}"
show "per core: ffmpeg decode-only / avmask --nj=1" x "${pc[@]}"
show "--nj=2 vs --nj=1 on the faster core" x "${sp[@]}"
show "2-core ceiling of the machine" x "${ceil[@]}"
show "speed-up / ceiling" x "${eff[@]}"
echo "(ffmpeg's -benchmark figures exclude its start-up and the opening/probing of the input;"
echo " avmask's include them: one start-up per job plus the parent, and every file's open+probe;"
echo " ratios are taken within each repeat, then the median over repeats)"
echo "(the machine is shared: wall times carry other load; CPU times do not)"
awk -v a="$audio_s" -v fw0="${med[ffmpeg decode-only rtime (summed per file), core 0]}" \
    -v fw1="${med[ffmpeg decode-only rtime (summed per file), core 1]}" \
    -v w10="${med[avmask extract --nj=1 wall, core 0]}" -v w11="${med[avmask extract --nj=1 wall, core 1]}" \
    -v w2="${med[avmask extract --nj=2 wall]}" \
    -v pc="${med[per core: ffmpeg decode-only / avmask --nj=1]}" -v sp="${med[--nj=2 vs --nj=1 on the faster core]}" \
    -v ce="${med[2-core ceiling of the machine]}" -v ef="${med[speed-up / ceiling]}" 'BEGIN {
    printf "RESULT extract x real time per core (mean of both cores), wall | %.0fx | %.0fx (ffmpeg decode-only rtime) | %.2f\n", 2 * a / (w10 + w11), 2 * a / (fw0 + fw1), pc
    printf "RESULT extract --nj=2 vs --nj=1 (faster core) speed-up | %.0fx real time | --nj=1 | %.2f\n", a / w2, sp
    printf "RESULT --nj=2 speed-up vs the 2-core ceiling of ffmpeg decoding | %.2f | %.2f | %.2f\n", sp, ce, ef
}'
