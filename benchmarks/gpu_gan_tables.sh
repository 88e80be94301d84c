#!/usr/bin/env bash
# The GAN measurements that need a GPU, in one call of a few minutes:
#   * PacGAN's 2-D setup (configs/gan_{ring,grid}_pacgan.py), vanilla and with minibatch
#     discrimination, 10 seeds each (jax.vmap), the four runs side by side on one GPU;
#   * configs/dcgan_mnist.py (a grid of digits).
# Results (eval.json, metrics.jsonl, sample pictures, logs) go to $OUT/gan_results.tar.gz.
# It made the README's partial H200 rows and the DCGAN grid. For the full PacGAN protocol use
# benchmarks/gpu_pacgan_protocol.sh (ring and grid in one program, resumable across calls).
# Usage (repo root):  OUT=/tmp/out STEPS=200000 bash benchmarks/gpu_gan_tables.sh
# Missing pure-Python packages can be installed from wheels in .whl/ first.
set -u
STEPS=${STEPS:-200000}; EVAL=${EVAL:-25000}; DC_STEPS=${DC_STEPS:-5000}; LIMIT=${LIMIT:-480}
OUT=${OUT:-/tmp/out}
source benchmarks/gpu_env.sh
nvidia-smi -L 2>/dev/null || true
python3 -c "import jax, flax, optax; print('jax', jax.__version__, 'flax', flax.__version__, 'optax', optax.__version__, jax.devices())"
R=/tmp/gan_runs; rm -rf $R; mkdir -p $R $OUT
run() {
  local name=$1; shift
  local t0=$(date +%s)
  timeout $LIMIT python3 train.py --workdir $R/$name "$@" --config.progress=False > $R/$name.log 2>&1
  echo "$name exit=$? seconds=$(( $(date +%s) - t0 ))" | tee -a $R/status.txt
}
P="--config.num_seeds=${SEEDS:-10} --config.num_steps=$STEPS --config.eval_every=$EVAL --config.checkpoint_every=$STEPS --config.log_every=$EVAL"
run ring_gan --config configs/gan_ring_pacgan.py $P &
run ring_mbd --config configs/gan_ring_pacgan.py $P --config.gan.minibatch=discrimination &
run grid_gan --config configs/gan_grid_pacgan.py $P &
run grid_mbd --config configs/gan_grid_pacgan.py $P --config.gan.minibatch=discrimination &
run dcgan --config configs/dcgan_mnist.py --config.num_steps=$DC_STEPS --config.eval_every=1000 --config.checkpoint_every=$DC_STEPS &
wait
for d in ring_gan ring_mbd grid_gan grid_mbd dcgan; do
  echo "== $d"; tail -n 3 $R/$d.log | cut -c1-400
done
(cd $R && tar czf $OUT/gan_results.tar.gz --exclude=checkpoints --exclude=tensorboard .)
ls -la $OUT
