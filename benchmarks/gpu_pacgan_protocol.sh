#!/usr/bin/env bash
# PacGAN's full 2-D protocol on the GPU machine: configs/gan_{ring,grid}_pacgan.py, 10 seeds,
# 400k steps, without and with minibatch discrimination: two processes side by side, each
# training ring and grid in one program (benchmarks/pacgan_protocol.py). 73 PFLOP in all.
# Each process checkpoints and stops before TIME_LIMIT seconds; run this again at once (the
# machine keeps runs/ while it is warm) and it resumes. GPU deterministic ops are off here
# (autotuning on), as in the grid sweep: these runs are not bit-reproducible on a GPU.
# Results (eval.json, metrics.jsonl, final scatter plots, logs) -> $OUT/pacgan_results.tar.gz.
# Usage (repo root):  OUT=/tmp/out TIME_LIMIT=520 bash benchmarks/gpu_pacgan_protocol.sh
#   smaller trials: SETS="--set num_steps=2000 --set log_every=1000 --set eval_every=2000 --set checkpoint_every=2000"
set -u
OUT=${OUT:-/tmp/out}; TIME_LIMIT=${TIME_LIMIT:-520}; W=${W:-runs/pacgan}; SETS=${SETS:-}
mkdir -p $OUT $W
source benchmarks/gpu_env.sh
nvidia-smi -L 2>/dev/null || true
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
go() {  # name, extra --set
  local name=$1; shift
  local t0=$(date +%s)
  python3 benchmarks/pacgan_protocol.py --workdir $W/$name --time_limit $TIME_LIMIT $SETS "$@" \
    >> $W/$name.log 2>&1
  echo "$name exit=$? seconds=$(( $(date +%s) - t0 ))" | tee -a $W/status.txt
}
go gan &
go mbd --set gan.minibatch=discrimination &
wait
for name in gan mbd; do echo "== $name"; grep -v "^WARNING" $W/$name.log | tail -n 6 | cut -c1-400; done
(cd $W && tar czf $OUT/pacgan_results.tar.gz --exclude=checkpoints --exclude=tensorboard .)
ls -la $OUT
