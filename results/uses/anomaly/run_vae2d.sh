#!/bin/bash
cd /work/main
. /work/venv/bin/activate
export PYTHONUNBUFFERED=1
while pgrep -f run_all.sh > /dev/null; do sleep 10; done
echo "=== vae2d leave_one_out $(date)"
/usr/bin/time -v python train.py --config configs/vae_anomaly.py --config.model.latent_dim=2 --workdir runs/anomaly/vae2d_leave_one_out \
  --mode anomaly --protocol leave_one_out --seeds 3 2>&1 | grep --line-buffered -E "AUROC|Elapsed|Maximum resident|error|Error|wrote"
echo "=== done $(date)"
