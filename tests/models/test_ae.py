"""The deterministic autoencoder: codes, the reconstruction loss against the math, pictures."""
import chex
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import models


def test_autoencoder(ae_config):
  model = models.build(ae_config, (28, 28, 1))
  state = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (16, 28, 28, 1)) > 0.7).astype(jnp.float32)
  chex.assert_shape(model.encode(state.params, x), (16, 4))
  ev = model.eval_batch(state, x, None)
  chex.assert_shape(ev["recon"], (16,))
  logits = model.decode(state.params, model.encode(state.params, x))
  np.testing.assert_allclose(ev["recon"], -np.sum(np.asarray(x) * logits - np.logaddexp(0, logits),
                                                  axis=(1, 2, 3)), rtol=1e-4)
  np.testing.assert_allclose(ev["code_norm"],
                             np.linalg.norm(model.encode(state.params, x), axis=-1), rtol=1e-5)
  assert set(ev) == set(model.eval_metrics) and not model.has_likelihood
  pics = model.pictures(state, jax.random.PRNGKey(0), x)
  assert set(pics) == {"reconstructions", "random_codes"}
  chex.assert_shape(pics["random_codes"], (16, 28, 28, 1))


def test_gaussian_reconstruction_is_the_squared_error(ae_config):
  ae_config.model.likelihood = "gaussian"
  ae_config.dataset.preprocess = ae_config.dataset.eval_preprocess = "symmetric"
  model = models.build(ae_config, (4, 4, 1))
  state = model.init(jax.random.PRNGKey(0))
  x = jax.random.uniform(jax.random.PRNGKey(1), (5, 4, 4, 1)) * 2 - 1
  out = model.decode(state.params, model.encode(state.params, x))
  want = np.sum((np.asarray(out, np.float64) - np.asarray(x, np.float64)) ** 2, axis=(1, 2, 3))
  np.testing.assert_allclose(model.recon_loss(state.params, x), want, rtol=1e-5)


def test_a_step_lowers_the_reconstruction_loss_along_its_gradient(ae_config, one_adam_update):
  model = models.build(ae_config, (28, 28, 1))
  s0 = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (16, 28, 28, 1)) > 0.7).astype(jnp.float32)

  def by_hand(params):          # mean Bernoulli cross-entropy, from probabilities
    p = jax.nn.sigmoid(model.decode(params, model.encode(params, x)))
    return -jnp.mean(jnp.sum(x * jnp.log(p) + (1 - x) * jnp.log(1 - p), axis=(1, 2, 3)))

  s1, m = jax.jit(model.train_step)(s0, x, None)
  np.testing.assert_allclose(m["loss"], by_hand(s0.params), rtol=1e-5)
  grad = one_adam_update(s0, s1, b1=0.9, lr=ae_config.learning_rate)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(s0.params), rtol=1e-3, atol=1e-6)
  assert float(by_hand(s1.params)) < float(by_hand(s0.params))


def test_random_codes_are_standard_normal_decoded(ae_config):
  """The AE's samples decode z ~ N(0, I) from the key (the lecture's point: not the
  distribution of its codes)."""
  model = models.build(ae_config, (28, 28, 1))
  state = model.init(jax.random.PRNGKey(0))
  key = jax.random.PRNGKey(4)
  z = jax.random.normal(key, (6, ae_config.model.latent_dim))
  np.testing.assert_allclose(model.generate(state, key, 6),
                             jax.nn.sigmoid(model.decode(state.params, z)), rtol=1e-6)
