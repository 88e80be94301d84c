"""The GAN model: the two-player step (each update touches only its player, G sees the
updated D), the generator's moving average and several discriminator steps."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import losses, models


def _gan(config, shape=(2,)):
  """The GAN of ``config`` for examples of ``shape``: (dim,) are points, (H, W, C) images."""
  return models.build(config, shape)


@pytest.mark.parametrize("net", ["mlp", pytest.param("dcgan", marks=pytest.mark.slow)])  # dcgan: 13 s
def test_each_update_touches_only_its_player(ring_config, net, differ):
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
  chex.assert_trees_all_equal(s1.generator, s0.generator)
  assert differ(s1.discriminator.params, s0.discriminator.params)
  assert differ(s1.discriminator.opt_state, s0.discriminator.opt_state)
  s2, _ = jax.jit(model.generator_step, static_argnums=1)(s1, 8, jax.random.PRNGKey(3))
  chex.assert_trees_all_equal(s2.discriminator, s1.discriminator)
  assert differ(s2.generator.params, s1.generator.params)
  if net == "dcgan":
    assert differ(s2.generator.batch_stats, s1.generator.batch_stats)


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
def test_generator_ema(ring_config, decay, differ):
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
  chex.assert_trees_all_equal(s0.generator_ema, s0.generator.params)
  # by hand: e1 = d p0 + (1 - d) p1, e2 = d e1 + (1 - d) p2
  want = jax.tree.map(lambda a, b, c: decay * (decay * a + (1 - decay) * b) + (1 - decay) * c,
                      s0.generator.params, s1.generator.params, s2.generator.params)
  chex.assert_trees_all_close(s2.generator_ema, want, rtol=1e-6, atol=1e-7)
  # samples come from the averaged params
  want = model.G.apply({"params": s2.generator_ema}, model.noise(key, 5))
  np.testing.assert_array_equal(model.sample(s2, key, 5), want)
  assert differ(s2.generator_ema, s2.generator.params)


def test_d_steps(ring_config):
  ring_config.gan.d_steps = 3
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  s1, _ = model.train_step(s0, jnp.ones((8, 2)), jax.random.PRNGKey(2))
  adam_count = jax.tree.leaves(s1.discriminator.opt_state[0].count)[0]
  assert int(adam_count) == 3
  assert int(jax.tree.leaves(s1.generator.opt_state[0].count)[0]) == 1


# --------------------------------------------------------------------------- behaviour
# Losses are written here by hand in the naive log-sigmoid forms, independent of the
# softplus forms of losses.py; one_adam_update reads back the gradient each player used.

def _separable(key, n=64):
  """Real points around (4, 4), far from what an untrained generator outputs (near 0)."""
  return 4.0 + 0.3 * jax.random.normal(key, (n, 2))


def _d(model, params, x):
  return jax.nn.sigmoid(model.D.apply({"params": params}, x))


@pytest.mark.parametrize("real_label", [1.0, 0.9])
def test_discriminator_loss_and_gradient_by_hand(ring_config, one_adam_update, real_label):
  c = ring_config
  c.gan.real_label = real_label
  c.gan.d_optimizer.learning_rate, c.gan.d_optimizer.b1, c.gan.d_optimizer.b2 = 3e-3, 0.3, 0.99
  c.gan.g_optimizer.b1 = 0.6            # other values, so that a swap of the groups shows
  model = _gan(c)
  s0 = model.init(jax.random.PRNGKey(1))
  real = _separable(jax.random.PRNGKey(0), 16)
  key = jax.random.PRNGKey(7)
  s1, m = jax.jit(model.discriminator_step)(s0, real, key)
  fake = model.G.apply({"params": s0.generator.params}, model.noise(key, 16))

  def by_hand(params):      # -E[a log D(x) + (1 - a) log(1 - D(x))] - E log(1 - D(G(z)))
    d_real, d_fake = _d(model, params, real), _d(model, params, fake)
    a = real_label
    return (-jnp.mean(a * jnp.log(d_real) + (1 - a) * jnp.log(1 - d_real))
            - jnp.mean(jnp.log(1 - d_fake)))

  p0 = s0.discriminator.params
  np.testing.assert_allclose(m["d_loss"], by_hand(p0), rtol=1e-5)
  np.testing.assert_allclose(m["d_real"], jnp.mean(_d(model, p0, real)), rtol=1e-5)
  np.testing.assert_allclose(m["d_fake"], jnp.mean(_d(model, p0, fake)), rtol=1e-5)
  grad = one_adam_update(s0.discriminator, s1.discriminator, b1=0.3, lr=3e-3, b2=0.99)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(p0), rtol=2e-4, atol=1e-7)


@pytest.mark.parametrize("kind", ["saturating", "non_saturating", "hinge"])
def test_generator_loss_and_gradient_by_hand(ring_config, one_adam_update, kind):
  c = ring_config
  c.gan.generator_loss = kind
  c.gan.g_optimizer.b1, c.gan.g_optimizer.b2 = 0.6, 0.9   # learning_rate 0: the config's
  model = _gan(c)
  s0 = model.init(jax.random.PRNGKey(1))
  key = jax.random.PRNGKey(8)
  s1, m = jax.jit(model.generator_step, static_argnums=1)(s0, 16, key)
  z = model.noise(key, 16)
  d_params = s0.discriminator.params

  def by_hand(g_params):
    d_fake = _d(model, d_params, model.G.apply({"params": g_params}, z))
    if kind == "saturating":
      return jnp.mean(jnp.log(1 - d_fake))          # E log(1 - D(G(z))), minimized by G
    if kind == "hinge":                               # -E D(G(z)) on the raw score
      return -jnp.mean(model.D.apply({"params": d_params}, model.G.apply({"params": g_params}, z)))
    return -jnp.mean(jnp.log(d_fake))               # -E log D(G(z))

  p0 = s0.generator.params
  np.testing.assert_allclose(m["g_loss"], by_hand(p0), rtol=1e-5)
  grad = one_adam_update(s0.generator, s1.generator, b1=0.6, lr=c.learning_rate, b2=0.9)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(p0), rtol=2e-4, atol=1e-7)


def _train_d(model, state, real, steps=40):
  step = jax.jit(model.discriminator_step)
  for i in range(steps):
    state, _ = step(state, real, jax.random.PRNGKey(100 + i))
  return state


def test_discriminator_steps_separate_real_from_generated(ring_config):
  """With G frozen, a few D updates make D(x) > 0.5 > D(G(z)) on separable data."""
  ring_config.learning_rate, ring_config.lr_schedule = 1e-2, "constant"
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  real = _separable(jax.random.PRNGKey(0))
  fresh_real = _separable(jax.random.PRNGKey(5))
  ev = jax.jit(model.eval_batch)
  before = ev(s0, fresh_real, jax.random.PRNGKey(6))
  gap_before = float(jnp.mean(before["d_real"]) - jnp.mean(before["d_fake"]))
  s1 = _train_d(model, s0, real)
  chex.assert_trees_all_equal(s1.generator, s0.generator)          # G frozen
  after = ev(s1, fresh_real, jax.random.PRNGKey(6))                 # new data, new noise
  assert float(jnp.mean(after["d_real"])) > 0.8 > 0.2 > float(jnp.mean(after["d_fake"]))
  assert float(jnp.mean(after["d_real"]) - jnp.mean(after["d_fake"])) > gap_before + 0.3


@pytest.mark.parametrize("kind", ["saturating", "non_saturating"])
def test_generator_steps_lower_its_loss_against_a_frozen_discriminator(ring_config, kind):
  ring_config.learning_rate, ring_config.lr_schedule = 1e-2, "constant"
  ring_config.gan.generator_loss = kind
  model = _gan(ring_config)
  state = _train_d(model, model.init(jax.random.PRNGKey(1)), _separable(jax.random.PRNGKey(0)))
  d_frozen = state.discriminator
  ev = jax.jit(model.eval_batch)
  real = _separable(jax.random.PRNGKey(5))
  d_fake_before = float(jnp.mean(ev(state, real, jax.random.PRNGKey(6))["d_fake"]))
  step = jax.jit(model.generator_step, static_argnums=1)
  g_losses = []
  for i in range(40):
    state, m = step(state, 64, jax.random.PRNGKey(200 + i))
    g_losses.append(float(m["g_loss"]))
  chex.assert_trees_all_equal(state.discriminator, d_frozen)
  assert g_losses[-1] < g_losses[0] - 0.1, g_losses
  d_fake_after = float(jnp.mean(ev(state, real, jax.random.PRNGKey(6))["d_fake"]))
  assert d_fake_after > d_fake_before + 0.1          # G's samples now fool D more often


def test_d_steps_are_separate_updates_with_fresh_noise(ring_config, differ):
  """d_steps = 2: two discriminator updates, each with its own generator noise, then one
  generator update with a third key — the same as calling the steps by hand."""
  ring_config.gan.d_steps = 2
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  real = _separable(jax.random.PRNGKey(0), 8)
  key = jax.random.PRNGKey(3)
  got, _ = model.train_step(s0, real, key)
  k_d, k_g = jax.random.split(key)
  s = s0
  for i in range(2):
    s, _ = model.discriminator_step(s, real, jax.random.fold_in(k_d, i))
  s, _ = model.generator_step(s, 8, k_g)
  chex.assert_trees_all_close(got.replace(step=s.step), s, rtol=1e-6, atol=1e-7)
  # and the two D updates did not see the same generated batch
  once, _ = model.discriminator_step(s0, real, jax.random.fold_in(k_d, 0))
  reused, _ = model.discriminator_step(once, real, jax.random.fold_in(k_d, 0))
  assert differ(reused.discriminator.params, got.discriminator.params)


def test_eval_batch_scores_test_data_and_fresh_samples(ring_config):
  model = _gan(ring_config)
  s = model.init(jax.random.PRNGKey(1))
  x = _separable(jax.random.PRNGKey(0), 8)
  key = jax.random.PRNGKey(2)
  out = model.eval_batch(s, x, key)
  p = s.discriminator.params
  np.testing.assert_allclose(out["d_real"], _d(model, p, x), rtol=1e-6)
  fake = model.G.apply({"params": s.generator.params}, model.noise(key, 8))
  np.testing.assert_allclose(out["d_fake"], _d(model, p, fake), rtol=1e-6)


@pytest.mark.parametrize("preprocess", ["symmetric", "unit"])
def test_generated_images_are_mapped_to_unit_range(ring_config, preprocess):
  ring_config.dataset.preprocess = ring_config.dataset.eval_preprocess = preprocess
  model = _gan(ring_config, (4, 4, 1))
  s = model.init(jax.random.PRNGKey(1))
  key = jax.random.PRNGKey(2)
  raw = model.sample(s, key, 6)
  out = model.generate(s, key, 6)
  if preprocess == "symmetric":                     # tanh output in [-1, 1]
    assert float(raw.min()) < 0
    np.testing.assert_allclose(out, (raw + 1) / 2, rtol=1e-6)
  else:                                             # sigmoid output, already in [0, 1]
    np.testing.assert_array_equal(out, raw)
  assert 0 <= float(out.min()) and float(out.max()) <= 1


def test_discriminator_schedule_spans_its_d_steps_updates(ring_config, differ):
  """With d_steps = 2 and a decaying schedule, D makes 2 * num_steps updates and its
  learning rate decays over all of them: D still learns in the last training step (a
  schedule over num_steps updates would have reached 0 halfway)."""
  c = ring_config
  c.gan.d_steps, c.num_steps, c.lr_schedule, c.lr_final_fraction = 2, 4, "cosine", 0.0
  model = _gan(c)
  step = jax.jit(model.train_step)
  state = model.init(jax.random.PRNGKey(1))
  real = _separable(jax.random.PRNGKey(0), 16)
  history = []
  for i in range(4):
    state, _ = step(state, real, jax.random.PRNGKey(20 + i))
    history.append(state)
  assert int(jax.tree.leaves(history[-1].discriminator.opt_state)[0]) == 8   # 8 D updates
  for before, after in zip(history[1:-1], history[2:]):    # steps 3 and 4: updates 4..7
    assert differ(after.discriminator.params, before.discriminator.params)


def test_generator_noise_is_standard_normal(ring_config):
  """z ~ N(0, I): moments of 20,000 x 8 draws within 5 standard errors, and fresh per key."""
  ring_config.model.latent_dim = 8
  model = _gan(ring_config)
  z = np.asarray(model.noise(jax.random.PRNGKey(0), 20_000), np.float64)
  assert z.shape == (20_000, 8)
  n = z.size
  assert abs(z.mean()) < 5 / np.sqrt(n)
  assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
  assert abs(np.mean(z ** 4) - 3) < 5 * np.sqrt(96 / n)      # Gaussian tails, not uniform
  assert not np.array_equal(model.noise(jax.random.PRNGKey(1), 5), z[:5])


def test_truncation_shapes_the_samples_and_nothing_in_training(ring_config):
  """gan.truncation = t: samples are G of a standard normal truncated to [-t, t] (the same
  key gives the same draw as jax.random.truncated_normal); the training step is unchanged
  bit for bit; t = 0 samples G of the training noise."""
  ring_config.model.latent_dim = 8
  plain = _gan(ring_config)
  ring_config.gan.truncation = 0.5
  model = _gan(ring_config)
  s = model.init(jax.random.PRNGKey(1))
  key = jax.random.PRNGKey(3)
  z = np.asarray(model.sample_noise(key, 4000))
  assert z.shape == (4000, 8) and np.abs(z).max() <= 0.5
  # truncated to [-0.5, 0.5]: variance 1 - 2 t phi(t) / (2 Phi(t) - 1) = 0.0806, not 1
  assert abs(z.var() - 0.0806) < 0.005
  want = model.G.apply({"params": s.generator.params},
                       jax.random.truncated_normal(key, -0.5, 0.5, (6, 8)))
  np.testing.assert_allclose(model.sample(s, key, 6), want, rtol=1e-6)
  np.testing.assert_allclose(plain.sample(s, key, 6),
                             model.G.apply({"params": s.generator.params}, plain.noise(key, 6)),
                             rtol=1e-6)
  real = _separable(jax.random.PRNGKey(0), 16)
  a, _ = jax.jit(plain.train_step)(s, real, jax.random.PRNGKey(5))
  b, _ = jax.jit(model.train_step)(s, real, jax.random.PRNGKey(5))
  chex.assert_trees_all_equal(a, b)
