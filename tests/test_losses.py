"""ELBO and IWAE bounds on a linear-Gaussian model whose log p(x) is known exactly;
GAN losses against hand-computed values."""
import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
from conftest import x64 as enable_x64
from jax.test_util import check_grads
from scipy import stats

from jaxgen import distributions as D
from jaxgen import losses

# p(z) = N(0, I_2), p(x|z) = N(W z + b, s2 I_3) with orthogonal columns in W, so the exact
# posterior is diagonal: var_i = 1 / (1 + |w_i|^2 / s2), mean = var * W^T (x - b) / s2.
_Q = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 2)))[0]
W = _Q * np.array([2.0, 0.7])
B = np.array([0.5, -1.0, 0.2])
S2 = 0.3


def log_marginal(x):
  return stats.multivariate_normal(B, W @ W.T + S2 * np.eye(3)).logpdf(x)


def exact_posterior(x):
  var = 1.0 / (1.0 + np.sum(W ** 2, 0) / S2)
  mean = ((x - B) @ W / S2) * var
  return jnp.asarray(mean), jnp.log(jnp.broadcast_to(var, mean.shape))


def log_likelihood(z, x):
  return D.gaussian_log_prob(x, z @ W.T + B, jnp.log(S2))


def xs(n=64):
  rng = np.random.default_rng(1)
  z = rng.normal(size=(n, 2))
  return z @ W.T + B + np.sqrt(S2) * rng.normal(size=(n, 3))


def test_iwae_is_exact_with_the_true_posterior():
  with enable_x64():
    x = jnp.asarray(xs())
    for k in (1, 7, 50):
      bound = losses.iwae_bound(jax.random.PRNGKey(k), x, exact_posterior, log_likelihood, k)
      np.testing.assert_allclose(bound, log_marginal(np.asarray(x)), rtol=1e-10, atol=1e-10)
    # The ELBO's reconstruction term is Monte Carlo and its KL exact, so it equals log p(x)
    # only in expectation: many samples bring it within Monte-Carlo error.
    elbo = losses.elbo(jax.random.PRNGKey(9), x, exact_posterior, log_likelihood,
                       num_samples=20_000)
    np.testing.assert_allclose(elbo.elbo, log_marginal(np.asarray(x)), atol=0.05)


def _poor_posterior(x):
  mean, logvar = exact_posterior(x)
  return mean + 0.4, logvar + 0.8


def test_iwae_tightens_towards_log_marginal_with_k():
  x = jnp.asarray(np.tile(xs(), (50, 1)), jnp.float32)   # many rows: small Monte-Carlo error
  truth = float(np.mean(log_marginal(np.asarray(x, np.float64))))
  elbo = float(jnp.mean(losses.elbo(jax.random.PRNGKey(0), x, _poor_posterior, log_likelihood,
                                    num_samples=2000).elbo))
  bounds = [float(jnp.mean(losses.iwae_bound(jax.random.PRNGKey(1), x, _poor_posterior,
                                             log_likelihood, k, chunk_size=100)))
            for k in (1, 10, 100, 5000)]
  assert abs(bounds[0] - elbo) < 0.05                 # K = 1 is the ELBO
  assert elbo < bounds[1] < bounds[2] < bounds[3]     # tighter with K
  assert bounds[3] <= truth + 0.01                    # still a lower bound
  assert truth - bounds[3] < 0.02                     # and nearly exact at K = 5000
  assert truth - elbo > 0.3                           # while the ELBO is visibly loose


def test_iwae_never_below_elbo_on_the_same_samples():
  # With shared samples, logmeanexp(log w) >= mean(log w) (Jensen), per example.
  x = jnp.asarray(xs(), jnp.float32)
  key = jax.random.PRNGKey(3)
  k = 40
  iw = losses.iwae_bound(key, x, _poor_posterior, log_likelihood, k, chunk_size=k)
  mean, logvar = _poor_posterior(x)
  eps = jax.random.normal(jax.random.fold_in(key, 0), (k,) + mean.shape)
  z = mean + jnp.exp(0.5 * logvar) * eps
  log_w = log_likelihood(z, x) + D.standard_normal_log_prob(z) - D.gaussian_log_prob(z, mean, logvar)
  np.testing.assert_allclose(iw, jax.nn.logsumexp(log_w, 0) - np.log(k), rtol=1e-5)
  assert bool(jnp.all(iw >= jnp.mean(log_w, 0) - 1e-5))


def test_iwae_large_k_many_examples_runs_in_chunks():
  x = jnp.asarray(np.tile(xs(), (16, 1)), jnp.float32)          # 1,024 examples
  out = jax.jit(lambda x: losses.iwae_bound(jax.random.PRNGKey(0), x, _poor_posterior,
                                            log_likelihood, 5000, chunk_size=50))(x)
  chex.assert_shape(out, (1024,))
  chex.assert_tree_all_finite(out)


def test_elbo_beta_and_gradients_float64():
  with enable_x64():
    x = jnp.asarray(xs(8))
    t1 = losses.elbo(jax.random.PRNGKey(0), x, _poor_posterior, log_likelihood, beta=1.0)
    t2 = losses.elbo(jax.random.PRNGKey(0), x, _poor_posterior, log_likelihood, beta=2.5)
    np.testing.assert_allclose(t2.elbo, t1.recon - 2.5 * t1.kl, rtol=1e-12)

    def elbo_of(shift, log_scale):
      enc = lambda xx: (exact_posterior(xx)[0] + shift, exact_posterior(xx)[1] + log_scale)
      return jnp.mean(losses.elbo(jax.random.PRNGKey(1), x, enc, log_likelihood,
                                  num_samples=4).elbo)
    check_grads(elbo_of, (jnp.array([0.1, -0.2]), jnp.array([0.3, 0.1])), order=1,
                modes=["rev"])
