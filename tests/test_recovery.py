"""Preemption, damaged checkpoints and refusing a different config, with real processes."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from jaxgen import trainer
from jaxgen.checkpoint import Checkpointer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = ["--config", "configs/vae_mnist.py", "--config.model.hidden=(32,)",
        "--config.model.latent_dim=4", "--config.batch_size=50", "--config.log_every=10",
        "--config.eval_every=1000000", "--config.checkpoint_every=1000000",
        "--config.eval.nll_samples=5", "--config.progress=False"]


def _cmd(work, steps, *extra):
  return [sys.executable, os.path.join(ROOT, "train.py"), "--workdir", work, *ARGS,
          f"--config.num_steps={steps}", *extra]


def _params(work, step):
  from conftest import load_config, tiny
  c = load_config("vae_mnist")
  c.model.hidden, c.model.latent_dim = (32,), 4
  _, model = trainer.prepare(c)
  state = Checkpointer(os.path.join(work, "checkpoints")).restore(
      model.init(jax.random.PRNGKey(0)), step)
  return jax.tree.leaves(state)


def _start_and_signal(work, sig):
  steps = 100_000
  p = subprocess.Popen(_cmd(work, steps), cwd=ROOT, stderr=subprocess.PIPE, text=True)
  metrics = os.path.join(work, "metrics.jsonl")
  deadline = time.time() + 120
  while not (os.path.exists(metrics) and os.path.getsize(metrics) > 0):
    assert time.time() < deadline and p.poll() is None, "training did not start"
    time.sleep(0.2)
  p.send_signal(sig)
  _, err = p.communicate(timeout=120)
  line = [l for l in err.splitlines() if "stopped by" in l]
  assert p.returncode in (0, 130), err[-2000:]
  assert line and signal.Signals(sig).name in line[0] and "run the same command again" in line[0]
  stopped = Checkpointer(os.path.join(work, "checkpoints")).latest_step()
  assert stopped is not None and 0 < stopped < steps and stopped % 10 == 0
  return p.returncode, err, stopped


def test_sigint_exits_130_with_a_checkpoint(tmp_path):
  code, err, _ = _start_and_signal(str(tmp_path / "run"), signal.SIGINT)
  assert code == 130, err[-2000:]


def test_sigterm_saves_a_checkpoint_and_resume_is_exact(tmp_path, vae_config):
  work = str(tmp_path / "run")
  code, err, stopped = _start_and_signal(work, signal.SIGTERM)
  assert code == 0, err[-2000:]
  # finish a little later, resumed in a new process, and uninterrupted here: bit-identical
  target = stopped + 20
  r = subprocess.run(_cmd(work, target), cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert r.returncode == 0 and "resumed from the checkpoint of step" in r.stdout, r.stderr[-2000:]
  c = vae_config
  c.model.hidden, c.model.latent_dim, c.batch_size = (32,), 4, 50
  c.num_steps, c.log_every, c.eval_every, c.checkpoint_every = target, 10, 1_000_000, 1_000_000
  c.eval.nll_samples = 5
  ref, _ = trainer.train(c, str(tmp_path / "ref"), log=lambda s: None)
  for a, b in zip(_params(work, target), jax.tree.leaves(ref)):
    np.testing.assert_array_equal(a, b)


def test_damaged_latest_checkpoint_is_skipped(tmp_path, vae_config):
  ref_state, _ = trainer.train(vae_config, str(tmp_path / "ref"), log=lambda s: None)
  work = str(tmp_path / "run")
  trainer.train(vae_config, work, log=lambda s: None)           # checkpoints at 10 and 20
  for f in glob.glob(os.path.join(work, "checkpoints", "20", "**", "*"), recursive=True):
    if os.path.isfile(f) and os.path.getsize(f) > 0:
      with open(f, "r+b") as fh:                                   # truncate every file
        fh.truncate(max(0, os.path.getsize(f) // 3))
  messages = []
  state = Checkpointer(os.path.join(work, "checkpoints"), log=messages.append).restore(
      ref_state)
  assert int(state.step) == 10
  assert any("step 20" in m and "damaged" in m for m in messages)
  assert os.path.isdir(os.path.join(work, "checkpoints", "20"))  # nothing deleted
  resumed, _ = trainer.train(vae_config, work, log=messages.append)
  for a, b in zip(jax.tree.leaves(resumed), jax.tree.leaves(ref_state)):
    np.testing.assert_array_equal(a, b)


def test_different_config_is_refused(tmp_path, vae_config):
  work = str(tmp_path / "run")
  trainer.train(vae_config, work, log=lambda s: None)
  vae_config.model.latent_dim = 5
  vae_config.num_steps = 30
  with pytest.raises(trainer.config_lib.ConfigError, match="model.latent_dim: 4 -> 5"):
    trainer.train(vae_config, work, log=lambda s: None)
  assert json.load(open(os.path.join(work, "config.json")))["model"]["latent_dim"] == 4


def test_non_finite_training_stops_and_keeps_the_last_good_checkpoint(tmp_path, vae_config):
  work = str(tmp_path / "run")
  vae_config.num_steps = 10
  trainer.train(vae_config, work, log=lambda s: None)           # a good checkpoint at 10
  vae_config.num_steps = 40
  vae_config.learning_rate = 1e30                               # diverges at once
  with pytest.raises(trainer.TrainingError, match=r"non-finite train/\w+ by step 20"):
    trainer.train(vae_config, work, log=lambda s: None, allow_config_change=True)
  assert Checkpointer(os.path.join(work, "checkpoints")).latest_step() == 10


def test_skip_nonfinite_updates(tmp_path, vae_config):
  vae_config.learning_rate = 1e30
  vae_config.skip_nonfinite = True
  state, result = trainer.train(vae_config, str(tmp_path / "run"), log=lambda s: None)
  assert int(state.step) == 20
  assert all(np.all(np.isfinite(np.asarray(a))) for a in jax.tree.leaves(state.params))
