"""The GAN model: the two-player step (each update touches only its player, G sees the
updated D), the generator's moving average and several discriminator steps."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import losses, models


def _gan(config, shape=(2,)):
  """The GAN of ``config`` for examples of ``shape``: (dim,) are points, (H, W, C) images."""
  return models.build(config, shape)


def _equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
def test_each_update_touches_only_its_player(ring_config, net):
  c = ring_config
  if net == "dcgan":
    c.model.net = "dcgan"
    c.gan.features = 4
    c.dataset.preprocess = c.dataset.eval_preprocess = "symmetric"
    model = _gan(c, (28, 28, 1))
    real = jax.random.uniform(jax.random.PRNGKey(0), (8, 28, 28, 1)) * 2 - 1
  else:
    model = _gan(c)
    real = jax.random.normal(jax.random.PRNGKey(0), (8, 2))
  s0 = model.init(jax.random.PRNGKey(1))
  if net == "dcgan":
    assert s0.generator.batch_stats and s0.discriminator.batch_stats
  s1, _ = jax.jit(model.discriminator_step)(s0, real, jax.random.PRNGKey(2))
  assert _equal(s1.generator, s0.generator)
  assert not _equal(s1.discriminator.params, s0.discriminator.params)
  assert not _equal(s1.discriminator.opt_state, s0.discriminator.opt_state)
  s2, _ = jax.jit(model.generator_step, static_argnums=1)(s1, 8, jax.random.PRNGKey(3))
  assert _equal(s2.discriminator, s1.discriminator)
  assert not _equal(s2.generator.params, s1.generator.params)
  if net == "dcgan":
    assert not _equal(s2.generator.batch_stats, s1.generator.batch_stats)


def test_generator_update_sees_the_updated_discriminator(ring_config):
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  real = jax.random.normal(jax.random.PRNGKey(0), (8, 2))
  key = jax.random.PRNGKey(5)
  s1, metrics = model.train_step(s0, real, key)
  _, k_g = jax.random.split(key)
  fake = model.G.apply({"params": s0.generator.params}, model.noise(k_g, 8))

  def g_loss(disc_params):
    return losses.generator_loss_non_saturating(model.D.apply({"params": disc_params}, fake))

  np.testing.assert_allclose(metrics["g_loss"], g_loss(s1.discriminator.params), rtol=1e-6)
  assert abs(float(metrics["g_loss"]) - float(g_loss(s0.discriminator.params))) > 1e-6
  assert int(s1.step) == 1


@pytest.mark.parametrize("decay", [0.0, 0.9])
def test_generator_ema(ring_config, decay):
  ring_config.gan.g_ema = decay
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  s1, _ = model.train_step(s0, jnp.ones((8, 2)), jax.random.PRNGKey(2))
  s2, _ = model.train_step(s1, jnp.ones((8, 2)), jax.random.PRNGKey(3))
  key = jax.random.PRNGKey(4)
  if not decay:                                    # off: no copy in the state, G samples
    assert s0.generator_ema is None and s2.generator_ema is None
    want = model.G.apply({"params": s2.generator.params}, model.noise(key, 5))
    np.testing.assert_array_equal(model.sample(s2, key, 5), want)
    return
  assert _equal(s0.generator_ema, s0.generator.params)
  # by hand: e1 = d p0 + (1 - d) p1, e2 = d e1 + (1 - d) p2
  p0, p1, p2 = (jax.tree.leaves(s.generator.params) for s in (s0, s1, s2))
  for e, a, b, c in zip(jax.tree.leaves(s2.generator_ema), p0, p1, p2):
    want = decay * (decay * a + (1 - decay) * b) + (1 - decay) * c
    np.testing.assert_allclose(e, want, rtol=1e-6, atol=1e-7)
  # samples come from the averaged params
  want = model.G.apply({"params": s2.generator_ema}, model.noise(key, 5))
  np.testing.assert_array_equal(model.sample(s2, key, 5), want)
  assert not _equal(s2.generator_ema, s2.generator.params)


def test_d_steps(ring_config):
  ring_config.gan.d_steps = 3
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  s1, _ = model.train_step(s0, jnp.ones((8, 2)), jax.random.PRNGKey(2))
  adam_count = jax.tree.leaves(s1.discriminator.opt_state[0].count)[0]
  assert int(adam_count) == 3
  assert int(jax.tree.leaves(s1.generator.opt_state[0].count)[0]) == 1
