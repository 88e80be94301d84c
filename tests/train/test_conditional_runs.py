"""Conditional models in the trainer: batches of (example, condition) rows drawn together,
condition images preprocessed without randomness, bit-for-bit runs, exact resume, one
compilation, eval.json with the translation metrics, --mode sample and --mode explore."""
import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import modes
from jaxgen import batching, train
from jaxgen.data import DataError, Dataset, pipeline
from jaxgen.data.preprocess import preprocess_batch
from jaxgen.train import steps
from jaxgen.config import ConfigError
from jaxgen.uses import explore, judge, loading


def _pix2pix(config, **changes):
  c = config
  c.pix2pix.features, c.pix2pix.max_features, c.pix2pix.d_features = 4, 8, 4
  c.pix2pix.depth, c.pix2pix.d_layers, c.pix2pix.bottleneck_blocks = 2, 1, 0
  c.eval.batch_size = 500
  for k, v in changes.items():
    group, name = k.split(".")
    c[group][name] = v
  return c


@pytest.fixture
def pix2pix_config(load_config, tiny):
  return _pix2pix(tiny(load_config("pix2pix_sr_digits")))


@pytest.fixture
def cvae_config(load_config, tiny):
  return tiny(load_config("cvae_mnist"))


def test_rows_of_examples_and_conditions_are_drawn_together():
  data = {"x": jnp.arange(10)[:, None] * 10, "cond": jnp.arange(10)}
  perm = jax.random.permutation(jax.random.PRNGKey(0), 10)
  batch = pipeline.batch_at(data, perm, 1, 4)
  np.testing.assert_array_equal(batch["x"][:, 0], batch["cond"] * 10)
  np.testing.assert_array_equal(batch["cond"], perm[4:8])
  assert batching.num_rows(data) == 10


def test_condition_images_are_preprocessed_without_randomness_and_labels_pass():
  x = jnp.full((4, 2, 2, 1), 128, jnp.uint8)
  key = jax.random.PRNGKey(0)
  out = preprocess_batch({"x": x, "cond": x}, key, "dynamic_binarize")
  assert set(np.unique(out["x"])) <= {0.0, 1.0}
  np.testing.assert_array_equal(out["cond"], (x > 127).astype(np.float32))      # threshold
  sym = preprocess_batch({"x": x, "cond": x}, key, "symmetric")
  np.testing.assert_allclose(sym["cond"], 128 / 127.5 - 1, atol=1e-6)
  labels = jnp.arange(4, dtype=jnp.int32)
  assert preprocess_batch({"x": x, "cond": labels}, key, "unit")["cond"] is labels


def test_splits_of_a_conditional_run(pix2pix_config, cvae_config):
  run = train.build_run(pix2pix_config)
  assert run.model.condition == "image"
  assert run.train_x["x"].shape == (4000, 28, 28, 1) and run.train_x["cond"].shape == (4000, 7, 7, 1)
  want = run.dataset.test_inputs.astype(np.float32) / 127.5 - 1
  np.testing.assert_allclose(run.test_x["cond"], want, atol=1e-6)
  run = train.build_run(cvae_config)
  np.testing.assert_array_equal(run.test_x["cond"], run.dataset.test_labels)
  unlabelled = Dataset("fake", "image", run.dataset.train, run.dataset.test)
  with pytest.raises(DataError, match="has none"):
    steps.conditions(unlabelled, "label")
  with pytest.raises(DataError, match="use a paired dataset"):
    steps.conditions(unlabelled, "image")


@pytest.mark.slow       # runs trained twice and resumed: 26 s
@pytest.mark.parametrize("which", ["pix2pix", "cvae"])
def test_bit_identical_runs_exact_resume_and_one_compilation(tmp_path, pix2pix_config,
                                                             cvae_config, which, differ,
                                                             run_chunks_compiling_once):
  c = pix2pix_config if which == "pix2pix" else cvae_config
  s1, r1 = train.train(c, str(tmp_path / "a"), log=lambda s: None)
  # the same config in another workdir, in two halves: equal bit for bit (so runs are
  # reproducible, and resuming is exact)
  work = str(tmp_path / "resumed")
  c.num_steps = 10
  train.train(c, work, log=lambda s: None)
  c.num_steps = 20
  resumed, r3 = train.train(c, work, log=lambda s: None)
  chex.assert_trees_all_equal(s1, resumed)
  assert r3 == r1
  c.seed = 1                           # another seed: other parameters (runs of other seeds
  other = train.build_run(c).init_state()   # are tested to differ in test_loop; the init here)
  if which == "pix2pix":
    assert differ(other.generator.params, s1.generator.params)
  else:
    assert differ(other.params, s1.params)
  c.seed = 0
  chex.clear_trace_counter()           # the counter is per function: the other model counted too
  run_chunks_compiling_once(c, 5, 3)


@pytest.mark.slow       # two pix2pix trainings and --mode sample: 17 s
def test_pix2pix_eval_json_sample_and_l1_only(tmp_path, pix2pix_config):
  work = str(tmp_path / "p")
  state, result = train.train(pix2pix_config, work, log=lambda s: None)
  for k in ("psnr", "ssim", "sharpness", "truth_sharpness", "bicubic_psnr", "bicubic_ssim",
            "nearest_psnr", "nearest_ssim", "l1", "d_real", "d_fake"):
    assert k in result, k
  assert "accuracy" not in result          # no judge classifier with sample_metrics off
  # eval.json's PSNR is the mean PSNR of the translations of the test inputs
  t = loading.load(work)
  out = np.asarray(t.translate(t.test_x["cond"]))
  from jaxgen.evaluation import image_quality as iq
  truth = t.dataset.test.astype(np.float32) / 255
  np.testing.assert_allclose(result["psnr"], np.mean(iq.psnr(truth, out)), rtol=1e-5)
  lo = t.dataset.test_inputs.astype(np.float32) / 255
  np.testing.assert_allclose(result["bicubic_psnr"],
                             np.mean(iq.psnr(truth, iq.upsample(lo, (28, 28), "bicubic"))),
                             rtol=1e-6)
  # --mode sample writes the translations of the first num_samples test inputs
  pix2pix_config.num_samples = 20
  samples = modes.sample(pix2pix_config, work, log=lambda s: None)
  np.testing.assert_allclose(samples, out[:20], atol=1e-6)
  assert os.path.exists(os.path.join(work, "samples.png"))
  assert np.load(os.path.join(work, "samples.npy")).shape == (20, 28, 28, 1)
  with pytest.raises(ConfigError, match="translates input images"):   # no samples to judge
    judge.judge_workdir(work, log=lambda s: None)
  # L1 only: no discriminator metrics, D left at its initialization
  pix2pix_config.pix2pix.gan_weight = 0.0
  s0 = train.build_run(pix2pix_config).init_state()
  s_l1, r_l1 = train.train(pix2pix_config, str(tmp_path / "l1"), log=lambda s: None)
  assert "d_real" not in r_l1 and "psnr" in r_l1
  chex.assert_trees_all_equal(s_l1.discriminator, s0.discriminator)
  lines = [json.loads(l) for l in open(os.path.join(str(tmp_path / "l1"), "metrics.jsonl"))]
  assert any("train/l1" in l for l in lines) and not any("train/d_loss" in l for l in lines)


class _FakeClassifier:
  """Reads a digit as (its ink in pixels, rounded) mod 10."""
  test_accuracy = 0.5

  def predict(self, x):
    return np.round(np.asarray(x).sum(axis=(1, 2, 3))).astype(int) % 10


@pytest.mark.slow       # a CVAE trained, then explored: 10 s
def test_cvae_explore_draws_analogies_and_measures_them(tmp_path, cvae_config):
  work = str(tmp_path / "c")
  train.train(cvae_config, work, log=lambda s: None)
  result = explore.explore_workdir(work, log=lambda s: None, classifier=_FakeClassifier())
  for name in ("analogies.png", "analogies_random.png", "style_transfer.json"):
    assert os.path.exists(os.path.join(work, "explore", name)), name
  # by hand: every test digit to every other label, read by the same classifier
  t = loading.load(work)
  x, y = np.asarray(t.test_x["x"]), np.asarray(t.test_x["cond"])
  src = np.repeat(np.arange(y.size), 9)
  tgt = (y[src] + np.tile(np.arange(1, 10), y.size)) % 10
  out = np.asarray(t.transfer(x[src], y[src], tgt))
  assert result["num_transfers"] == 9000
  np.testing.assert_allclose(result["transfer_accuracy"],
                             np.mean(_FakeClassifier().predict(out) == tgt), atol=1e-9)
  from jaxgen.evaluation import image_quality as iq
  np.testing.assert_allclose(result["slant_correlation"],
                             iq.correlation(iq.slant(x)[src], iq.slant(out)), rtol=1e-6)
  assert len(result["per_target_accuracy"]) == 10
