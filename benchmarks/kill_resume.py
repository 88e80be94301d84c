"""Kill a training run with SIGKILL at random moments, resume it, and compare bit for bit.

    python -m benchmarks.kill_resume --config configs/vae_mnist.py --kills 3 -- --config.num_steps=3000
    python -m benchmarks.kill_resume --config configs/gan_ring.py --kills 3 -- --config.num_seeds=2

Runs the command once uninterrupted (the reference), then again in a second workdir,
killing it with SIGKILL after a random delay ``--kills`` times and re-running the same
command after each kill, until it finishes. Prints the steps it was killed at and whether
every array of the final checkpoints, and eval.json, are identical.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np
import orbax.checkpoint as ocp

from jaxgen.checkpoint import Checkpointer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, kill_after=None):
  p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  if kill_after is None:
    out, err = p.communicate()
    return p.returncode, out + err
  try:
    out, err = p.communicate(timeout=kill_after)
    return p.returncode, out + err
  except subprocess.TimeoutExpired:
    p.send_signal(signal.SIGKILL)
    out, err = p.communicate()
    return None, out + err


def final_arrays(work):
  """(latest step, its arrays) of ``work/checkpoints``, read with orbax directly."""
  mngr = ocp.CheckpointManager(os.path.join(work, "checkpoints"))
  step = mngr.latest_step()
  tree = mngr.restore(step, args=ocp.args.StandardRestore())
  return step, [np.asarray(a) for a in jax.tree.leaves(tree)]


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--config", required=True)
  ap.add_argument("--kills", type=int, default=3)
  ap.add_argument("--seed", type=int, default=0, help="seed of the random kill times")
  ap.add_argument("--min_delay", type=float, default=8.0)
  ap.add_argument("--max_delay", type=float, default=25.0)
  ap.add_argument("overrides", nargs="*")
  args = ap.parse_args()
  rng = random.Random(args.seed)
  base = tempfile.mkdtemp(prefix="kill_resume_")
  ref, work = os.path.join(base, "reference"), os.path.join(base, "killed")
  cmd = lambda w: [sys.executable, "train.py", "--config", args.config, "--workdir", w,
                   "--config.progress=False", *args.overrides]
  t = time.time()
  code, log = run(cmd(ref))
  assert code == 0, log[-3000:]
  print(f"reference run: {time.time() - t:.0f} s")
  kills = []
  while True:
    delay = rng.uniform(args.min_delay, args.max_delay) if len(kills) < args.kills else None
    code, log = run(cmd(work), kill_after=delay)
    if code is None:
      latest = Checkpointer(os.path.join(work, "checkpoints")).latest_step()
      kills.append((round(delay, 1), latest))
      print(f"SIGKILL after {delay:.1f} s; latest complete checkpoint: step {latest}")
      continue
    assert code == 0, log[-3000:]
    break
  s1, a1 = final_arrays(ref)
  s2, a2 = final_arrays(work)
  same = s1 == s2 and len(a1) == len(a2) and all(
      x.shape == y.shape and x.dtype == y.dtype and (x == y).all() for x, y in zip(a1, a2))
  e1 = json.load(open(os.path.join(ref, "eval.json")))
  e2 = json.load(open(os.path.join(work, "eval.json")))
  print(json.dumps({"config": args.config, "overrides": args.overrides, "kills": kills,
                    "final_step": s2, "arrays": len(a1), "bit_identical_state": bool(same),
                    "identical_eval_json": e1 == e2}))
  shutil.rmtree(base)
  sys.exit(0 if same and e1 == e2 else 1)


if __name__ == "__main__":
  main()
