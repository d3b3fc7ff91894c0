#!/usr/bin/env bash
# avmask synth generation speed, pinned to one core: seconds of media written per second
# of wall time (x real time), median and min-max of 5 runs after a warm-up, against the
# issue's target of 50x real time, and against the ffmpeg CLI re-encoding the same
# media (libx264 superfast, one thread, + aac) interleaved in the same run: the part of
# the work that is only encoding.
set -eu
args="--speakers=8 --utts-per-speaker=6 --heldout-speakers=2 --seed=1 --threads=1"
pin="taskset -c 0"
command -v taskset >/dev/null || pin=""
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); pinned: ${pin:-no}"
run_synth() {   # prints wall seconds, CPU seconds (user + sys) and media seconds
    rm -rf c
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o cpu $pin "$AVMASK" synth --out=c $args 2>log
    t1=$(date +%s.%N)
    media=$(sed -n 's/.*media files (\([0-9.]*\) s).*/\1/p' log)
    echo "$(echo "$t1 - $t0" | bc -l) $(awk '{print $1 + $2}' cpu) $media"
}
run_ffmpeg() {  # re-encodes every MP4 of c/ in one ffmpeg process; prints wall seconds
    local in=() out=() i=0 t0 t1
    for f in c/media/*/*.mp4; do in+=(-i "$f"); out+=(-map "$i:v" -map "$i:a" -c:v libx264 -preset superfast -crf 18 -threads 1 -c:a aac -f null -); i=$((i + 1)); done
    t0=$(date +%s.%N)
    $pin ffmpeg -v error -threads 1 "${in[@]}" "${out[@]}"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
run_synth >/dev/null   # warm-up
s=() c=() f=()
for r in $(seq 1 "${REPEATS:-5}"); do
    read -r wall cpu media < <(run_synth)
    s+=("$(echo "$media / $wall" | bc -l)")
    c+=("$(echo "$media / $cpu" | bc -l)")
    f+=("$(echo "$media / $(run_ffmpeg)" | bc -l)")
done
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {printf "%.1f %.1f %.1f\n", v[int((NR+1)/2)], v[1], v[NR]}'; }
read -r sm slo shi < <(stats "${s[@]}")
read -r fm flo fhi < <(stats "${f[@]}")
read -r cm clo chi < <(stats "${c[@]}")
echo "corpus: $args, $media s of media per run"
echo "avmask synth:          ${sm}x real time (min ${slo}, max ${shi})"
echo "avmask synth, per CPU second (user+sys; shared machines inflate wall time): ${cm}x (min ${clo}, max ${chi})"
echo "ffmpeg re-encode only: ${fm}x real time (min ${flo}, max ${fhi})"
echo "RESULT synth x real time, 1 core | ${sm} | 50 (target) | $(echo "$sm / 50" | bc -l | xargs printf '%.2f')"
echo "RESULT synth x real time per CPU second | ${cm} | 50 (target) | $(echo "$cm / 50" | bc -l | xargs printf '%.2f')"
echo "RESULT synth vs ffmpeg re-encode | ${sm} | ${fm} | $(echo "$sm / $fm" | bc -l | xargs printf '%.2f')"
