#!/usr/bin/env bash
# PacGAN's full 2-D protocol on the GPU machine: configs/gan_{ring,grid}_pacgan.py, 10 seeds
# (jax.vmap), 400k steps, without and with minibatch discrimination: four train.py runs side
# by side. 73 PFLOP in all (python -m benchmarks.gan_throughput counts them).
# Each run is stopped with SIGTERM after TIME_LIMIT seconds: train.py then saves a checkpoint
# and exits 0, so running this again at once (the machine keeps runs/ while it is warm)
# resumes every run where it stopped. GPU deterministic ops are off here (autotuning on), as
# in the grid sweep: these runs are not bit-reproducible on a GPU.
# Results (eval.json, metrics.jsonl, final scatter plots, logs) -> $OUT/pacgan_results.tar.gz.
# Usage (repo root):  OUT=/tmp/out TIME_LIMIT=520 bash benchmarks/gpu_pacgan_protocol.sh
#   smaller trials: SETS="--config.num_steps=2000 --config.log_every=1000 --config.eval_every=2000 --config.checkpoint_every=2000"
set -u
OUT=${OUT:-/tmp/out}; TIME_LIMIT=${TIME_LIMIT:-520}; W=${W:-runs/pacgan}; SETS=${SETS:-}
mkdir -p $OUT $W
source benchmarks/gpu_env.sh
nvidia-smi -L 2>/dev/null || true
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
go() {  # name, config, extra overrides
  local name=$1 config=$2; shift 2
  local t0=$(date +%s)
  timeout --preserve-status -s TERM $TIME_LIMIT python3 train.py --config configs/$config.py --workdir $W/$name \
    --config.deterministic=False --config.progress=False $SETS "$@" >> $W/$name.log 2>&1
  echo "$name exit=$? seconds=$(( $(date +%s) - t0 ))" | tee -a $W/status.txt
}
go ring_gan gan_ring_pacgan &
go grid_gan gan_grid_pacgan &
go ring_mbd gan_ring_pacgan --config.gan.minibatch=discrimination &
go grid_mbd gan_grid_pacgan --config.gan.minibatch=discrimination &
wait
for name in ring_gan grid_gan ring_mbd grid_mbd; do
  echo "== $name"; grep -v "^WARNING" $W/$name.log | tail -n 4 | cut -c1-400
done
(cd $W && tar czf $OUT/pacgan_results.tar.gz --exclude=checkpoints --exclude=tensorboard .)
ls -la $OUT
