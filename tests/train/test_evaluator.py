"""Test-split evaluation: batching, the mode-collapse metrics, several seeds."""
import jax
import numpy as np
import pytest

from jaxgen import batching, train
from jaxgen.train import evaluator as evaluator_lib
from jaxgen.train import steps


def test_map_batches_pads_and_trims():
  x = jax.numpy.arange(7.0)[:, None]
  out = batching.map_batches(lambda xb, k: xb[:, 0] * 2, x, 3, jax.random.PRNGKey(0))
  np.testing.assert_array_equal(out, np.arange(7.0) * 2)


def test_across_seeds_means_and_stds():
  assert evaluator_lib.across_seeds([{"step": 5, "a": 1.0}]) == {"step": 5, "a": 1.0}
  rows = [{"step": 5, "a": 1.0, "b": float("inf"), "name": "x"},
          {"step": 5, "a": 3.0, "b": 2.0, "name": "x"}]
  out = evaluator_lib.across_seeds(rows)
  assert out["step"] == 5 and "step_std" not in out and out["name"] == "x"
  assert out["a"] == 2.0 and out["a_std"] == 1.0
  assert out["b"] == float("inf") and np.isnan(out["b_std"])
  assert out["num_seeds"] == 2 and out["per_seed"] == rows


def test_evaluator_adds_mode_metrics_where_the_data_has_modes(ring_config):
  """The mode-collapse metrics come from the Evaluator (given the dataset's modes and
  std), not from the model; without them the summary is the model's eval_metrics only."""
  run = train.build_run(ring_config)
  state = run.init_state()
  key = run.keys[0]["eval"]
  with_modes = evaluator_lib.Evaluator(run.model, ring_config, run.test_x, key, run.dataset.info)
  plain = evaluator_lib.Evaluator(run.model, ring_config, run.test_x, key)
  summary = with_modes.summary(state)
  assert set(summary) == set(run.model.eval_metrics) | {"modes", "high_quality", "reverse_kl"}
  assert set(plain.summary(state)) == set(run.model.eval_metrics)
  assert plain.nll(state, 5) is None                      # a GAN has no likelihood
  final = with_modes.final(state)
  assert final["step"] == 0 and final["num_test_examples"] == 10_000 and "nll" not in final
  # by hand: the metrics of eval.num_mode_samples samples of the evaluation key
  samples = np.asarray(jax.jit(run.model.generate, static_argnums=2)(
      state, jax.random.fold_in(key, 3), ring_config.eval.num_mode_samples))
  from jaxgen.evaluation.mode_collapse import mode_metrics
  want = mode_metrics(samples, run.dataset.info["modes"], run.dataset.info["std"])
  assert {k: summary[k] for k in want} == pytest.approx(want)
  # several seeds: each with its own key, the first one's equal to the single-seed summary
  two = jax.tree.map(lambda a: np.stack([a, a]), state)
  keys = [run.keys[0], steps.run_keys(7)]
  rows = evaluator_lib.evaluate_seeds(with_modes, two, keys, "periodic")
  assert len(rows) == 2 and rows[0] == summary


def test_periodic_nll_follows_nll_samples_during_training(vae_config):
  """eval.nll_samples_during_training = K > 0 adds the K-sample NLL to each periodic
  evaluation (the same number as Evaluator.nll); 0 leaves it out."""
  run = train.build_run(vae_config)
  state = run.init_state()
  vae_config.eval.nll_samples_during_training = 0
  assert "nll" not in run.evaluator().periodic(state)
  vae_config.eval.nll_samples_during_training = 7
  ev = run.evaluator()
  values = ev.periodic(state)
  assert values["nll"] == ev.nll(state, 7) != ev.nll(state, 8)
  # and the summary's means are the means of eval_batch over the whole test split
  per_example = batching.map_batches(
      lambda xb, k: run.model.eval_batch(state, xb, k), run.test_x,
      vae_config.eval.batch_size, jax.random.fold_in(run.keys[0]["eval"], 0))
  assert per_example["neg_elbo"].shape == (run.test_x.shape[0],)
  assert values["neg_elbo"] == pytest.approx(float(np.mean(per_example["neg_elbo"])), rel=1e-6)
