#!/bin/bash
# The four anomaly sweeps, one after another (2-core AMD EPYC).
cd /work/main
. /work/venv/bin/activate
export PYTHONUNBUFFERED=1
for proto in one_class leave_one_out; do
  for m in vae ae; do
    echo "=== $m $proto $(date)"
    /usr/bin/time -v python train.py --config configs/${m}_anomaly.py --workdir runs/anomaly/${m}_${proto} \
      --mode anomaly --protocol $proto --seeds 3 2>&1 | grep --line-buffered -E "AUROC|Elapsed|Maximum resident|error|Error|wrote" 
  done
done
echo "=== done $(date)"
