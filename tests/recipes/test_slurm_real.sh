#!/usr/bin/env bash
# timeout: 150
# recipes/common/slurm.sh against a real one-node Slurm (test_launchers.sh has a stand-in
# sbatch): munged, slurmctld and slurmd on this machine, with a config and every state file
# in $TEST_TMP, started here and stopped on exit. Through the launcher: an array job of
# feature extraction (recipes/steps/make_feats.sh --cmd slurm.sh, 2 tasks, then the merge)
# and a pretraining job of 2 tasks whose mpirun starts its ranks inside the allocation
# (steps/pretrain.sh --mpi-np 2: Open MPI launches through srun), tiny model, a few steps.
# Exits 77 (SKIP) where Slurm cannot run here: not root (the daemons run as root with
# their state here), packages missing (make test installs them: scripts/install_deps.sh --test) or a
# daemon that does not start or a node that does not come up (e.g. a sandbox without the
# calls they need); never a pass then. A job that fails once the node is up is a FAIL.
set -u
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
t0=$(date +%s)
[ "$(id -u)" = 0 ] || skip "not root: the Slurm daemons of this test run as root"
for b in munged slurmctld slurmd sbatch srun scontrol sinfo mpirun ffmpeg; do
    command -v $b >/dev/null || PATH=$PATH:/usr/sbin command -v $b >/dev/null ||
        skip "$b not installed (sh scripts/install_deps.sh --test: slurm-wlm, munge)"
done
export PATH=$PATH:/usr/sbin
S=$TEST_TMP/slurm; mkdir -p "$S/state" "$S/spool" "$S/munge"
chmod 700 "$S/munge"
pids=()
cleanup() {
    [ -n "${SLURM_CONF:-}" ] && scancel --quiet --user=root 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
# daemon_log NAME: the last lines of a daemon's log, for a skip or a failure message
daemon_log() { tail -3 "$S/$1.log" 2>/dev/null | tr '\n' ' '; }

# munge: a key of our own and a socket in the temp dir, so a machine's munged is untouched
dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 2>/dev/null && chmod 400 "$S/munge/munge.key"
munged --foreground --force --socket="$S/munge/sock" --key-file="$S/munge/munge.key" \
    --pid-file="$S/munge/pid" --seed-file="$S/munge/seed" --log-file="$S/munged.log" 2>>"$S/munged.log" &
pids+=($!)
for i in $(seq 50); do [ -S "$S/munge/sock" ] && break; sleep 0.1; done
[ -S "$S/munge/sock" ] || skip "munged did not start: $(daemon_log munged)"

# free TCP ports for the two daemons (a machine's own Slurm may hold 6817/6818)
read -r p1 p2 < <("$PY" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
host=$(hostname -s)
export SLURM_CONF=$S/slurm.conf
# No cgroups (proctrack/linuxproc, task/none): a sandbox rarely lets a test mount them.
# config_overrides: the node has the 2 CPUs declared here whatever the machine has.
cat >"$SLURM_CONF" <<EOF
ClusterName=avmasktest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$p1
SlurmdPort=$p2
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge/sock
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >>"$S/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >>"$S/slurmd.log" 2>&1 &
pids+=($!)
up=0
for i in $(seq 100); do
    state=$(sinfo -h -n "$host" -o %t 2>/dev/null)
    [[ $state == idle* ]] && { up=1; break; }
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || break 2; done
    sleep 0.2
done
[ $up = 1 ] || skip "the Slurm node did not come up (state '${state:-none}'): slurmctld: $(daemon_log slurmctld) slurmd: $(daemon_log slurmd)"
echo "slurm up in $(( $(date +%s) - t0 )) s: node $host idle"

# A tiny data dir: 4 clips of 1 s (64x64 at 25 fps, a 16 kHz tone) made by the ffmpeg CLI.
mkdir -p data/all
for i in 1 2 3 4; do
    ffmpeg -nostdin -v error -f lavfi -i "testsrc=size=64x64:rate=25:duration=1" \
        -f lavfi -i "sine=frequency=$((300 + 100 * i)):sample_rate=16000:duration=1" \
        -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest -y c$i.mp4 || fail "ffmpeg"
    echo "utt$i $PWD/c$i.mp4" >>data/all/media.scp
done
echo "shard-size=1" >extract.conf   # one utterance per shard, so that both tasks have work

R=$AVMASK_ROOT/recipes
# An array job of 2 extraction tasks through slurm.sh, then the merge.
"$R/steps/make_feats.sh" --cmd "slurm.sh --time=5" --nj 2 --config extract.conf data/all feats/all log \
    >make_feats.out 2>&1 || { cat make_feats.out log/*.log; fail "array job of extraction"; }
cat make_feats.out
echo "array job of extraction done at $(( $(date +%s) - t0 )) s"
for j in 1 2; do
    grep -q "^# started at .* on $host" log/extract_all.$j.log || fail "task $j did not run on the Slurm node"
    grep -q "extract job $j/2: done.* (2 utterances, 0 failed" log/extract_all.$j.log ||
        { cat log/extract_all.$j.log; fail "task $j did not extract 2 utterances"; }
done
[ "$(cut -f1 feats/all/index.tsv | tr '\n' ' ')" = "utt1 utt2 utt3 utt4 " ] || fail "merged index.tsv: $(cat feats/all/index.tsv)"
# the two tasks were one array job: one submission, two batch launches of array task ids
[ "$(grep -c "^\[.*_slurm_rpc_submit_batch_job" "$S/slurmctld.log")" = 1 ] || fail "not one submission"
[ "$(grep -c "^\[.*Launching batch job" "$S/slurmd.log")" = 2 ] || fail "not two batch launches: $(daemon_log slurmd)"
grep -q "^\[.*JobId=[0-9]*_1(" "$S/slurmctld.log" && grep -q "^\[.*JobId=[0-9]*_2(" "$S/slurmctld.log" ||
    fail "no array tasks _1 and _2 in slurmctld.log"

# Pretraining in a job of 2 tasks, tiny model, 3 steps: MPI ranks started inside the
# allocation, by mpirun (what the recipes use) and by srun (a Slurm job step per launch).
# Sanitizer build: Open MPI's dlopened components leave allocations LeakSanitizer cannot
# attribute (as in test_mpi.sh); sbatch passes the environment on to the job.
asan=(); [ -n "${ASAN_OPTIONS:-}" ] && asan=(env ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0")
pretrain() {   # DIR LAUNCHER
    "${asan[@]}" "$R/steps/pretrain.sh" --cmd "slurm.sh --ntasks=2 --time=5" --mpi-np 2 --mpi-launcher $2 feats/all feats/all $1 \
        --model=tiny --max-steps=3 --batch-tokens=100 --max-len=50 --valid-every=3 --save-every=3 --threads=1 --seed=1 \
        >$1.out 2>&1 || { cat $1.out $1/log/pretrain.log; fail "MPI pretraining job ($2)"; }
    log=$1/log/pretrain.log
    grep -q "^# started at .* on $host" $log || fail "$2: the pretraining did not run on the Slurm node"
    grep -q " 2 rank(s) x 1 thread(s)" $log || { cat $log; fail "$2: the log does not show 2 MPI ranks"; }
    [ -f $1/checkpoint-best.h5 ] && [ -f $1/.done ] || fail "$2: no checkpoint-best.h5 / .done"
    echo "pretraining job ($2, 2 ranks) done at $(( $(date +%s) - t0 )) s"
}
mkdir -p exp
steps_before=$(grep -c "^\[.*launch task StepId=" "$S/slurmd.log")
pretrain exp/mpirun mpirun
grep -q "^# mpirun -np 2 .* pretrain " exp/mpirun/log/pretrain.log || fail "not launched with mpirun -np 2"
pretrain exp/srun srun
grep -q "^# srun --mpi=pmix -n 2 .* pretrain " exp/srun/log/pretrain.log || fail "not launched with srun -n 2"
[ "$(grep -c "^\[.*launch task StepId=" "$S/slurmd.log")" -gt "$steps_before" ] || fail "srun started no job step"
# 2 ranks average their gradients: both launchers train the same model
"$PY" -c '
import h5py, sys
c = [h5py.File(f"exp/{d}/checkpoint-best.h5").attrs["checksum_params"] for d in ("mpirun", "srun")]
sys.exit(int(c[0] != c[1]))' || fail "mpirun and srun trained different parameters"
echo "test_slurm_real: ok in $(( $(date +%s) - t0 )) s"
