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
