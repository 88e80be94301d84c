"""The generic loop: one compilation, bit-for-bit reproducibility, checkpoints, resume."""
import json
import os

import chex
import jax
import numpy as np

from conftest import run_chunks_compiling_once

from jaxgen import trainer
from jaxgen.checkpoint import Checkpointer


def _leaves_equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_step_compiles_once(vae_config):
  state, metrics = run_chunks_compiling_once(vae_config, chunk=5, calls=4)
  assert int(state.step) == 20
  chex.assert_shape(metrics["loss"], (5,))


def test_chunk_equals_single_steps(vae_config):
  """Scanning 4 steps in one call gives exactly what 4 one-step calls give."""
  dataset, model = trainer.prepare(vae_config)
  keys = trainer.run_keys(3)
  train_x, _ = trainer.device_splits(vae_config, dataset, keys)
  n = train_x.shape[0]
  four = jax.jit(trainer.make_train_chunk(model, vae_config, n, 4))
  one = jax.jit(trainer.make_train_chunk(model, vae_config, n, 1))
  s4, m4 = four(model.init(keys["init"]), train_x, keys["train"], keys["data"], 0)
  s1 = model.init(keys["init"])
  losses = []
  for i in range(4):
    s1, m = one(s1, train_x, keys["train"], keys["data"], i)
    losses.append(float(m["loss"][0]))
  np.testing.assert_allclose(m4["loss"], losses, rtol=1e-6)
  chex.assert_trees_all_close(s4.params, s1.params, rtol=1e-5, atol=1e-6)


def test_same_seed_is_bit_identical_and_other_seed_differs(tmp_path, vae_config):
  s1, r1 = trainer.train(vae_config, str(tmp_path / "a"), log=lambda s: None)
  s2, r2 = trainer.train(vae_config, str(tmp_path / "b"), log=lambda s: None)
  assert _leaves_equal(s1, s2) and r1 == r2
  vae_config.seed = 1
  s3, _ = trainer.train(vae_config, str(tmp_path / "c"), log=lambda s: None)
  assert not _leaves_equal(s1.params, s3.params)


def test_outputs_checkpoints_and_exact_resume(tmp_path, vae_config):
  full, _ = trainer.train(vae_config, str(tmp_path / "full"), log=lambda s: None)
  work = str(tmp_path / "resumed")
  vae_config.num_steps = 10
  trainer.train(vae_config, work, log=lambda s: None)
  vae_config.num_steps = 20
  resumed, _ = trainer.train(vae_config, work, log=lambda s: None)
  assert _leaves_equal(full, resumed)

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
  again = trainer.evaluate(vae_config, work, log=lambda s: None)
  assert again == result


def test_map_batches_pads_and_trims():
  x = jax.numpy.arange(7.0)[:, None]
  out = trainer.map_batches(lambda xb, k: xb[:, 0] * 2, x, 3, jax.random.PRNGKey(0))
  np.testing.assert_array_equal(out, np.arange(7.0) * 2)
