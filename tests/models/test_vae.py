"""The VAE model: shapes, dtypes, the ELBO and NLL against the math, pictures."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import distributions as D
from jaxgen import models

MNIST = (28, 28, 1)   # the example shape of MNIST images


@pytest.mark.parametrize("net,hidden", [("mlp", (32,)), ("conv", (32,))])
def test_vae_shapes_and_elbo_decomposition(vae_config, net, hidden):
  vae_config.model.net = net
  vae_config.model.hidden = hidden
  model = models.build(vae_config, MNIST)
  state = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (6, 28, 28, 1)) > 0.5).astype(jnp.float32)
  mean, logvar = model.encode(state.params, x)
  chex.assert_shape([mean, logvar], (6, 4))
  out = model.decode(state.params, jnp.zeros((3, 6, 4)))
  chex.assert_shape(out, (3, 6, 28, 28, 1))
  ev = model.eval_batch(state, x, jax.random.PRNGKey(2))
  chex.assert_shape([ev["neg_elbo"], ev["kl"], ev["recon"]], (6,))
  np.testing.assert_allclose(ev["neg_elbo"], ev["recon"] + ev["kl"], rtol=1e-5)
  np.testing.assert_allclose(ev["kl"], D.gaussian_kl(mean, logvar), rtol=1e-5)
  # the reconstruction term recomputed by hand from the same noise
  eps = jax.random.normal(jax.random.PRNGKey(2), (1,) + mean.shape)
  logits = model.decode(state.params, mean + jnp.exp(0.5 * logvar) * eps)[0]
  by_hand = -jnp.sum(x * logits - jnp.logaddexp(0.0, logits), axis=(1, 2, 3))
  np.testing.assert_allclose(ev["recon"], by_hand, rtol=1e-4)
  pics = model.pictures(state, jax.random.PRNGKey(3), x[:16] if x.shape[0] >= 16 else
                        jnp.concatenate([x, x, x])[:16])
  chex.assert_shape(pics["reconstructions"], (32, 28, 28, 1))
  chex.assert_shape(pics["prior_samples"], (16, 28, 28, 1))
  assert float(pics["prior_samples"].min()) >= 0 and float(pics["prior_samples"].max()) <= 1


def test_vae_train_step_lowers_the_loss_and_counts(vae_config):
  model = models.build(vae_config, MNIST)
  state = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (32, 28, 28, 1)) > 0.7).astype(jnp.float32)
  step = jax.jit(model.train_step)
  state, m0 = step(state, x, jax.random.PRNGKey(0))
  for i in range(30):
    state, m = step(state, x, jax.random.PRNGKey(i + 1))
  assert int(state.step) == 31
  assert float(m["loss"]) < float(m0["loss"]) - 50
  np.testing.assert_allclose(m["loss"], m["recon"] + m["kl"], rtol=1e-5)


def test_vae_nll_is_below_neg_elbo(vae_config):
  model = models.build(vae_config, MNIST)
  state = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (8, 28, 28, 1)) > 0.7).astype(jnp.float32)
  nll = model.nll_batch(state, x, jax.random.PRNGKey(1), 200)
  neg_elbo = jnp.mean(jnp.stack([model.eval_batch(state, x, jax.random.PRNGKey(i))["neg_elbo"]
                                 for i in range(50)]), 0)
  assert bool(jnp.all(nll <= neg_elbo + 1e-3))


def test_gaussian_likelihood_learns_a_variance(vae_config):
  vae_config.model.likelihood = "gaussian"
  vae_config.dataset.preprocess = vae_config.dataset.eval_preprocess = "symmetric"
  model = models.build(vae_config, (8, 8, 3))
  state = model.init(jax.random.PRNGKey(0))
  assert "decoder_logvar" in state.params
  x = jax.random.uniform(jax.random.PRNGKey(1), (4, 8, 8, 3)) * 2 - 1
  state2, m = jax.jit(model.train_step)(state, x, jax.random.PRNGKey(2))
  assert float(state2.params["decoder_logvar"]) != 0.0
  chex.assert_tree_all_finite(m)

