"""Every model option of the config contract changes the computation.

For each option a value other than the default is set and the model is built, initialized
and trained for two steps on a fixed batch with fixed keys; the outcome (parameter shapes,
parameters, metrics, samples) must differ from the default's. A test that still passes when
an option is ignored is a defect: this one fails for any option the model ignores. (How an
option changes the computation is tested where it is defined: losses, nets, models.)"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import models

GAN_OPTIONS = [
    ("model.hidden", (16, 8)), ("model.latent_dim", 3), ("gan.generator_loss", "saturating"),
    ("gan.d_steps", 2), ("gan.real_label", 0.9), ("gan.g_ema", 0.5), ("gan.d_hidden", (16, 8)),
    ("gan.maxout_pieces", 2), ("gan.minibatch", "discrimination"), ("gan.minibatch", "stddev"),
    ("gan.g_optimizer.learning_rate", 5e-3), ("gan.d_optimizer.learning_rate", 5e-3),
    ("gan.g_optimizer.b1", 0.9), ("gan.d_optimizer.b1", 0.9),
    ("gan.g_optimizer.b2", 0.5), ("gan.d_optimizer.b2", 0.5),
    ("learning_rate", 5e-3), ("lr_schedule", "linear"), ("skip_nonfinite", True),
]
# options of the minibatch-discrimination layer, changed against a config that uses it
MB_OPTIONS = [("gan.mb_kernels", 3), ("gan.mb_dims", 2), ("gan.mb_normalize", False)]
VAE_OPTIONS = [
    ("model.hidden", (24,)), ("model.latent_dim", 3), ("model.beta", 0.5),
    ("model.num_samples", 3), ("model.net", "conv"), ("learning_rate", 5e-3),
    ("lr_schedule", "cosine"),
]
AE_OPTIONS = [("model.hidden", (24,)), ("model.latent_dim", 3), ("model.net", "conv"),
              ("learning_rate", 5e-3), ("model.likelihood", "gaussian")]


def _set(config, key, value):
  """Sets ``key``, asserting that ``value`` is not already its value (no vacuous case)."""
  *path, last = key.split(".")
  target = config
  for p in path:
    target = target[p]
  assert target[last] != value, f"{key}={value!r} is the default here: pick another value"
  target[last] = value


def _outcome(config, shape, batch):
  """Everything two training steps produce from fixed keys and a fixed batch: the shapes
  and values of the whole state (parameters, optimizer states, EMA, ...) and the metrics."""
  model = models.build(config, shape)
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
  return any(jax.tree.leaves(jax.tree.map(lambda x, y: not np.array_equal(x, y),
                                          values_a, values_b)))


_REFERENCE = {}


def _reference(name, make_config, shape, batch):
  """The default's outcome, computed once per module run."""
  if name not in _REFERENCE:
    _REFERENCE[name] = _outcome(make_config(), shape, batch)
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
