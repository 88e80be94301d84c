"""ELBO and IWAE bounds on a linear-Gaussian model whose log p(x) is known exactly;
GAN losses against hand-computed values."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
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


def test_iwae_is_exact_with_the_true_posterior(x64):
  with x64():
    x = jnp.asarray(xs())
    for k in (1, 7, 50):
      bound = losses.iwae_bound(jax.random.PRNGKey(k), x, exact_posterior, log_likelihood, k)
      np.testing.assert_allclose(bound, log_marginal(np.asarray(x)), rtol=1e-10, atol=1e-10)
    # The ELBO's reconstruction term is Monte Carlo and its KL exact, so it equals log p(x)
    # only in expectation. Its standard error, exactly: with z ~ q = N(m, V) and
    # r = x - W z - b, log p(x|z) = c - |r|^2 / (2 s2), and |r|^2 has variance
    # 4 r0' A r0 + 2 tr(A^2), r0 = x - W m - b, A = W V W'. Within 5 standard errors.
    L = 20_000
    elbo = losses.elbo(jax.random.PRNGKey(9), x, exact_posterior, log_likelihood,
                       num_samples=L)
    m, logvar = (np.asarray(a, np.float64) for a in exact_posterior(x))
    A = W @ np.diag(np.exp(logvar[0])) @ W.T
    r0 = np.asarray(x) - m @ W.T - B
    var = (4 * np.einsum("ni,ij,nj->n", r0, A, r0) + 2 * np.trace(A @ A)) / (4 * S2 ** 2)
    err = np.abs(np.asarray(elbo.elbo) - log_marginal(np.asarray(x)))
    assert np.all(err < 5 * np.sqrt(var / L)), (err / np.sqrt(var / L)).max()


def _poor_posterior(x):
  mean, logvar = exact_posterior(x)
  return mean + 0.4, logvar + 0.8


@pytest.mark.slow  # reason: 11 s, K up to 5,000 on a trained VAE
def test_iwae_tightens_towards_log_marginal_with_k():
  x = jnp.asarray(np.tile(xs(), (50, 1)), jnp.float32)   # many rows: small Monte-Carlo error
  truth = float(np.mean(log_marginal(np.asarray(x, np.float64))))
  elbo = float(jnp.mean(losses.elbo(jax.random.PRNGKey(0), x, _poor_posterior, log_likelihood,
                                    num_samples=2000).elbo))
  rows = {k: losses.iwae_bound(jax.random.PRNGKey(1), x, _poor_posterior, log_likelihood, k,
                               chunk_size=100) for k in (1, 10, 100, 5000)}
  bounds = [float(jnp.mean(r)) for r in rows.values()]
  assert abs(bounds[0] - elbo) < 0.05                 # K = 1 is the ELBO
  assert elbo < bounds[1] < bounds[2] < bounds[3]     # tighter with K
  # still a lower bound: above the truth by at most 3 standard errors of the K = 5000 mean
  per_row = rows[5000]
  diff = np.asarray(per_row, np.float64) - log_marginal(np.asarray(x, np.float64))
  se = diff.std() / np.sqrt(diff.size)
  assert bounds[3] <= truth + 3 * se + 1e-4, (bounds[3] - truth, se)   # 1e-4: float32 sums
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


def _far_posterior(x):
  """A poor q far from the posterior: log weights spread over tens of nats, so that a
  mistake in the running log-sum-exp's rescaling shows."""
  mean, logvar = exact_posterior(x)
  return mean + 2.0, logvar - 1.5


def test_iwae_chunks_are_one_log_sum_exp(x64):
  """Whatever the chunk size, the running log-sum-exp equals logsumexp of all K log weights
  minus log K, recomputed here from the same draws (chunk i from fold_in(key, i))."""
  with x64():
    x = jnp.asarray(xs(16))
    key = jax.random.PRNGKey(4)
    mean, logvar = _far_posterior(x)
    k = 12
    for chunk_size, chunk in [(1, 1), (3, 3), (5, 4), (12, 12), (100, 12)]:
      got = losses.iwae_bound(key, x, _far_posterior, log_likelihood, k, chunk_size=chunk_size)
      log_w = []
      for i in range(k // chunk):
        eps = jax.random.normal(jax.random.fold_in(key, i), (chunk,) + mean.shape)
        z = mean + jnp.exp(0.5 * logvar) * eps
        log_w.append(log_likelihood(z, x) + D.standard_normal_log_prob(z)
                     - D.gaussian_log_prob(z, mean, logvar))
      log_w = jnp.concatenate(log_w)
      assert float(jnp.max(log_w) - jnp.min(log_w)) > 20          # spread: the test can fail
      np.testing.assert_allclose(got, jax.nn.logsumexp(log_w, 0) - np.log(k), rtol=1e-12)


def test_iwae_estimates_agree_across_chunk_sizes():
  """Different chunk sizes draw different samples of the same estimator: their means over
  many examples agree within 4 standard errors."""
  x = jnp.asarray(np.tile(xs(), (40, 1)), jnp.float32)          # 2,560 examples
  a = np.asarray(losses.iwae_bound(jax.random.PRNGKey(5), x, _far_posterior, log_likelihood,
                                   100, chunk_size=100), np.float64)
  b = np.asarray(losses.iwae_bound(jax.random.PRNGKey(6), x, _far_posterior, log_likelihood,
                                   100, chunk_size=7), np.float64)    # 20 chunks of 5
  se = np.sqrt(a.var() / a.size + b.var() / b.size)
  assert abs(a.mean() - b.mean()) < 4 * se, (a.mean(), b.mean(), se)


def test_iwae_gradients_float64(x64):
  with x64():
    x = jnp.asarray(xs(6))

    def bound_of(shift, log_scale, bias):
      enc = lambda xx: (exact_posterior(xx)[0] + shift, exact_posterior(xx)[1] + log_scale)
      ll = lambda z, xx: D.gaussian_log_prob(xx, z @ W.T + B + bias, jnp.log(S2))
      return jnp.mean(losses.iwae_bound(jax.random.PRNGKey(2), x, enc, ll, 8, chunk_size=3))
    check_grads(bound_of, (jnp.array([0.4, -0.2]), jnp.array([0.3, -0.5]),
                           jnp.array([0.1, 0.0, -0.1])), order=1, modes=["rev"])


def test_iwae_large_k_many_examples_runs_in_chunks():
  x = jnp.asarray(np.tile(xs(), (16, 1)), jnp.float32)          # 1,024 examples
  out = jax.jit(lambda x: losses.iwae_bound(jax.random.PRNGKey(0), x, _poor_posterior,
                                            log_likelihood, 5000, chunk_size=50))(x)
  chex.assert_shape(out, (1024,))
  chex.assert_tree_all_finite(out)


def test_elbo_beta_and_gradients_float64(x64):
  with x64():
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


# --------------------------------------------------------------------------- GAN losses

LN2, LN43 = np.log(2.0), np.log(4.0 / 3.0)


def test_loss_values_by_hand():
  # D = sigmoid(logit): logit 0 -> 1/2, logit ln 3 -> 3/4, logit -ln 3 -> 1/4.
  real = jnp.array([0.0, np.log(3.0)])
  fake = jnp.array([0.0, -np.log(3.0)])
  # -E log D(x) = (ln 2 + ln 4/3) / 2;  -E log(1 - D(G(z))) = (ln 2 + ln 4/3) / 2
  np.testing.assert_allclose(losses.discriminator_loss(real, fake), LN2 + LN43, rtol=1e-6)
  # E log(1 - D(G(z))) with D(G(z)) = 1/2, 3/4: (ln 1/2 + ln 1/4) / 2 = -1.5 ln 2
  np.testing.assert_allclose(losses.generator_loss_saturating(real), -1.5 * LN2, rtol=1e-6)
  # -E log D(G(z)) with D(G(z)) = 1/2, 3/4: (ln 2 + ln 4/3) / 2
  np.testing.assert_allclose(losses.generator_loss_non_saturating(real), (LN2 + LN43) / 2, rtol=1e-6)
  # stable for huge logits
  chex.assert_tree_all_finite(losses.discriminator_loss(jnp.array([1e4, -1e4]), jnp.array([-1e4, 1e4])))


def test_one_sided_label_smoothing_by_hand():
  # real target a = 0.9: -[0.9 log D(x) + 0.1 log(1 - D(x))]; D(x) = 1/2 and 3/4.
  real = jnp.array([0.0, np.log(3.0)])
  fake = jnp.array([0.0, -np.log(3.0)])
  real_term = (0.9 * LN2 + 0.1 * LN2 + 0.9 * LN43 + 0.1 * np.log(4.0)) / 2
  fake_term = (LN2 + LN43) / 2
  np.testing.assert_allclose(losses.discriminator_loss(real, fake, 0.9), real_term + fake_term,
                             rtol=1e-6)
  # its optimum for a real logit l is sigmoid(l) = 0.9, not 1
  grad = jax.grad(lambda l: losses.discriminator_loss(l, fake, 0.9))(jnp.full(2, np.log(9.0)))
  np.testing.assert_allclose(grad, 0.0, atol=1e-6)


def test_loss_gradients_float64(x64):
  with x64():
    r = jnp.array([0.3, -1.2, 2.0]); f = jnp.array([-0.7, 0.1, 1.5])
    check_grads(losses.discriminator_loss, (r, f), order=2)
    check_grads(lambda r, f: losses.discriminator_loss(r, f, 0.9), (r, f), order=2)
    check_grads(losses.generator_loss_saturating, (f,), order=2)
    check_grads(losses.generator_loss_non_saturating, (f,), order=2)


def test_saturating_gradient_vanishes_when_d_rejects_fakes():
  # D(G(z)) -> 0 means fake logits -> -inf.
  for logit in (-5.0, -10.0, -20.0):
    l = jnp.array([logit])
    g_sat = jax.grad(losses.generator_loss_saturating)(l)
    g_ns = jax.grad(losses.generator_loss_non_saturating)(l)
    np.testing.assert_allclose(g_sat, -jax.nn.sigmoid(l), rtol=1e-5)     # = -D(G(z)) -> 0
    assert abs(float(g_sat[0])) < 1e-2
    assert abs(float(g_ns[0])) > 0.99                                     # = -(1 - D(G(z))) -> -1
  assert abs(float(jax.grad(losses.generator_loss_saturating)(jnp.array([-20.0]))[0])) < 1e-8


def test_iwae_terms_share_the_samples_of_iwae_bound(x64):
  """The training form (all K samples at once) is the evaluation form with one chunk, to
  the last bit; its ELBO and reconstruction come from the same K samples."""
  with x64():
    x = jnp.asarray(xs(16))
    mean, logvar = exact_posterior(np.asarray(x))
    encode = lambda x: (mean + 0.3, logvar + 0.2)           # not the posterior: a loose bound
    key = jax.random.PRNGKey(3)
    t = losses.iwae_terms(key, x, encode, log_likelihood, 7)
    np.testing.assert_allclose(t.bound, losses.iwae_bound(key, x, encode, log_likelihood, 7,
                                                          chunk_size=7), rtol=1e-13)
    z = D.reparameterize(jax.random.fold_in(key, 0), mean + 0.3, logvar + 0.2, (7,))
    log_px = log_likelihood(z, x)
    log_w = log_px + D.standard_normal_log_prob(z) - D.gaussian_log_prob(z, mean + 0.3, logvar + 0.2)
    np.testing.assert_allclose(t.recon, jnp.mean(log_px, 0), rtol=1e-12)
    np.testing.assert_allclose(t.kl, D.gaussian_kl(mean + 0.3, logvar + 0.2), rtol=1e-12)
    np.testing.assert_allclose(t.elbo, t.recon - t.kl, rtol=1e-12)
    # Jensen, sample by sample: the bound is above the mean log weight of its own samples
    assert np.all(np.asarray(t.bound) >= np.asarray(jnp.mean(log_w, 0)))
    assert np.all(np.asarray(t.bound) <= log_marginal(np.asarray(x)) + 1.0)
    check_grads(lambda m: jnp.sum(losses.iwae_terms(
        key, x, lambda x: (m, logvar), log_likelihood, 4).bound), (mean,), order=1,
        modes=["rev"], atol=1e-5, rtol=1e-5)


def test_hinge_losses_by_hand():
  # D's hinge: E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))) on raw scores.
  real = jnp.array([2.0, 0.5, -1.0])      # terms 0, 0.5, 2     -> mean 5/6
  fake = jnp.array([-3.0, -0.25, 1.0])    # terms 0, 0.75, 2    -> mean 11/12
  np.testing.assert_allclose(losses.discriminator_loss_hinge(real, fake), 5 / 6 + 11 / 12,
                             rtol=1e-6)
  # G's hinge side: -E D(G(z)) = -(-3 - 0.25 + 1) / 3 = 0.75
  np.testing.assert_allclose(losses.generator_loss_hinge(fake), 0.75, rtol=1e-6)
  # the gradient is zero past the margin and -1/N (real) / +1/N (fake) inside it
  g_real, g_fake = jax.grad(losses.discriminator_loss_hinge, argnums=(0, 1))(real, fake)
  np.testing.assert_allclose(g_real, [0.0, -1 / 3, -1 / 3], atol=1e-7)
  np.testing.assert_allclose(g_fake, [0.0, 1 / 3, 1 / 3], atol=1e-7)
  np.testing.assert_allclose(jax.grad(losses.generator_loss_hinge)(fake), [-1 / 3] * 3,
                             rtol=1e-6)
  assert losses.GENERATOR_LOSSES["hinge"] is losses.generator_loss_hinge


def _linear_d(w, b):
  """A discriminator linear in x: D(x) = <w, x> + b per example, aux = 'stats'."""
  return lambda x: (x.reshape(x.shape[0], -1) @ w + b, "stats")


def test_r1_penalty_of_a_linear_discriminator_is_gamma_half_norm_w_squared():
  w = jnp.array([0.5, -2.0, 1.0, 3.0]); x = jnp.arange(12.0).reshape(3, 2, 2)
  penalty, logits, aux = losses.r1_penalty(_linear_d(w, 0.25), x, gamma=10.0)
  # grad_x D(x_i) = w for every example: gamma/2 * ||w||^2 = 5 * 14.25
  np.testing.assert_allclose(penalty, 5.0 * 14.25, rtol=1e-6)
  np.testing.assert_allclose(logits, x.reshape(3, 4) @ w + 0.25, rtol=1e-6)
  assert aux == "stats"


def test_r1_penalty_of_a_quadratic_discriminator_and_its_parameter_gradient(x64):
  with x64():
    x = jnp.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.0]])

    def penalty(a):        # D(x) = a * sum(x^2): grad_x = 2 a x, E||.||^2 = 4 a^2 E||x||^2
      return losses.r1_penalty(lambda v: (a * jnp.sum(v ** 2, axis=1), None), x, 2.0)[0]

    mean_sq = np.mean(np.sum(np.asarray(x) ** 2, axis=1))
    np.testing.assert_allclose(penalty(0.7), 4 * 0.49 * mean_sq, rtol=1e-12)
    np.testing.assert_allclose(jax.grad(penalty)(0.7), 8 * 0.7 * mean_sq, rtol=1e-12)
    check_grads(penalty, (0.7,), order=1, modes=["rev"])


def test_r1_penalty_averages_over_judged_packs():
  # Two examples judged as one pack: D = <w, x_1> + <w, x_2>; ||grad||^2 = 2 ||w||^2 for
  # the one logit, so the penalty is gamma/2 * 2||w||^2 (not averaged over the 2 images).
  w = jnp.array([1.0, 2.0])
  d = lambda x: ((x @ w).reshape(-1, 2).sum(axis=1), None)
  penalty, logits, _ = losses.r1_penalty(d, jnp.ones((4, 2)), gamma=1.0)
  assert logits.shape == (2,)
  np.testing.assert_allclose(penalty, 0.5 * 2 * 5.0, rtol=1e-6)
