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



# --------------------------------------------------------------------------- behaviour

def _neg_elbo_by_hand(model, params, x, key, num_samples, beta):
  """-mean ELBO written out: L reparameterized draws eps ~ N(0, I) from ``key``, the
  Bernoulli log-likelihood from logits, the closed-form KL to N(0, I)."""
  mean, logvar = model.encode(params, x)
  eps = jax.random.normal(key, (num_samples,) + mean.shape)
  logits = model.decode(params, mean + jnp.exp(0.5 * logvar) * eps)        # [L, B, 28, 28, 1]
  log_px = jnp.sum(x * jnp.log(jax.nn.sigmoid(logits))
                   + (1 - x) * jnp.log(1 - jax.nn.sigmoid(logits)), axis=(2, 3, 4))
  recon = jnp.mean(log_px, axis=0)                                        # over the L draws
  kl = 0.5 * jnp.sum(jnp.exp(logvar) + mean ** 2 - 1.0 - logvar, axis=-1)
  return -jnp.mean(recon - beta * kl), (-jnp.mean(recon), jnp.mean(kl))


def test_train_step_is_the_beta_elbo_with_l_samples(vae_config, one_adam_update):
  """beta and num_samples change the loss and the gradient exactly as the formula says;
  the evaluation's -ELBO stays the beta = 1 bound."""
  vae_config.model.beta, vae_config.model.num_samples = 0.5, 3
  model = models.build(vae_config, MNIST)
  s0 = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (8,) + MNIST) > 0.7).astype(jnp.float32)
  key = jax.random.PRNGKey(2)
  s1, m = jax.jit(model.train_step)(s0, x, key)
  loss = lambda p: _neg_elbo_by_hand(model, p, x, key, 3, 0.5)
  want, (recon, kl) = loss(s0.params)
  np.testing.assert_allclose(m["loss"], want, rtol=1e-5)
  np.testing.assert_allclose([m["recon"], m["kl"]], [recon, kl], rtol=1e-5)
  # beta = 1 would differ by 0.5 KL (0.26 nats here), 40x the tolerance above (rtol 1e-5)
  assert abs(float(m["loss"]) - float(recon + kl)) > 40 * 1e-5 * abs(float(want))
  grad = one_adam_update(s0, s1, b1=0.9, lr=vae_config.learning_rate)
  want_grad = jax.grad(lambda p: loss(p)[0])(s0.params)
  chex.assert_trees_all_close(grad, want_grad, rtol=1e-3, atol=1e-6)
  ev = model.eval_batch(s0, x, key)                                # beta = 1, one sample
  np.testing.assert_allclose(jnp.mean(ev["neg_elbo"]), _neg_elbo_by_hand(model, s0.params, x,
                             key, 1, 1.0)[0], rtol=1e-5)


def test_train_step_is_the_iwae_bound_with_k_samples(vae_config, one_adam_update):
  """objective='iwae' trains on minus the importance-weighted bound with K =
  model.num_samples, written here by hand (log-mean-exp of the K log weights); it is not
  the ELBO of the same samples, which is logged beside it."""
  vae_config.model.objective, vae_config.model.num_samples = "iwae", 5
  model = models.build(vae_config, MNIST)
  s0 = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (8,) + MNIST) > 0.7).astype(jnp.float32)
  key = jax.random.PRNGKey(2)
  s1, m = jax.jit(model.train_step)(s0, x, key)

  def neg_bound(p):
    mean, logvar = model.encode(p, x)
    eps = jax.random.normal(jax.random.fold_in(key, 0), (5,) + mean.shape)
    z = mean + jnp.exp(0.5 * logvar) * eps
    logits = model.decode(p, z)
    log_px = jnp.sum(x * jax.nn.log_sigmoid(logits) + (1 - x) * jax.nn.log_sigmoid(-logits),
                     axis=(2, 3, 4))
    log_pz = -0.5 * jnp.sum(z ** 2 + jnp.log(2 * jnp.pi), -1)
    log_q = -0.5 * jnp.sum(eps ** 2 + logvar + jnp.log(2 * jnp.pi), -1)
    log_w = log_px + log_pz - log_q
    bound = jax.scipy.special.logsumexp(log_w, axis=0) - jnp.log(5.0)
    kl = 0.5 * jnp.sum(jnp.exp(logvar) + mean ** 2 - 1.0 - logvar, axis=-1)
    return -jnp.mean(bound), -jnp.mean(jnp.mean(log_px, 0) - kl)

  want, neg_elbo = neg_bound(s0.params)
  np.testing.assert_allclose(m["loss"], want, rtol=1e-5)
  np.testing.assert_allclose(m["recon"] + m["kl"], neg_elbo, rtol=1e-5)   # logged: the ELBO
  assert float(neg_elbo) - float(want) > 100 * 1e-5 * abs(float(want))   # and it differs
  grad = one_adam_update(s0, s1, b1=0.9, lr=vae_config.learning_rate)
  # The log weights are about -500 nats (784 Bernoulli pixels): float32 rounds them by ~3e-5,
  # and the normalized weights exp(log_w - max) inherit that as a relative error, so two
  # correct computations (the compiled step, this one op by op) differ by up to ~3e-5.
  chex.assert_trees_all_close(grad, jax.grad(lambda p: neg_bound(p)[0])(s0.params),
                              rtol=1e-3, atol=1e-4)


def test_iwae_objective_is_refused_where_it_has_no_meaning(vae_config):
  from jaxgen.config import ConfigError, validate
  vae_config.model.objective = "iwae"
  vae_config.model.beta = 0.5
  with pytest.raises(ConfigError, match="no beta"):
    validate(vae_config)
  vae_config.model.beta = 1.0
  vae_config.model.name = "ae"
  with pytest.raises(ConfigError, match="model.name='vae'"):
    validate(vae_config)


def test_a_step_lowers_the_neg_elbo_of_its_batch(vae_config):
  model = models.build(vae_config, MNIST)
  s0 = model.init(jax.random.PRNGKey(0))
  x = (jax.random.uniform(jax.random.PRNGKey(1), (32,) + MNIST) > 0.7).astype(jnp.float32)
  step = jax.jit(model.train_step)
  state = s0
  for i in range(3):
    state, _ = step(state, x, jax.random.PRNGKey(10 + i))
  # the same draws before and after: only the parameters differ
  before = [float(_neg_elbo_by_hand(model, s0.params, x, jax.random.PRNGKey(k), 4, 1.0)[0])
            for k in range(5)]
  after = [float(_neg_elbo_by_hand(model, state.params, x, jax.random.PRNGKey(k), 4, 1.0)[0])
           for k in range(5)]
  assert all(a < b - 1.0 for a, b in zip(after, before)), (before, after)


def test_gaussian_log_likelihood_uses_the_learned_variance(vae_config):
  from scipy import stats
  vae_config.model.likelihood = "gaussian"
  vae_config.dataset.preprocess = vae_config.dataset.eval_preprocess = "symmetric"
  model = models.build(vae_config, (4, 4, 1))
  params = model.init(jax.random.PRNGKey(0)).params
  params["decoder_logvar"] = jnp.float32(0.7)
  x = jax.random.uniform(jax.random.PRNGKey(1), (3, 4, 4, 1)) * 2 - 1
  z = jax.random.normal(jax.random.PRNGKey(2), (3, 4))
  mean = np.asarray(model.decode(params, z), np.float64).reshape(3, -1)
  want = stats.norm(mean, np.exp(0.35)).logpdf(np.asarray(x, np.float64).reshape(3, -1)).sum(-1)
  np.testing.assert_allclose(model.log_likelihood(params, z, x), want, rtol=1e-5)
  img = model.mean_image(params, z)                       # [-1, 1] means shown in [0, 1]
  np.testing.assert_allclose(img.reshape(3, -1), np.clip((mean + 1) / 2, 0, 1), rtol=1e-5,
                             atol=1e-6)


def test_bernoulli_pictures_are_probabilities(vae_config):
  model = models.build(vae_config, MNIST)
  state = model.init(jax.random.PRNGKey(0))
  key = jax.random.PRNGKey(3)
  z = jax.random.normal(key, (5, 4))                       # generate: z ~ N(0, I) from key
  np.testing.assert_allclose(model.generate(state, key, 5),
                             jax.nn.sigmoid(model.decode(state.params, z)), rtol=1e-6)


@pytest.mark.slow       # a VAE trained 300 steps, then NLL_K at three K: 10 s
def test_trained_vae_nll_sits_between_zero_and_the_neg_elbo(tmp_path, vae_config):
  """On a trained VAE (300 steps) and binary test digits: 0 < NLL_K, NLL_5000-ish bounds
  tighten with K, and 0 <= -ELBO - NLL_500 <= a few nats, each within its Monte-Carlo error.
  (-ELBO: mean of 10 one-sample estimates per example; the gap's standard error is computed
  from the 300 per-example gaps; measured here: gap 4.5 +- 0.3 nats at 300 steps.)"""
  from jaxgen import train
  c = vae_config
  c.num_steps, c.eval.nll_samples = 300, 10
  c.log_every = c.eval_every = c.checkpoint_every = 300
  state, result = train.train(c, str(tmp_path / "run"), log=lambda s: None)
  run = train.build_run(c)
  x, m = run.test_x[:300], run.model
  ev = jax.jit(m.eval_batch)
  neg_elbo = jnp.mean(jnp.stack([ev(state, x, jax.random.PRNGKey(i))["neg_elbo"]
                                 for i in range(10)]), 0)
  nll = {k: jax.jit(lambda s, xb, kk, k=k: m.nll_batch(s, xb, kk, k))(state, x,
                                                                     jax.random.PRNGKey(99))
         for k in (1, 500)}
  assert float(jnp.min(nll[500])) > 0                      # p(x) <= 1 for binary data
  gap = np.asarray(neg_elbo - nll[500], np.float64)
  se = gap.std() / np.sqrt(gap.size)
  assert gap.mean() - 3 * se > 0, (gap.mean(), se)         # the NLL is below the -ELBO ...
  assert gap.mean() + 3 * se < 8.0, (gap.mean(), se)       # ... by a few nats, not by log K
  # K = 1 is the -ELBO again (one draw per example: compared in the mean, within 3 se)
  d1 = np.asarray(nll[1] - neg_elbo, np.float64)
  assert abs(d1.mean()) < 3 * d1.std() / np.sqrt(d1.size) + 1e-3
  # and eval.json's NLL is the same estimator on the whole test split
  assert 0 < result["nll"] < result["neg_elbo"]
