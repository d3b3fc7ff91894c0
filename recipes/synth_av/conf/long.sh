# Profile "long": the clusters profile (conf/clusters.sh: issue 12's experiment) with 6
# training seeds per arm instead of 3, for the 0 dB comparison: there every arm's sd over
# seeds is largest (2.2-3.3 PER points) and 3 seeds did not settle the AV - audio interval
# (docs/results.md, eleventh and twelfth sessions). About 2 h 45 min on 2 cores (the clusters
# profile's 78.6 min plus 84.5 min measured for seeds 4-6) when iteration 2 trained 500
# steps; its 1500 steps (conf/clusters.sh) add about 12 min per seed (72 min) and the 4
# probe lrs about 40 min, so about 4 h 40 min (an estimate from measured runs,
# recipes/README.md). Seeds 1-3 are the clusters
# profile's: a work dir that has run it gains seeds 4-6 with
#   run.sh --profile=clusters --train-seeds="1 2 3 4 5 6"
# (exp/clusters; this profile writes exp/long).
. "$here/conf/clusters.sh"
train_seeds="1 2 3 4 5 6"
