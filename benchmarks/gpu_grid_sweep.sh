#!/usr/bin/env bash
# Variants of the CPU-sized grid config with minibatch discrimination (configs/gan_grid_mbd.py),
# 10 seeds each (jax.vmap), all side by side on one GPU: a fast screen of settings that
# are then confirmed on the CPU, where the shipped configs must run.
# Usage (repo root):  OUT=/tmp/out LIMIT=420 VARIANTS=benchmarks/sweeps/grid_round1.txt \
#                       bash benchmarks/gpu_grid_sweep.sh
# VARIANTS: a file of lines 'name --config.x=y ...' (default: grid_round1.txt; rounds 2-4 are
# the other files in benchmarks/sweeps/, results in results/gpu_h200_2026-11-27_sweep/).
# Summary: $OUT/grid_sweep.txt (modes, % high quality, reverse KL: mean and per seed).
set -u
OUT=${OUT:-/tmp/out}; LIMIT=${LIMIT:-420}; VARIANTS=${VARIANTS:-benchmarks/sweeps/grid_round1.txt}; R=/tmp/sweep_runs; rm -rf $R; mkdir -p $R $OUT
source benchmarks/gpu_env.sh
C="--config configs/gan_grid_mbd.py --config.num_seeds=${SEEDS:-10} --config.seed_batching=vmap
   --config.eval_every=5000 --config.checkpoint_every=1000000 --config.log_every=5000
   --config.progress=False --config.deterministic=False"
run() {
  local name=$1; shift
  local t0=$(date +%s)
  timeout $LIMIT python3 train.py --workdir $R/$name $C ${EXTRA:-} "$@" > $R/$name.log 2>&1
  echo "$name exit=$? seconds=$(( $(date +%s) - t0 )) $*" >> $R/status.txt
}
while read -r name args; do   # one run per line: name, then train.py arguments
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] || run $name $args &
done < "$VARIANTS"
wait
python3 - $R <<'PY' | tee $OUT/grid_sweep.txt
import json, os, sys
R = sys.argv[1]
status = {l.split()[0]: l.strip() for l in open(os.path.join(R, "status.txt"))}
print("# name: modes, % high quality, reverse KL (mean ± std over seeds); per seed (modes, %hq, rKL, D(G(z)))")
for name in sorted(status):
  f = os.path.join(R, name, "eval.json")
  if not os.path.exists(f):
    print(f"{name:10s} no eval.json  [{status[name]}]"); continue
  d = json.load(open(f))
  ps = [(s["modes"], round(s["high_quality"], 1), round(s["reverse_kl"], 3), round(s["d_fake"], 2)) for s in d["per_seed"]]
  print(f"{name:10s} step {d['step']}: {d['modes']:.1f} ± {d['modes_std']:.1f}  {d['high_quality']:.1f} ± {d['high_quality_std']:.1f}  "
        f"{d['reverse_kl']:.3f} ± {d['reverse_kl_std']:.3f}  [{status[name]}]\n    {ps}")
PY
