"""Every model option of the config contract changes the computation.

For each option a value other than the default is set and the model is built, initialized
and trained for two steps on a fixed batch with fixed keys; the outcome (the shapes and
values of the whole state, and the metrics) must differ from the default's: this fails for
any option the model ignores. Options whose exact effect (value and gradient) is tested
elsewhere are listed in EXACT_ELSEWHERE with that test, instead of being trained again here;
``test_every_model_option_is_covered`` keeps the two lists complete."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import models
from jaxgen.config import base_config

GAN_OPTIONS = [
    ("model.hidden", (16, 8)), ("model.latent_dim", 3), ("gan.d_hidden", (16, 8)),
    ("gan.maxout_pieces", 2), ("gan.minibatch", "discrimination"), ("gan.minibatch", "stddev"),
    ("lr_schedule", "linear"), ("skip_nonfinite", True), ("gan.pack", 2),
    ("gan.spectral_norm", True), ("gan.discriminator_loss", "hinge"),
]
# options of the minibatch-discrimination layer, changed against a config that uses it
MB_OPTIONS = [("gan.mb_kernels", 3), ("gan.mb_dims", 2), ("gan.mb_normalize", False)]
VAE_OPTIONS = [("model.hidden", (24,)), ("model.latent_dim", 3), ("model.net", "conv"),
               ("lr_schedule", "cosine")]
AE_OPTIONS = [("model.hidden", (24,)), ("model.net", "conv"), ("model.likelihood", "gaussian")]
CVAE_OPTIONS = [("model.num_classes", 12)]
PIX2PIX_OPTIONS = [("pix2pix.features", 6), ("pix2pix.max_features", 4), ("pix2pix.depth", 1),
                   ("pix2pix.bottleneck_blocks", 1), ("pix2pix.dropout", 0.2),
                   ("pix2pix.norm", "instance"), ("pix2pix.norm", "none"),
                   ("pix2pix.d_features", 6), ("pix2pix.d_layers", 2),
                   ("pix2pix.g_upsampling", "resize"), ("pix2pix.recon_loss", "log_mse")]

# option -> the test (file::function) that checks its exact effect on the loss or gradient
EXACT_ELSEWHERE = {
    "learning_rate": "models/test_vae.py::test_train_step_is_the_beta_elbo_with_l_samples",
    "lr_final_fraction": "models/test_state.py::test_learning_rate_schedules",
    "model.beta": "models/test_vae.py::test_train_step_is_the_beta_elbo_with_l_samples",
    "model.num_samples": "models/test_vae.py::test_train_step_is_the_beta_elbo_with_l_samples",
    "model.objective": "models/test_vae.py::test_train_step_is_the_iwae_bound_with_k_samples",
    "gan.generator_loss": "models/test_gan.py::test_generator_loss_and_gradient_by_hand",
    "gan.real_label": "models/test_gan.py::test_discriminator_loss_and_gradient_by_hand",
    "gan.d_steps": "models/test_gan.py::test_d_steps_are_separate_updates_with_fresh_noise",
    "gan.g_ema": "models/test_gan.py::test_generator_ema",
    "gan.augment": "models/test_gan_stabilizers.py::test_augmentation_reaches_every_image_d_sees",
    "gan.r1_gamma": "models/test_gan_stabilizers.py::test_r1_penalty_in_the_discriminator_update_by_hand",
    "gan.r1_every": "models/test_gan_stabilizers.py::test_lazy_r1_is_the_scaled_penalty_on_every_kth_step_and_none_between",
    "gan.truncation": "models/test_gan.py::test_truncation_shapes_the_samples_and_nothing_in_training",
    "gan.features": "nets/test_adversarial.py::test_dcgan_generator_28_shapes",
    "gan.d_features": "evaluation/test_sample_judges_in_runs.py::test_weaker_discriminator_has_d_features_channels",
    "gan.g_optimizer.learning_rate": "models/test_gan.py::test_generator_loss_and_gradient_by_hand",
    "gan.g_optimizer.b1": "models/test_gan.py::test_generator_loss_and_gradient_by_hand",
    "gan.g_optimizer.b2": "models/test_gan.py::test_generator_loss_and_gradient_by_hand",
    "gan.d_optimizer.learning_rate": "models/test_gan.py::test_discriminator_loss_and_gradient_by_hand",
    "gan.d_optimizer.b1": "models/test_gan.py::test_discriminator_loss_and_gradient_by_hand",
    "gan.d_optimizer.b2": "models/test_gan.py::test_discriminator_loss_and_gradient_by_hand",
    "model.name": "models/test_interface.py::test_declared_metrics_are_the_returned_metrics",
    "pix2pix.l1_weight": "models/test_pix2pix.py::test_l1_weight_scales_the_l1_gradient",
    "pix2pix.gan_weight": "models/test_pix2pix.py::test_without_the_gan_term_the_gradient_is_the_l1_terms",
    "pix2pix.upsample": "models/test_pix2pix.py::test_inputs_are_resized_to_the_output_size",
    "pix2pix.residual": "models/test_pix2pix.py::test_residual_output_starts_from_the_input",
}


def test_every_model_option_is_covered():
  """Every key of the model, gan and optimizer groups is trained here or tested exactly
  elsewhere (and that test exists)."""
  c = base_config()
  keys = {f"{g}.{k}" for g in ("model", "gan", "pix2pix") for k in c[g].keys()
          if not hasattr(c[g][k], "keys")}
  keys |= {f"gan.{o}.{k}" for o in ("g_optimizer", "d_optimizer") for k in c.gan[o].keys()}
  keys |= {"learning_rate", "lr_schedule", "lr_final_fraction", "skip_nonfinite"}
  trained = {k for k, _ in GAN_OPTIONS + MB_OPTIONS + VAE_OPTIONS + AE_OPTIONS + CVAE_OPTIONS
             + PIX2PIX_OPTIONS}
  assert keys <= trained | set(EXACT_ELSEWHERE), sorted(keys - trained - set(EXACT_ELSEWHERE))
  tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  for key, where in EXACT_ELSEWHERE.items():
    path, name = where.split("::")
    assert f"def {name}(" in open(os.path.join(tests, path)).read(), (key, where)


def _set(config, key, value):
  """Sets ``key``, asserting that ``value`` is not already its value (no vacuous case)."""
  *path, last = key.split(".")
  target = config
  for p in path:
    target = target[p]
  assert target[last] != value, f"{key}={value!r} is the default here: pick another value"
  target[last] = value


def _outcome(config, shape, batch, input_shape=None):
  """Everything two training steps produce from fixed keys and a fixed batch: the shapes
  and values of the whole state (parameters, optimizer states, EMA, ...) and the metrics."""
  model = models.build(config, shape, input_shape)
  state = model.init(jax.random.PRNGKey(0))
  step = jax.jit(model.train_step)
  metrics = []
  for i in range(2):
    state, m = step(state, batch, jax.random.PRNGKey(10 + i))
    metrics.append(m)
  return jax.tree.map(jnp.shape, state), jax.device_get((state, metrics))


def _differs(a, b) -> bool:
  (shapes_a, values_a), (shapes_b, values_b) = a, b
  if shapes_a != shapes_b:                     # also catches a different tree structure
    return True
  if jax.tree.structure(values_a) != jax.tree.structure(values_b):   # e.g. another metric
    return True
  return any(jax.tree.leaves(jax.tree.map(lambda x, y: not np.array_equal(x, y),
                                          values_a, values_b)))


_REFERENCE = {}


def _reference(name, make_config, shape, batch, input_shape=None):
  """The default's outcome, computed once per module run."""
  if name not in _REFERENCE:
    _REFERENCE[name] = _outcome(make_config(), shape, batch, input_shape)
  return _REFERENCE[name]


def _ring(load_config, **changes):
  c = load_config("gan_ring")
  c.model.hidden = c.gan.d_hidden = (16, 16)
  c.num_seeds, c.num_steps = 1, 100
  for k, v in changes.items():
    _set(c, k, v)
  return c


POINTS = jax.random.normal(jax.random.PRNGKey(1), (16, 2)) * 2.0


@pytest.mark.parametrize("key,value", GAN_OPTIONS + MB_OPTIONS,
                         ids=[f"{k}={v}" for k, v in GAN_OPTIONS + MB_OPTIONS])
def test_each_gan_option_changes_training(load_config, key, value):
  base = {"gan.minibatch": "discrimination"} if (key, value) in MB_OPTIONS else {}
  ref = _reference(f"gan{sorted(base.items())}", lambda: _ring(load_config, **base), (2,), POINTS)
  changed = _outcome(_ring(load_config, **base, **{key: value}), (2,), POINTS)
  assert _differs(ref, changed), f"{key}={value!r} changed nothing"


DIGITS = (jax.random.uniform(jax.random.PRNGKey(1), (8, 28, 28, 1)) > 0.6).astype(jnp.float32)


@pytest.mark.parametrize("name,key,value", [("vae_mnist", k, v) for k, v in VAE_OPTIONS]
                         + [("ae_mnist", k, v) for k, v in AE_OPTIONS],
                         ids=[f"vae:{k}={v}" for k, v in VAE_OPTIONS]
                         + [f"ae:{k}={v}" for k, v in AE_OPTIONS])
def test_each_autoencoder_option_changes_training(load_config, tiny, name, key, value):
  def config(**changes):
    c = tiny(load_config(name), num_steps=100)
    for k, v in changes.items():
      _set(c, k, v)
    return c
  ref = _reference(name, config, (28, 28, 1), DIGITS)
  changed = _outcome(config(**{key: value}), (28, 28, 1), DIGITS)
  assert _differs(ref, changed), f"{name}: {key}={value!r} changed nothing"


@pytest.mark.parametrize("key,value", CVAE_OPTIONS, ids=[f"cvae:{k}={v}" for k, v in CVAE_OPTIONS])
def test_each_cvae_option_changes_training(load_config, tiny, key, value):
  def config(**changes):
    c = tiny(load_config("cvae_mnist"), num_steps=100)
    for k, v in changes.items():
      _set(c, k, v)
    return c
  batch = {"x": DIGITS, "cond": jnp.arange(8, dtype=jnp.int32)}
  ref = _reference("cvae", config, (28, 28, 1), batch)
  changed = _outcome(config(**{key: value}), (28, 28, 1), batch)
  assert _differs(ref, changed), f"cvae: {key}={value!r} changed nothing"


PAIRS = {"x": jax.random.uniform(jax.random.PRNGKey(2), (4, 16, 16, 1)) * 2 - 1,
         "cond": jax.random.uniform(jax.random.PRNGKey(3), (4, 8, 8, 1)) * 2 - 1}


def _pix2pix(**changes):
  c = base_config()
  c.model.name = "pix2pix"
  c.dataset.preprocess = c.dataset.eval_preprocess = "symmetric"
  c.pix2pix.features, c.pix2pix.max_features, c.pix2pix.d_features = 4, 8, 4
  c.pix2pix.depth, c.pix2pix.d_layers = 2, 1
  for k, v in changes.items():
    _set(c, k, v)
  return c


@pytest.mark.parametrize("key,value", PIX2PIX_OPTIONS,
                         ids=[f"pix2pix:{k}={v}" for k, v in PIX2PIX_OPTIONS])
def test_each_pix2pix_option_changes_training(key, value):
  ref = _reference("pix2pix", _pix2pix, (16, 16, 1), PAIRS, (8, 8, 1))
  changed = _outcome(_pix2pix(**{key: value}), (16, 16, 1), PAIRS, (8, 8, 1))
  assert _differs(ref, changed), f"pix2pix: {key}={value!r} changed nothing"
