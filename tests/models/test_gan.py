"""GAN losses against hand-computed values, the two-player step, many seeds at once."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import load_config, run_chunks_compiling_once, x64
from jax.test_util import check_grads

from jaxgen import losses, models, trainer
from jaxgen.data import Dataset

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


def test_loss_gradients_float64():
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


def _gan(config, shape=(2,), kind="points"):
  x = np.zeros((10,) + shape, np.float32 if kind == "points" else np.uint8)
  info = {"modes": np.zeros((1, 2)), "std": 0.1} if kind == "points" else {}
  return models.build(config, Dataset("fake", kind, x, x, info=info))


@pytest.fixture
def ring_config():
  c = load_config("gan_ring")
  c.model.hidden = (16, 16)
  c.gan.d_hidden = (16, 16)
  c.num_seeds = 1
  c.num_steps = 20
  c.log_every = c.eval_every = c.checkpoint_every = 10
  c.eval.num_mode_samples = 200
  c.progress = False
  return c


def _equal(a, b):
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
def test_each_update_touches_only_its_player(ring_config, net):
  c = ring_config
  if net == "dcgan":
    c.model.net = "dcgan"
    c.gan.features = 4
    c.dataset.preprocess = c.dataset.eval_preprocess = "symmetric"
    model = _gan(c, (28, 28, 1), "image")
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


def test_generator_ema_is_checkpointed_and_resumed_exactly(tmp_path, ring_config):
  ring_config.gan.g_ema = 0.9
  ring_config.lr_schedule = "constant"          # so that num_steps may change on resume
  full, _ = trainer.train(ring_config, str(tmp_path / "full"), log=lambda s: None)
  ring_config.num_steps = 10
  trainer.train(ring_config, str(tmp_path / "resumed"), log=lambda s: None)
  ring_config.num_steps = 20
  resumed, _ = trainer.train(ring_config, str(tmp_path / "resumed"), log=lambda s: None)
  assert _equal(full.generator_ema, resumed.generator_ema) and _equal(full, resumed)
  assert not _equal(full.generator_ema, full.generator.params)


def test_d_steps(ring_config):
  ring_config.gan.d_steps = 3
  model = _gan(ring_config)
  s0 = model.init(jax.random.PRNGKey(1))
  s1, _ = model.train_step(s0, jnp.ones((8, 2)), jax.random.PRNGKey(2))
  adam_count = jax.tree.leaves(s1.discriminator.opt_state[0].count)[0]
  assert int(adam_count) == 3
  assert int(jax.tree.leaves(s1.generator.opt_state[0].count)[0]) == 1


def test_seeds_in_one_program_equal_single_seed_runs(tmp_path, ring_config):
  ring_config.num_seeds = 2
  ring_config.seed_batching = "map"
  many, result = trainer.train(ring_config, str(tmp_path / "many"), log=lambda s: None)
  assert result["num_seeds"] == 2 and len(result["per_seed"]) == 2
  assert {"modes", "modes_std", "high_quality", "reverse_kl"} <= set(result)
  for i in (1,):
    ring_config.num_seeds = 1
    ring_config.seed = i
    one, one_result = trainer.train(ring_config, str(tmp_path / f"one{i}"), log=lambda s: None)
    assert _equal(trainer.seed_slice(many, i), one), f"seed {i} differs"
    assert one_result["modes"] == result["per_seed"][i]["modes"]
  assert not _equal(trainer.seed_slice(many, 0).generator.params,
                    trainer.seed_slice(many, 1).generator.params)


def test_vmapped_seeds_do_not_depend_on_the_number_of_seeds(ring_config):
  ring_config.seed_batching = "vmap"
  ring_config.num_seeds = 3
  dataset, model = trainer.prepare(ring_config)
  keys = trainer.seed_keys(ring_config)
  train_x, _ = trainer.device_splits(ring_config, dataset, keys[0])
  run = jax.jit(trainer.over_seeds(trainer.make_train_chunk(model, ring_config, train_x.shape[0], 10),
                                   "vmap"))
  state = trainer.init_state(model, ring_config, keys)
  tk, dk = trainer.stack_keys(keys, "train"), trainer.stack_keys(keys, "data")
  three, m3 = run(state, train_x, tk, dk, jnp.int32(0))
  two, m2 = run(jax.tree.map(lambda a: a[1:], state), train_x, tk[1:], dk[1:], jnp.int32(0))
  assert _equal(trainer.seed_slice(three, 2), trainer.seed_slice(two, 1))
  # and it is the same computation as one seed alone, up to float rounding
  one, m1 = jax.jit(trainer.make_train_chunk(model, ring_config, train_x.shape[0], 10))(
      trainer.seed_slice(state, 2), train_x, keys[2]["train"], keys[2]["data"], jnp.int32(0))
  chex.assert_trees_all_close(trainer.seed_slice(three, 2), one, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(m3["d_loss"][2], m1["d_loss"], rtol=1e-4)


def test_gan_chunk_compiles_once(ring_config):
  state, metrics = run_chunks_compiling_once(ring_config, chunk=5, calls=3)
  assert int(state.step) == 15
  assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake"}
  chex.assert_tree_all_finite(metrics)
