#!/usr/bin/env bash
# How fast can the PacGAN setup (configs/gan_*_pacgan.py: 4 x 400 MLPs, D with 5-piece maxout,
# batch 100, 10 seeds with jax.vmap) train on this GPU, and what limits it? Its full protocol
# is four runs of 400k steps: 10 seeds x 400k steps x (4.33 + 4.33 + 4.77 + 4.77) GFLOP per
# seed-step (XLA's count) = 73 PFLOP. In one session's 15 device minutes that needs about
# 100 TFLOP/s sustained; four processes side by side reached about 27 TFLOP/s together on an
# H200 (2026-11-27: 188 / 115 steps/s per run). Times the compiled training chunk
# (python -m benchmarks.gan_throughput, which prints ms/step and TFLOP/s) solo:
#   * with train.py's default GPU deterministic ops (no autotuning), and without;
#   * 10, 20 and 40 seeds in one program (if the time per step barely grows, the step is
#     bound by kernel launches, and more seeds per program, e.g. ring and grid together, pay);
#   * whole while-loops captured as CUDA graphs (XLA command buffers with WHILE, CONDITIONAL).
# Usage (repo root):  OUT=/tmp/out bash benchmarks/gpu_pacgan_speed.sh   (about 4 minutes)
set -u
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
source benchmarks/gpu_env.sh
D="--xla_gpu_deterministic_ops=true"
ALL="FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,CONDITIONAL,WHILE"
V=gan_ring_pacgan; M="gan_ring_pacgan,gan.minibatch=discrimination"
bench() {  # XLA_FLAGS, then specs
  local flags=$1; shift
  echo "== XLA_FLAGS='$flags'"
  XLA_FLAGS="$flags" timeout ${LIMIT:-120} python3 -m benchmarks.gan_throughput --steps ${STEPS:-500} \
    --repeats 3 "$@" 2>&1 | grep -v Warning
}
{
nvidia-smi -L 2>/dev/null
bench "$D" $V $M
bench "" $V $M $V,num_seeds=20 $V,num_seeds=40
bench "--xla_gpu_enable_command_buffer=$ALL" $V $M
} | tee $OUT/pacgan_speed.txt
