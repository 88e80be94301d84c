"""A finished run is never lost behind a damaged checkpoint (real processes).

Train, damage the newest checkpoint (every file truncated), run the same command again:
the damaged checkpoint is reported and moved aside (nothing deleted), the run redoes the
last steps from the previous checkpoint, and the finished state is saved again as the
latest checkpoint — so ``--mode evaluate`` (and the other modes, which restore the same
way) afterwards use the finished model, exactly as after the undamaged run.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

# The slow tier (python -m pytest tests -m slow; CI runs it): whole train.py runs.
pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMON = ["--config.num_steps=60", "--config.log_every=20", "--config.eval_every=60",
          "--config.checkpoint_every=20", "--config.keep_checkpoints=5", "--config.progress=False"]
# The checkpointer is the same for every model (its restore and move-aside see a pytree):
# the VAE stands for all; a GAN's stacked seeds are resumed exactly in test_loop/test_steps.
RUNS = {
    "vae": ["--config", "configs/vae_mnist.py", "--config.model.hidden=(32,)",
            "--config.model.latent_dim=4", "--config.batch_size=50", "--config.eval.nll_samples=5",
            "--config.num_samples=8", "--config.eval.sample_metrics=False"],
}


def _train_py(work, args, mode="train"):
  p = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--workdir", work, *args,
                      *COMMON, f"--mode={mode}",
                      *(["--nll_ks="] if mode == "evaluate" else [])],   # no K table here
                     cwd=ROOT, capture_output=True, text=True,
                     timeout=600)
  assert p.returncode == 0, p.stderr[-3000:]
  return p.stdout + p.stderr


def _eval_json(work):
  with open(os.path.join(work, "eval.json")) as f:
    return json.dumps(json.load(f), sort_keys=True)     # NaN-safe comparison


@pytest.mark.parametrize("model", sorted(RUNS))
def test_damaged_newest_checkpoint_then_same_command(tmp_path, model):
  work, args = str(tmp_path / model), RUNS[model]
  _train_py(work, args)
  finished_eval = _eval_json(work)

  ckpt = os.path.join(work, "checkpoints")
  files = [f for f in glob.glob(os.path.join(ckpt, "60", "**", "*"), recursive=True)
           if os.path.isfile(f) and os.path.getsize(f) > 0]
  assert files
  for f in files:                                          # truncate every file of step 60
    with open(f, "r+b") as fh:
      fh.truncate(os.path.getsize(f) // 3)

  out = _train_py(work, args)                              # the same command again
  assert "checkpoint of step 60" in out and "damaged" in out and "damaged-60" in out, out[-3000:]
  assert "resumed from the checkpoint of step 40" in out, out[-3000:]
  assert _eval_json(work) == finished_eval                 # the last 20 steps redone exactly
  entries = sorted(os.listdir(ckpt))
  assert "damaged-60" in entries and "60" in entries, entries   # kept aside, and saved anew
  assert sorted(os.listdir(os.path.join(ckpt, "damaged-60"))) != []

  # what a user does next (--mode evaluate, sample, ...: they all restore the latest
  # checkpoint the same way) reads the finished model, not step 40
  os.remove(os.path.join(work, "eval.json"))
  _train_py(work, args, "evaluate")
  assert _eval_json(work) == finished_eval

  # (a second damage of the same step gets its own name, damaged-60-1: test_checkpoint.py)
