#!/usr/bin/env bash
# How fast can the PacGAN setup (configs/gan_*_pacgan.py: 4 x 400 MLPs, batch 100, 10 seeds
# with jax.vmap) train on this GPU? Its full protocol is 400k steps per run, four runs; a
# step of these small networks is bound by kernel launches, not arithmetic. Times the
# compiled training chunk (benchmarks/gan_throughput.py) with GPU deterministic ops, as
# train.py runs it, under three command-buffer (CUDA graph) settings of XLA: the default,
# none, and whole while-loops captured (WHILE, CONDITIONAL added).
# Usage (repo root):  OUT=/tmp/out bash benchmarks/gpu_pacgan_speed.sh   (a few minutes)
set -u
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
source benchmarks/gpu_env.sh
D="--xla_gpu_deterministic_ops=true"
ALL="FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,CONDITIONAL,WHILE"
{
for flags in "$D" "$D --xla_gpu_enable_command_buffer=" "$D --xla_gpu_enable_command_buffer=$ALL"; do
  echo "== XLA_FLAGS='$flags'"
  XLA_FLAGS="$flags" timeout ${LIMIT:-150} python3 benchmarks/gan_throughput.py --steps ${STEPS:-1000} \
    --repeats 3 gan_ring_pacgan gan_ring_pacgan,gan.minibatch=discrimination 2>&1 | grep -v Warning
done
} | tee $OUT/pacgan_speed.txt
