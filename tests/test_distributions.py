"""jaxgen.distributions against closed forms, Monte Carlo and independent formulas."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads
from scipy import stats

from jaxgen import distributions as D


def _full_cov_kl(mq, vq, mp, vp):
  """KL of two Gaussians via the general multivariate formula with full matrices."""
  Sq, Sp = np.diag(vq), np.diag(vp)
  Sp_inv = np.linalg.inv(Sp)
  d = mp - mq
  k = len(mq)
  return 0.5 * (np.trace(Sp_inv @ Sq) + d @ Sp_inv @ d - k
                + np.log(np.linalg.det(Sp) / np.linalg.det(Sq)))


def test_shapes_and_dtypes():
  key = jax.random.PRNGKey(0)
  mean = jnp.zeros((7, 5)); logvar = jnp.zeros((7, 5))
  z = D.reparameterize(key, mean, logvar)
  chex.assert_shape(z, (7, 5)); assert z.dtype == jnp.float32
  chex.assert_shape(D.gaussian_kl(mean, logvar), (7,))
  chex.assert_shape(D.bernoulli_log_prob(jnp.zeros((3, 7, 10)), jnp.ones((7, 10))), (3, 7))
  chex.assert_shape(D.gaussian_log_prob(z, mean, logvar), (7,))


def test_reparameterize_moments():
  mean = jnp.array([1.0, -2.0, 0.5]); logvar = jnp.log(jnp.array([0.25, 4.0, 1.0]))
  z = D.reparameterize(jax.random.PRNGKey(1), jnp.broadcast_to(mean, (200_000, 3)),
                       jnp.broadcast_to(logvar, (200_000, 3)))
  # 5 standard errors of the sample mean (sqrt(var / n)) and variance (var sqrt(2 / n))
  n, var = 200_000, np.exp(np.asarray(logvar, np.float64))
  assert np.all(np.abs(np.asarray(z.mean(0)) - mean) < 5 * np.sqrt(var / n))
  np.testing.assert_allclose(z.var(0), var, rtol=5 * np.sqrt(2 / n))


def test_reparameterize_sample_shape():
  """sample_shape adds leading axes of independent draws, each the draw of the same noise
  an explicit eps of that shape gives."""
  key = jax.random.PRNGKey(5)
  mean = jnp.array([[1.0, -2.0, 0.5]] * 2); logvar = jnp.log(jnp.array([[0.25, 4.0, 1.0]] * 2))
  z = D.reparameterize(key, mean, logvar, (4, 3))
  chex.assert_shape(z, (4, 3, 2, 3))
  eps = jax.random.normal(key, (4, 3, 2, 3))
  np.testing.assert_allclose(z, mean + jnp.exp(0.5 * logvar) * eps, rtol=1e-6)
  assert not np.allclose(z[0, 0], z[1, 0])                  # independent draws
  np.testing.assert_array_equal(D.reparameterize(key, mean, logvar, ()),
                                D.reparameterize(key, mean, logvar))


def test_gaussian_kl_zero_at_prior_and_hand_value():
  assert float(D.gaussian_kl(jnp.zeros(4), jnp.zeros(4))) == 0.0
  # one dimension, mean 1, variance e: 0.5 * (e + 1 - 1 - 1) = 0.5 * (e - 1)
  np.testing.assert_allclose(D.gaussian_kl(jnp.array([1.0]), jnp.array([1.0])),
                             0.5 * (np.e - 1), rtol=1e-6)


def test_gaussian_kl_matches_general_formula():
  rng = np.random.default_rng(0)
  for _ in range(5):
    mq, mp = rng.normal(size=6), rng.normal(size=6)
    lq, lp = rng.normal(size=6), rng.normal(size=6)
    expected = _full_cov_kl(mq, np.exp(lq), mp, np.exp(lp))
    np.testing.assert_allclose(D.gaussian_kl_diag(mq, lq, mp, lp), expected, rtol=1e-5)
    np.testing.assert_allclose(D.gaussian_kl(mq, lq),
                               _full_cov_kl(mq, np.exp(lq), np.zeros(6), np.ones(6)), rtol=1e-5)


def test_gaussian_kl_matches_monte_carlo():
  mean = jnp.array([0.3, -1.2, 2.0]); logvar = jnp.array([-0.5, 0.7, -1.5])
  n = 400_000
  z = D.reparameterize(jax.random.PRNGKey(2), jnp.broadcast_to(mean, (n, 3)),
                       jnp.broadcast_to(logvar, (n, 3)))
  log_ratio = D.gaussian_log_prob(z, mean, logvar) - D.standard_normal_log_prob(z)
  mc, se = float(jnp.mean(log_ratio)), float(jnp.std(log_ratio)) / np.sqrt(n)
  assert abs(mc - float(D.gaussian_kl(mean, logvar))) < 4 * se


def test_log_probs_match_scipy():
  rng = np.random.default_rng(1)
  x, m, lv = rng.normal(size=(3, 8))
  np.testing.assert_allclose(D.gaussian_log_prob(x, m, lv),
                             stats.norm.logpdf(x, m, np.exp(lv / 2)).sum(), rtol=1e-5)
  np.testing.assert_allclose(D.standard_normal_log_prob(x), stats.norm.logpdf(x).sum(), rtol=1e-5)
  logits = rng.normal(size=8) * 3
  bits = (rng.uniform(size=8) > 0.5).astype(np.float64)
  p = 1 / (1 + np.exp(-logits))
  np.testing.assert_allclose(D.bernoulli_log_prob(logits, bits),
                             stats.bernoulli.logpmf(bits, p).sum(), rtol=1e-5)


def test_bernoulli_log_prob_is_finite_for_extreme_logits():
  logits = jnp.array([-200.0, 200.0, 0.0])
  out = D.bernoulli_log_prob(logits, jnp.array([0.0, 1.0, 1.0]))
  np.testing.assert_allclose(out, -np.log(2.0), rtol=1e-6)  # only the logit-0 term costs
  chex.assert_tree_all_finite(jax.grad(lambda l: D.bernoulli_log_prob(l, jnp.ones(3)))(logits))


def test_gradients_float64(x64):
  with x64():
    rng = np.random.default_rng(3)
    mean, logvar, x = (jnp.asarray(rng.normal(size=(4, 3))) for _ in range(3))
    check_grads(D.gaussian_kl, (mean, logvar), order=2, modes=["fwd", "rev"])
    check_grads(lambda m, l: D.gaussian_kl_diag(m, l, x, 0.5 * x), (mean, logvar), order=2)
    check_grads(lambda l: D.bernoulli_log_prob(l, (x > 0).astype(jnp.float64)), (logvar,), order=2)
    check_grads(D.gaussian_log_prob, (x, mean, logvar), order=2)
    check_grads(lambda m, l: D.reparameterize(jax.random.PRNGKey(0), m, l), (mean, logvar), order=2)


def test_reparameterization_gradient_matches_analytic():
  # E[z^2], z ~ N(mu, exp(lv)) is mu^2 + exp(lv): d/dmu = 2 mu, d/dlv = exp(lv).
  mu, lv = 0.7, np.log(0.5)
  n = 400_000

  def objective(params, key):
    m, l = params
    z = D.reparameterize(key, jnp.full((n,), m), jnp.full((n,), l))
    return jnp.mean(z ** 2)

  g_mu, g_lv = jax.grad(objective)((jnp.float32(mu), jnp.float32(lv)), jax.random.PRNGKey(4))
  # Monte-Carlo gradients: d z^2/d mu = 2z, variance 4 s^2; d z^2/d lv = z s eps =
  # mu s eps + s^2 eps^2, variance mu^2 s^2 + 2 s^4 (s^2 = exp(lv)); 5 standard errors
  s2 = np.exp(lv)
  assert abs(float(g_mu) - 2 * mu) < 5 * np.sqrt(4 * s2 / n)
  assert abs(float(g_lv) - s2) < 5 * np.sqrt((mu ** 2 * s2 + 2 * s2 ** 2) / n)


@pytest.mark.parametrize("shape", [(2,), (3, 2), (4, 3, 2)])
def test_kl_reduces_last_axis_only(shape):
  chex.assert_shape(D.gaussian_kl(jnp.ones(shape), jnp.ones(shape)), shape[:-1])
