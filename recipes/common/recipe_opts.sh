# Sourced by the corpus recipes (lrs3, voxceleb2) with their other defaults, before
# parse_options.sh: the options they share (which stages run, where their jobs run, the
# mouth box, the option files in the recipe's conf/; $here is the recipe's directory).
stage=0
stop_stage=100
cmd=local.sh                # launcher (recipes/common, on PATH via path.sh): local.sh or "slurm.sh --partition=cpu"
train_cmd=""                # launcher for training (default: $cmd), e.g. "slurm.sh --partition=cpu --ntasks=8"
mpi_np=1                    # >1: pretrain with N data-parallel MPI ranks
mpi_launcher=mpirun         # how the ranks start: mpirun -np N, or srun --mpi=pmix -n N (a Slurm job step)
threads=2                   # OpenMP threads of each avmask process (and rank)
seed=1
mouth_box=56,104,112,112    # fixed lip crop in a 224x224 face track (x,y,w,h), or none: full frames
extract_conf=$here/conf/extract.conf
pretrain_conf=$here/conf/pretrain.conf
