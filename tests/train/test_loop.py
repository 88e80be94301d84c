"""The host loop: bit-for-bit reproducibility, outputs, checkpoints, exact resume, and
what it refuses (a different config, a non-finite loss)."""
import json
import os

import chex
import jax
import numpy as np
import pytest

from jaxgen import modes
from jaxgen import train
from jaxgen.checkpoint import CheckpointMismatch, Checkpointer
from jaxgen.config import ConfigError
from jaxgen.train import loop


def test_same_seed_is_bit_identical_and_other_seed_differs(tmp_path, vae_config, differ):
  s1, r1 = train.train(vae_config, str(tmp_path / "a"), log=lambda s: None)
  s2, r2 = train.train(vae_config, str(tmp_path / "b"), log=lambda s: None)
  chex.assert_trees_all_equal(s1, s2)
  assert r1 == r2
  vae_config.seed = 1
  s3, _ = train.train(vae_config, str(tmp_path / "c"), log=lambda s: None)
  assert differ(s1.params, s3.params)


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
  again = modes.evaluate(vae_config, work, log=lambda s: None, density_ks=(1, 4))
  assert again == result
  density = json.load(open(os.path.join(work, "density.json")))   # and the density figures
  assert density["test_nll"] == result["nll"] and list(density["nll_vs_k"]) == ["1", "4"]


def test_generator_ema_is_checkpointed_and_resumed_exactly(tmp_path, ring_config, differ):
  ring_config.gan.g_ema = 0.9
  ring_config.lr_schedule = "constant"          # so that num_steps may change on resume
  full, _ = train.train(ring_config, str(tmp_path / "full"), log=lambda s: None)
  ring_config.num_steps = 10
  train.train(ring_config, str(tmp_path / "resumed"), log=lambda s: None)
  ring_config.num_steps = 20
  resumed, _ = train.train(ring_config, str(tmp_path / "resumed"), log=lambda s: None)
  chex.assert_trees_all_equal(full, resumed)
  assert differ(full.generator_ema, full.generator.params)


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


def test_skip_nonfinite_updates(tmp_path, vae_config, differ):
  vae_config.learning_rate = 1e30
  vae_config.skip_nonfinite = True
  state, result = train.train(vae_config, str(tmp_path / "run"), log=lambda s: None)
  assert int(state.step) == 20
  chex.assert_tree_all_finite(state.params)
  # the finite updates were applied (the first one, from the initial parameters, is finite)
  init = train.build_run(vae_config).init_state()
  assert differ(state.params, init.params)


def test_num_steps_may_change_on_resume_only_with_a_constant_learning_rate():
  old = {"num_steps": 100, "lr_schedule": "constant", "model": {"latent_dim": 4}}
  assert loop.config_differences(old, {**old, "num_steps": 200}) == []
  old["lr_schedule"] = "cosine"                  # the schedule spans num_steps: refused
  assert loop.config_differences(old, {**old, "num_steps": 200}) == ["num_steps: 100 -> 200"]
  assert loop.config_differences(old, {**old, "model": {"latent_dim": 5}}) == [
      "model.latent_dim: 4 -> 5"]
  assert "num_steps" in loop.RESUMABLE_CHANGES


def test_keep_checkpoints_prunes_to_the_newest(tmp_path, vae_config):
  vae_config.checkpoint_every, vae_config.log_every, vae_config.keep_checkpoints = 5, 5, 2
  work = str(tmp_path / "run")
  train.train(vae_config, work, log=lambda s: None)
  assert Checkpointer(os.path.join(work, "checkpoints")).all_steps() == [15, 20]


def test_allow_config_change_resumes_from_the_checkpoint(tmp_path, vae_config):
  work = str(tmp_path / "run")
  vae_config.num_steps = 10
  first, _ = train.train(vae_config, work, log=lambda s: None)
  vae_config.num_steps, vae_config.learning_rate = 20, 3e-3
  with pytest.raises(ConfigError, match="learning_rate: 0.001 -> 0.003"):
    train.train(vae_config, work, log=lambda s: None)
  messages = []
  resumed, _ = train.train(vae_config, work, log=messages.append, allow_config_change=True)
  assert int(resumed.step) == 20
  assert any("resumed from the checkpoint of step 10" in m for m in messages)
  # the first 10 steps are the old run's, the next 10 use the new learning rate
  reference = _run_10_more(vae_config, first)
  chex.assert_trees_all_equal(resumed, reference)
  assert json.load(open(os.path.join(work, "config.json")))["learning_rate"] == 3e-3


def test_a_change_that_reshapes_the_state_is_refused_and_the_checkpoint_kept(tmp_path, vae_config):
  """--allow_config_change with a change the checkpoint cannot hold (another latent size):
  one error naming the arrays, not a 'damaged' checkpoint moved aside."""
  work = str(tmp_path / "run")
  vae_config.num_steps = 10
  train.train(vae_config, work, log=lambda s: None)
  vae_config.model.latent_dim += 1
  with pytest.raises(CheckpointMismatch, match="holds a different training state.*other shapes"):
    train.train(vae_config, work, log=lambda s: None, allow_config_change=True)
  assert sorted(os.listdir(os.path.join(work, "checkpoints"))) == ["10"]


def test_a_workdir_written_before_a_key_existed_resumes_at_that_keys_default(tmp_path, vae_config):
  """config.json without a key that was added later: the key's default is no change (the
  old run ran with it), any other value is refused."""
  work = str(tmp_path / "run")
  vae_config.num_steps = 10
  train.train(vae_config, work, log=lambda s: None)
  path = os.path.join(work, "config.json")
  saved = json.load(open(path))
  del saved["gan"]["r1_every"], saved["gan"]["g_ema"]
  json.dump(saved, open(path, "w"))
  vae_config.num_steps = 20
  resumed, _ = train.train(vae_config, work, log=lambda s: None)
  assert int(resumed.step) == 20
  vae_config.num_steps, vae_config.gan.g_ema = 30, 0.5
  with pytest.raises(ConfigError, match="gan.g_ema: 0.0 -> 0.5"):
    train.train(vae_config, work, log=lambda s: None)


def _run_10_more(config, state):
  """Steps 10..19 of ``config`` from ``state`` (what a resumed run computes)."""
  import jax.numpy as jnp
  run = train.build_run(config)
  return run.compile_chunk(10)(state, *run.chunk_inputs(), jnp.int32(10))[0]


def test_every_key_but_the_resumable_ones_is_refused_on_resume():
  """Changing any leaf of the config contract is a difference, except RESUMABLE_CHANGES."""
  from jaxgen.config import base_config
  base = json.loads(base_config().to_json_best_effort())

  def leaves(tree, prefix=""):
    for k, v in tree.items():
      if isinstance(v, dict):
        yield from leaves(v, f"{prefix}{k}.")
      else:
        yield f"{prefix}{k}"

  def changed(tree, path):
    out = json.loads(json.dumps(tree))
    *head, last = path.split(".")
    t = out
    for h in head:
      t = t[h]
    t[last] = "<changed>"
    return out

  keys = list(leaves(base))
  assert len(keys) > 40
  for key in keys:
    diffs = loop.config_differences(base, changed(base, key))
    if key in loop.RESUMABLE_CHANGES or key.split(".")[0] in loop.RESUMABLE_CHANGES:
      assert diffs == [], key
    else:
      assert len(diffs) == 1 and diffs[0].startswith(f"{key}: "), (key, diffs)
  assert set(loop.RESUMABLE_CHANGES) == {"num_steps", "progress", "keep_checkpoints",
                                         "num_samples", "mesh", "eval.background_rate",
                                         "dataset.stream", "dataset.stream_mb",
                                         "dataset.stream_prefetch"}
  assert {"mesh.data", "mesh.runs"} <= set(keys)      # the whole group is resumable
  # a workdir of a run from before the mesh existed resumes: a missing group is no change
  no_mesh = {k: v for k, v in base.items() if k != "mesh"}
  assert loop.config_differences(no_mesh, base) == []


def test_skip_nonfinite_applies_finite_updates_unchanged_and_skips_the_rest(vae_config, differ):
  """With skip_nonfinite, a finite gradient gives exactly the plain optimizer's update and a
  NaN gradient leaves the parameters as they are."""
  from jaxgen import models
  from jaxgen.models.state import TrainState, guard_nonfinite
  import optax
  vae_config.skip_nonfinite = True
  guarded = guard_nonfinite(optax.adam(1e-2), models.settings(vae_config)["optimization"])
  plain = optax.adam(1e-2)
  params = {"w": jax.numpy.arange(3.0)}
  good, bad = {"w": jax.numpy.array([1.0, -2.0, 0.5])}, {"w": jax.numpy.array([1.0, np.nan, 0.5])}
  a = TrainState.create(params, guarded).apply_gradients(good, guarded)
  b = TrainState.create(params, plain).apply_gradients(good, plain)
  chex.assert_trees_all_equal(a.params, b.params)
  assert differ(a.params, params)
  c = TrainState.create(params, guarded).apply_gradients(bad, guarded)
  chex.assert_trees_all_equal(c.params, params)
  # and through the model's optimizer
  model = models.build(vae_config, (28, 28, 1))
  s0 = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (8, 28, 28, 1)) > 0.5).astype(jax.numpy.float32)
  s1, _ = model.train_step(s0, x, jax.random.PRNGKey(2))
  vae_config.skip_nonfinite = False
  unguarded = models.build(vae_config, (28, 28, 1))
  u1, _ = unguarded.train_step(unguarded.init(jax.random.PRNGKey(0)), x, jax.random.PRNGKey(2))
  chex.assert_trees_all_close(s1.params, u1.params, rtol=1e-6, atol=1e-7)
  assert differ(s1.params, s0.params)


def test_final_nll_uses_eval_nll_samples(vae_config):
  """eval.json's NLL is the K = eval.nll_samples estimate (and says so)."""
  vae_config.eval.nll_samples = 30
  run = train.build_run(vae_config)
  state, evaluator = run.init_state(), run.evaluator()
  result = evaluator.final(state, run.keys[0]["eval"])
  assert result["nll_num_samples"] == 30
  assert result["nll"] == evaluator.nll(state, 30, run.keys[0]["eval"])
  assert result["nll"] != evaluator.nll(state, 100, run.keys[0]["eval"])


def test_gan_sample_mode_writes_samples_and_a_picture(tmp_path, ring_config):
  import matplotlib.image
  work = str(tmp_path / "gan")
  state, _ = train.train(ring_config, work, log=lambda s: None)
  ring_config.num_samples = 300
  out = modes.sample(ring_config, work, log=lambda s: None)
  assert out.shape == (300, 2)
  np.testing.assert_array_equal(np.load(os.path.join(work, "samples.npy")), out)
  png = matplotlib.image.imread(os.path.join(work, "samples.png"))
  assert png.ndim == 3 and png.shape[0] > 100 and png.std() > 0.01     # a drawn scatter plot
  run = train.build_run(ring_config)
  want = run.model.generate(state, jax.random.fold_in(run.keys[0]["eval"], 4), 300)
  np.testing.assert_allclose(out, want, rtol=1e-6)
