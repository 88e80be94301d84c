#!/usr/bin/env bash
# Is a run bit-for-bit reproducible on this GPU? Each job runs twice with the default
# config.deterministic=True (XLA's --xla_gpu_deterministic_ops=true, set by train.py) and
# the two results are compared array by array (python -m benchmarks.compare_runs); then once more
# with deterministic=False, compared with the first, to show what the flag buys.
# Jobs: vae_mnist (MLP, dynamic binarization), gan_ring with 2 seeds (vmap), dcgan_mnist
# (convolutions and BatchNorm: the usual source of GPU non-determinism).
# The three jobs run side by side (each one's three runs in turn); with deterministic ops XLA
# does no autotuning, so other work on the GPU cannot change which kernels are chosen.
# Usage (repo root):  OUT=/tmp/out bash benchmarks/gpu_determinism.sh   (a few minutes)
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/det_runs; rm -rf $R; mkdir -p $R $OUT
source benchmarks/gpu_env.sh
nvidia-smi -L 2>/dev/null || true
job() {  # name, then train.py arguments
  local name=$1; shift
  {
  for run in a b nondet; do
    local extra=""; [ $run = nondet ] && extra="--config.deterministic=False"
    local t0=$(date +%s)
    python3 train.py --workdir $R/$name.$run "$@" $extra --config.progress=False > $R/$name.$run.log 2>&1
    echo "$name.$run exit=$? seconds=$(( $(date +%s) - t0 ))"
  done
  } > $R/$name.summary 2>&1
  {
  echo "$name deterministic twice: $(python3 -m benchmarks.compare_runs $R/$name.a $R/$name.b)"
  echo "$name deterministic vs not: $(python3 -m benchmarks.compare_runs $R/$name.a $R/$name.nondet)"
  python3 -c "import json; d = json.load(open('$R/$name.a/environment.json')); print('  ', d['backend'], d['devices'], 'jax', d['versions']['jax'], 'deterministic ops:', d['gpu_deterministic_ops'])"
  } >> $R/$name.summary 2>&1
}
job vae --config configs/vae_mnist.py --config.num_steps=${VAE_STEPS:-2000} --config.eval_every=1000000 --config.eval.nll_samples=100 &
job gan_ring --config configs/gan_ring.py --config.num_seeds=2 --config.seed_batching=vmap --config.num_steps=${GAN_STEPS:-3000} --config.eval_every=1000000 &
job dcgan --config configs/dcgan_mnist.py --config.num_steps=${DC_STEPS:-300} --config.eval_every=1000000 --config.log_every=100 --config.checkpoint_every=300 &
wait
cat $R/vae.summary $R/gan_ring.summary $R/dcgan.summary | tee $OUT/determinism.txt
