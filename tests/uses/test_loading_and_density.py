"""jaxgen.load restores what training saved; the density figures and their wiring."""
import json
import math
import os

import chex
import jax
import numpy as np
import pytest

import jaxgen
from jaxgen import train
from jaxgen.config import ConfigError, config_from_json
from jaxgen.uses import density


@pytest.fixture
def trained_vae(trained_tiny):
  return trained_tiny("vae_mnist")


def test_load_restores_exactly_the_state_training_saved(trained_vae):
  config, workdir, state, _ = trained_vae
  t = jaxgen.load(workdir)
  chex.assert_trees_all_equal(t.state, state)          # structure, dtypes and every bit
  assert t.step == config.num_steps
  assert t.config.to_dict() == config.to_dict()         # tuples come back as tuples
  assert t.test_x.shape == (1000, 28, 28, 1) and t.test_labels.shape == (1000,)
  z = t.encode(t.test_x[:5])
  assert z.shape == (5, config.model.latent_dim)
  mean, _ = t.model.encode(t.state.params, t.test_x[:5])
  np.testing.assert_allclose(z, mean, rtol=1e-6, atol=1e-6)   # the VAE's code: the posterior mean
  x = t.decode(z)
  assert x.shape == (5, 28, 28, 1) and float(x.min()) >= 0 and float(x.max()) <= 1
  assert t.generate(7).shape == (7, 28, 28, 1)


def test_saved_config_round_trip_and_errors(trained_vae, tmp_path):
  config, workdir, _, _ = trained_vae
  with open(os.path.join(workdir, "config.json")) as f:
    assert config_from_json(f.read()).to_dict() == config.to_dict()
  with pytest.raises(ConfigError, match="unknown to this version"):
    config_from_json(json.dumps({"no_such_key": 1}))
  with pytest.raises(ConfigError, match="not a trained workdir"):
    jaxgen.load(str(tmp_path))
  with pytest.raises(ConfigError, match="seed_index=1 is out of range"):
    jaxgen.load(workdir, seed_index=1)


def test_bits_per_dim_is_nats_over_dims_ln2():
  assert density.bits_per_dim(784 * math.log(2.0), 784) == pytest.approx(1.0)
  assert density.bits_per_dim(86.0, 784) == pytest.approx(86.0 / (784 * 0.6931471805599453))


def test_density_report_matches_eval_json_and_nll_falls_with_k(trained_vae):
  config, workdir, state, result = trained_vae
  t = jaxgen.load(workdir)
  key = t.key
  rep = density.density_report(t.model, t.state, t.test_x, t.train_x[:500], key,
                               num_samples=config.eval.nll_samples, ks=(1, 10, 100),
                               batch_size=config.eval.batch_size)
  # the same keys as the evaluator: the same test NLL as eval.json, to the last bit
  assert rep["test_nll"] == result["nll"]
  assert rep["test_nll_bits_per_dim"] == pytest.approx(result["nll"] / (784 * math.log(2)))
  assert rep["gap_nll"] == pytest.approx(rep["test_nll"] - rep["train_nll"])
  assert rep["train_num_examples"] == 500
  ks = rep["nll_vs_k"]
  # the bound tightens with K: the NLL estimate falls on average (well beyond its noise)
  assert ks["1"] > ks["10"] > ks["100"]
  # K = 1 is the one-sample ELBO: its mean is close to the mean -ELBO
  assert ks["1"] == pytest.approx(rep["test_neg_elbo"], rel=0.02)
  md = density.density_markdown(rep)
  assert "| test |" in md and "| train |" in md and "| K | 1 | 10 | 100 |" in md


def test_nll_needs_a_likelihood(ring_config):
  run = train.build_run(ring_config)
  with pytest.raises(TypeError, match="no likelihood"):
    density.nll(run.model, run.init_state(), run.test_x, 10, jax.random.PRNGKey(0))
