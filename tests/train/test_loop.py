"""The host loop: bit-for-bit reproducibility, outputs, checkpoints, exact resume, and
what it refuses (a different config, a non-finite loss)."""
import json
import os

import chex
import jax
import numpy as np
import pytest

from jaxgen import train
from jaxgen.checkpoint import Checkpointer
from jaxgen.config import ConfigError
from jaxgen.train import loop


def _differ(a, b) -> bool:
  """True if two trees of the same structure (asserted) differ in at least one leaf."""
  return any(jax.tree.leaves(jax.tree.map(lambda x, y: not np.array_equal(x, y), a, b)))


def test_same_seed_is_bit_identical_and_other_seed_differs(tmp_path, vae_config):
  s1, r1 = train.train(vae_config, str(tmp_path / "a"), log=lambda s: None)
  s2, r2 = train.train(vae_config, str(tmp_path / "b"), log=lambda s: None)
  chex.assert_trees_all_equal(s1, s2)
  assert r1 == r2
  vae_config.seed = 1
  s3, _ = train.train(vae_config, str(tmp_path / "c"), log=lambda s: None)
  assert _differ(s1.params, s3.params)


def test_outputs_checkpoints_and_exact_resume(tmp_path, vae_config):
  full, _ = train.train(vae_config, str(tmp_path / "full"), log=lambda s: None)
  work = str(tmp_path / "resumed")
  vae_config.num_steps = 10
  train.train(vae_config, work, log=lambda s: None)
  vae_config.num_steps = 20
  resumed, _ = train.train(vae_config, work, log=lambda s: None)
  chex.assert_trees_all_equal(full, resumed)

  assert Checkpointer(os.path.join(work, "checkpoints")).all_steps() == [10, 20]
  lines = [json.loads(l) for l in open(os.path.join(work, "metrics.jsonl"))]
  assert {l["step"] for l in lines} == {10, 20}
  assert any("train/loss" in l for l in lines) and any("eval/neg_elbo" in l for l in lines)
  result = json.load(open(os.path.join(work, "eval.json")))
  assert {"step", "neg_elbo", "kl", "nll", "nll_num_samples"} <= set(result)
  assert result["step"] == 20 and result["nll"] <= result["neg_elbo"] + 1.0
  samples = os.listdir(os.path.join(work, "samples"))
  assert "prior_samples_0000020.png" in samples and "reconstructions_0000020.png" in samples
  assert any(f.startswith("events") for f in os.listdir(os.path.join(work, "tensorboard")))
  # evaluate mode reproduces the final evaluation from the checkpoint
  again = train.evaluate(vae_config, work, log=lambda s: None)
  assert again == result


def test_generator_ema_is_checkpointed_and_resumed_exactly(tmp_path, ring_config):
  ring_config.gan.g_ema = 0.9
  ring_config.lr_schedule = "constant"          # so that num_steps may change on resume
  full, _ = train.train(ring_config, str(tmp_path / "full"), log=lambda s: None)
  ring_config.num_steps = 10
  train.train(ring_config, str(tmp_path / "resumed"), log=lambda s: None)
  ring_config.num_steps = 20
  resumed, _ = train.train(ring_config, str(tmp_path / "resumed"), log=lambda s: None)
  chex.assert_trees_all_equal(full, resumed)
  assert _differ(full.generator_ema, full.generator.params)


def test_different_config_is_refused(tmp_path, vae_config):
  work = str(tmp_path / "run")
  train.train(vae_config, work, log=lambda s: None)
  vae_config.model.latent_dim = 5
  vae_config.num_steps = 30
  with pytest.raises(ConfigError, match="model.latent_dim: 4 -> 5"):
    train.train(vae_config, work, log=lambda s: None)
  assert json.load(open(os.path.join(work, "config.json")))["model"]["latent_dim"] == 4


def test_non_finite_training_stops_and_keeps_the_last_good_checkpoint(tmp_path, vae_config):
  work = str(tmp_path / "run")
  vae_config.num_steps = 10
  train.train(vae_config, work, log=lambda s: None)           # a good checkpoint at 10
  vae_config.num_steps = 40
  vae_config.learning_rate = 1e30                               # diverges at once
  with pytest.raises(train.TrainingError, match=r"non-finite train/\w+ by step 20"):
    train.train(vae_config, work, log=lambda s: None, allow_config_change=True)
  assert Checkpointer(os.path.join(work, "checkpoints")).latest_step() == 10


def test_skip_nonfinite_updates(tmp_path, vae_config):
  vae_config.learning_rate = 1e30
  vae_config.skip_nonfinite = True
  state, result = train.train(vae_config, str(tmp_path / "run"), log=lambda s: None)
  assert int(state.step) == 20
  assert all(np.all(np.isfinite(np.asarray(a))) for a in jax.tree.leaves(state.params))


def test_num_steps_may_change_on_resume_only_with_a_constant_learning_rate():
  old = {"num_steps": 100, "lr_schedule": "constant", "model": {"latent_dim": 4}}
  assert loop.config_differences(old, {**old, "num_steps": 200}) == []
  old["lr_schedule"] = "cosine"                  # the schedule spans num_steps: refused
  assert loop.config_differences(old, {**old, "num_steps": 200}) == ["num_steps: 100 -> 200"]
  assert loop.config_differences(old, {**old, "model": {"latent_dim": 5}}) == [
      "model.latent_dim: 4 -> 5"]
  assert "num_steps" in loop.RESUMABLE_CHANGES
