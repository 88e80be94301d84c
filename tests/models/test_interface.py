"""Every model implements the declared interface, and what it declares is what it does."""
import glob
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import models
from jaxgen.models.interface import GenerativeModel, LikelihoodModel, check_interface
from jaxgen.train.evaluator import Evaluator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CASES = {  # name -> (config, overrides, example shape)
    "vae_mlp": ("vae_mnist", {}, (28, 28, 1)),
    "vae_conv": ("vae_conv_mnist", {}, (28, 28, 1)),
    "ae": ("ae_mnist", {}, (28, 28, 1)),
    "gan_points": ("gan_ring", {}, (2,)),
    "gan_mlp_images": ("gan_mnist", {}, (28, 28, 1)),
    "dcgan": ("dcgan_mnist", {"gan.features": 4}, (28, 28, 1)),
}


def _model(load_config, name):
  config_name, overrides, shape = CASES[name]
  c = load_config(config_name)
  c.model.hidden = (16,) * len(c.model.hidden)
  for k, v in overrides.items():
    group, key = k.split(".")
    c[group][key] = v
  return models.build(c, shape), shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_declared_metrics_are_the_returned_metrics(load_config, name):
  model, shape = _model(load_config, name)
  assert isinstance(model, GenerativeModel)
  key = jax.random.PRNGKey(0)
  state = jax.eval_shape(model.init, key)                  # traced only, nothing compiled
  x = jax.ShapeDtypeStruct((4,) + shape, jnp.float32)
  _, metrics = jax.eval_shape(model.train_step, state, x, key)
  assert set(metrics) == set(model.train_metrics)
  assert all(m.shape == () for m in metrics.values())
  assert set(model.progress_metrics) <= set(model.train_metrics) and model.progress_metrics
  evals = jax.eval_shape(model.eval_batch, state, x, key)
  assert set(evals) == set(model.eval_metrics)
  assert all(v.shape == (4,) for v in evals.values())
  assert model.has_likelihood == (name.startswith("vae")) == isinstance(model, LikelihoodModel)
  if model.has_likelihood:
    assert jax.eval_shape(lambda s, xb, k: model.nll_batch(s, xb, k, 10), state, x, key).shape == (4,)
  samples = jax.eval_shape(lambda s, k: model.generate(s, k, 3), state, key)
  assert samples.shape == (3,) + shape


def test_models_keep_no_arrays_or_compiled_functions(load_config):
  for name in CASES:
    model, _ = _model(load_config, name)
    for attr, value in vars(model).items():
      assert not isinstance(value, (jax.Array, np.ndarray)), f"{name}.{attr} holds an array"
      assert not (callable(value) and hasattr(value, "lower")), f"{name}.{attr} holds a jitted function"


def test_check_interface_names_what_is_missing(load_config):
  model, _ = _model(load_config, "vae_mlp")

  class NoPictures:
    pass

  broken = NoPictures()
  for attr in ("example_shape", "train_metrics", "progress_metrics", "eval_metrics",
               "has_likelihood", "condition", "init", "train_step", "eval_batch", "generate"):
    setattr(broken, attr, getattr(model, attr))
  broken.has_likelihood = False
  with pytest.raises(TypeError, match="missing pictures"):
    check_interface(broken)
  broken.pictures = model.pictures
  broken.progress_metrics = ("not_a_metric",)
  with pytest.raises(TypeError, match="progress_metrics"):
    check_interface(broken)
  broken.progress_metrics = model.progress_metrics
  broken.condition = "labels"
  with pytest.raises(TypeError, match="condition"):
    check_interface(broken)
  broken.condition = "none"
  check_interface(broken)                    # a complete one passes (has_likelihood, no nll)
  broken.has_likelihood = True
  with pytest.raises(TypeError, match="nll_batch"):
    check_interface(broken)


def test_evaluator_reads_the_declared_likelihood_hook(load_config):
  """The NLL is computed exactly when the model declares a likelihood."""
  model, _ = _model(load_config, "vae_mlp")
  c = load_config("vae_mnist")
  c.model.hidden = (16,)
  c.eval.nll_samples, c.eval.batch_size = 4, 8
  x = jnp.zeros((8, 28, 28, 1))
  state = model.init(jax.random.PRNGKey(0))
  with_nll = Evaluator(model, c, x, jax.random.PRNGKey(1)).final(state)
  assert with_nll["nll_num_samples"] == 4 and np.isfinite(with_nll["nll"])
  model.has_likelihood = False
  without = Evaluator(model, c, x, jax.random.PRNGKey(1)).final(state)
  assert "nll" not in without and without["neg_elbo"] == with_nll["neg_elbo"]


def test_the_trainer_probes_no_model_methods():
  """The loop reads the declared interface: no hasattr probes, no hard-coded metric names."""
  for path in glob.glob(os.path.join(ROOT, "jaxgen", "train", "*.py")):
    source = open(path).read()
    assert "hasattr(" not in source, path
    for name in ('"loss"', '"d_loss"', '"g_loss"', "sample_metrics"):
      assert name not in source, f"{path} names {name}"
