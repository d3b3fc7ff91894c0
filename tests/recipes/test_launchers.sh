#!/usr/bin/env bash
# recipes/common: option parsing, the local parallel launcher and the Slurm launcher
# (against a stand-in sbatch that runs the array tasks here, as Slurm would).
# timeout: 60
set -u
C=$AVMASK_ROOT/recipes/common
fails=0; n=0
ok()  { n=$((n+1)); echo "ok: $1"; }
bad() { n=$((n+1)); fails=$((fails+1)); echo "FAIL: $1"; }
expect() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# --- parse_options.sh
cat >opt.sh <<EOS
stage=0; nj=2; lrs3_root=/x; help_message="usage: opt.sh"
. $C/parse_options.sh
echo "\$stage \$nj \$lrs3_root \$*"
EOS
expect "options override defaults" '[ "$(bash opt.sh --stage=3 --nj 4 --lrs3-root=/d/l a b)" = "3 4 /d/l a b" ]'
expect "unknown option is an error" '! bash opt.sh --stagee=3 2>err && grep -q "unknown option --stagee" err'
expect "--help prints the help message" '[ "$(bash opt.sh --help)" = "usage: opt.sh" ]'
echo "nj=7" >cfg
expect "--config file sets variables" '[ "$(bash opt.sh --config=cfg)" = "0 7 /x " ]'

# --- local.sh
expect "local.sh runs N jobs with JOB substituted" \
  '$C/local.sh JOB=1:3 log/t.JOB.log sh -c "echo job JOB > out.JOB" && [ "$(cat out.1 out.2 out.3)" = "$(printf "job 1\njob 2\njob 3")" ] && grep -q "exit 0" log/t.2.log'
expect "local.sh fails naming the failed log" \
  '! $C/local.sh JOB=1:3 log/f.JOB.log sh -c "[ JOB != 2 ]" 2>err && grep -q "log/f.2.log" err && ! grep -q "log/f.1.log" err'
expect "local.sh rejects a bad JOB range" '! $C/local.sh JOB=x log/a.log true 2>/dev/null'

# --- slurm.sh with a stand-in sbatch (array tasks run here, sequentially)
mkdir -p fakebin
cat >fakebin/sbatch <<'EOS'
#!/usr/bin/env bash
# minimal sbatch: --array=A-B[%M], --wait; other options recorded
arr=""; for a in "$@"; do case $a in --array=*) arr=${a#--array=}; arr=${arr%%%*};; esac; done
echo "$@" >>sbatch.args
script=${@: -1}; rc=0
for ((i=${arr%-*}; i<=${arr#*-}; i++)); do SLURM_ARRAY_TASK_ID=$i bash "$script" || rc=1; done
echo 12345; exit $rc
EOS
chmod +x fakebin/sbatch
expect "slurm.sh submits an array job and runs each task" \
  'PATH=$PWD/fakebin:$PATH $C/slurm.sh --partition=cpu JOB=1:2 log/s.JOB.log sh -c "echo s JOB > sout.JOB" && [ "$(cat sout.1 sout.2)" = "$(printf "s 1\ns 2")" ] && grep -q -- "--partition=cpu" sbatch.args && grep -q -- "--array=1-2" sbatch.args'
expect "slurm.sh reports a failed task" \
  '! PATH=$PWD/fakebin:$PATH $C/slurm.sh JOB=1:2 log/sf.JOB.log sh -c "[ JOB = 1 ]" 2>err && grep -q "array job failed" err'
# a PATH with bash alone (Slurm's sbatch may be installed in /usr/bin: test_slurm_real.sh)
mkdir -p nobin && ln -sf "$(command -v bash)" nobin/bash
expect "slurm.sh without sbatch says so" '! PATH=$PWD/nobin $C/slurm.sh JOB=1:1 log/n.JOB.log true 2>err && grep -q "sbatch not found" err'

echo "$((n-fails)) passed, $fails failed"
[ $fails = 0 ]
