"""The GAN's stabilizers in the model's steps, each against a loss written by hand: the hinge
game, PacGAN packing, the R1 penalty, differentiable augmentation in both players' updates,
spectral normalization's state; and all of them together over several seeds in one program."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import models
from jaxgen.nets import adversarial as gan_nets
from jaxgen.nets import augment
from jaxgen.train import run as run_lib
from jaxgen.train import steps


def _separable(key, n=16):
  return 4.0 + 0.3 * jax.random.normal(key, (n, 2))


def _d_update(model, s0, real, key):
  return jax.jit(model.discriminator_step)(s0, real, key)


def _set_d_optimizer(c):
  c.gan.d_optimizer.learning_rate, c.gan.d_optimizer.b1, c.gan.d_optimizer.b2 = 3e-3, 0.3, 0.99


def _raw(model, params, x):
  return model.D.apply({"params": params}, x)


def test_hinge_discriminator_loss_and_gradient_by_hand(ring_config, one_adam_update):
  c = ring_config
  c.gan.discriminator_loss = "hinge"
  _set_d_optimizer(c)
  model = models.build(c, (2,))
  s0 = model.init(jax.random.PRNGKey(1))
  real, key = _separable(jax.random.PRNGKey(0)), jax.random.PRNGKey(7)
  s1, m = _d_update(model, s0, real, key)
  fake = model.G.apply({"params": s0.generator.params}, model.noise(key, 16))

  def by_hand(params):        # E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))), raw scores
    return (jnp.mean(jnp.maximum(0.0, 1.0 - _raw(model, params, real)))
            + jnp.mean(jnp.maximum(0.0, 1.0 + _raw(model, params, fake))))

  p0 = s0.discriminator.params
  np.testing.assert_allclose(m["d_loss"], by_hand(p0), rtol=1e-5)
  grad = one_adam_update(s0.discriminator, s1.discriminator, b1=0.3, lr=3e-3, b2=0.99)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(p0), rtol=2e-4, atol=1e-7)


def _cross_entropy(model, params, real, fake):
  d_real = jax.nn.sigmoid(_raw(model, params, real))
  d_fake = jax.nn.sigmoid(_raw(model, params, fake))
  return -jnp.mean(jnp.log(d_real)) - jnp.mean(jnp.log(1 - d_fake))


def test_r1_penalty_in_the_discriminator_update_by_hand(ring_config, one_adam_update):
  c = ring_config
  c.gan.r1_gamma = 5.0
  _set_d_optimizer(c)
  model = models.build(c, (2,))
  assert "r1" in model.train_metrics
  s0 = model.init(jax.random.PRNGKey(1))
  real, key = _separable(jax.random.PRNGKey(0)), jax.random.PRNGKey(7)
  s1, m = _d_update(model, s0, real, key)
  fake = model.G.apply({"params": s0.generator.params}, model.noise(key, 16))

  def r1(params):             # 5/2 * mean_i ||grad_x D(x_i)||^2, one example at a time
    grads = jax.vmap(jax.grad(lambda x: _raw(model, params, x[None])[0]))(real)
    return 2.5 * jnp.mean(jnp.sum(grads ** 2, axis=1))

  def by_hand(params):
    return _cross_entropy(model, params, real, fake) + r1(params)

  p0 = s0.discriminator.params
  np.testing.assert_allclose(m["r1"], r1(p0), rtol=1e-5)
  assert float(m["r1"]) > 0
  np.testing.assert_allclose(m["d_loss"], _cross_entropy(model, p0, real, fake), rtol=1e-5)
  grad = one_adam_update(s0.discriminator, s1.discriminator, b1=0.3, lr=3e-3, b2=0.99)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(p0), rtol=2e-4, atol=1e-7)


def test_lazy_r1_is_the_scaled_penalty_on_every_kth_step_and_none_between(ring_config):
  """gan.r1_every=3 with gamma 2: steps 0, 3, 6 update D exactly as gamma 6 every step
  would, steps 1, 2 as no penalty; the same per seed when seeds are vmapped (steps 0 and 1
  side by side); the logged r1 is the scaled penalty or 0."""
  def built(gamma, every):
    c = ring_config.copy_and_resolve_references()
    c.gan.r1_gamma, c.gan.r1_every = gamma, every
    return models.build(c, (2,))

  lazy, scaled, plain = built(2.0, 3), built(6.0, 1), built(0.0, 1)
  s0 = lazy.init(jax.random.PRNGKey(1))
  real, key = _separable(jax.random.PRNGKey(0)), jax.random.PRNGKey(7)
  for step, reference in ((0, scaled), (1, plain), (2, plain), (3, scaled), (6, scaled)):
    s = s0.replace(step=jnp.int32(step))
    got, m = _d_update(lazy, s, real, key)
    want, m_want = _d_update(reference, s, real, key)
    chex.assert_trees_all_close(got.discriminator, want.discriminator, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(m["r1"], m_want.get("r1", 0.0), rtol=1e-6)
    assert (float(m["r1"]) > 0) == (step % 3 == 0)
  both = jax.tree.map(lambda a, b: jnp.stack([a, b]), s0, s0.replace(step=jnp.int32(1)))
  got, m = jax.jit(jax.vmap(lazy.discriminator_step, in_axes=(0, None, None)))(both, real, key)
  for i, reference in enumerate((scaled, plain)):
    want, _ = _d_update(reference, s0.replace(step=jnp.int32(i)), real, key)
    chex.assert_trees_all_close(jax.tree.map(lambda a: a[i], got.discriminator),
                                want.discriminator, rtol=1e-5, atol=1e-7)


def _np_pack(x, m):
  """numpy: rows i*m .. i*m + m - 1 side by side."""
  x = np.asarray(x)
  return np.stack([np.concatenate(list(x[i:i + m]), axis=-1) for i in range(0, len(x), m)])


def test_packing_judges_packs_of_real_and_packs_of_generated(ring_config, one_adam_update):
  c = ring_config
  c.gan.pack = 4
  _set_d_optimizer(c)
  model = models.build(c, (2,))
  unpacked = gan_nets.MLPDiscriminator(tuple(c.gan.d_hidden))      # input 8 = 4 x 2
  s0 = model.init(jax.random.PRNGKey(1))
  assert s0.discriminator.params["Dense_0"]["kernel"].shape[0] == 8
  real, key = _separable(jax.random.PRNGKey(0)), jax.random.PRNGKey(7)
  s1, m = _d_update(model, s0, real, key)
  fake = model.G.apply({"params": s0.generator.params}, model.noise(key, 16))

  def by_hand(params):
    d = lambda x: jax.nn.sigmoid(unpacked.apply({"params": params}, _np_pack(x, 4)))
    return -jnp.mean(jnp.log(d(real))) - jnp.mean(jnp.log(1 - d(fake)))

  p0 = s0.discriminator.params
  np.testing.assert_allclose(m["d_loss"], by_hand(p0), rtol=1e-5)
  grad = one_adam_update(s0.discriminator, s1.discriminator, b1=0.3, lr=3e-3, b2=0.99)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(p0), rtol=2e-4, atol=1e-7)
  # G's update: packs of its own samples
  g_key = jax.random.PRNGKey(8)
  _, gm = jax.jit(model.generator_step, static_argnums=1)(s0, 16, g_key)
  z = model.noise(g_key, 16)
  g_fake = np.asarray(model.G.apply({"params": s0.generator.params}, z))
  want = jnp.mean(jax.nn.softplus(-unpacked.apply({"params": p0}, _np_pack(g_fake, 4))))
  np.testing.assert_allclose(gm["g_loss"], want, rtol=1e-5)


def test_eval_gives_every_example_its_packs_score(ring_config):
  ring_config.gan.pack = 2
  model = models.build(ring_config, (2,))
  s = model.init(jax.random.PRNGKey(1))
  x = _separable(jax.random.PRNGKey(0), 7)                 # odd: the last pack is filled up
  out = model.eval_batch(s, x, jax.random.PRNGKey(2))
  assert out["d_real"].shape == (7,)
  padded = np.concatenate([np.asarray(x), np.asarray(x[:1])])
  per_pack = jax.nn.sigmoid(_raw(model, s.discriminator.params, padded))
  np.testing.assert_allclose(out["d_real"], np.repeat(per_pack, 2)[:7], rtol=1e-6)


def _image_config(ring_config, **gan):
  c = ring_config
  c.dataset.preprocess = c.dataset.eval_preprocess = "symmetric"
  for k, v in gan.items():
    c.gan[k] = v
  return c


@pytest.mark.slow  # reason: 9 s, every augmentation compiled
def test_augmentation_reaches_every_image_d_sees(ring_config, one_adam_update):
  c = _image_config(ring_config, augment="color,translation,cutout")
  _set_d_optimizer(c)
  c.gan.g_optimizer.b1 = 0.6
  model = models.build(c, (8, 8, 1))
  kinds = augment.KINDS
  s0 = model.init(jax.random.PRNGKey(1))
  real = jax.random.uniform(jax.random.PRNGKey(0), (16, 8, 8, 1)) * 2 - 1
  key = jax.random.PRNGKey(7)
  s1, m = _d_update(model, s0, real, key)
  fake = model.G.apply({"params": s0.generator.params}, model.noise(key, 16))
  k_aug = jax.random.fold_in(key, 1)
  real_aug = augment.augment(jax.random.fold_in(k_aug, 0), real, kinds)
  fake_aug = augment.augment(jax.random.fold_in(k_aug, 1), fake, kinds)
  assert not np.allclose(real_aug, real)

  def by_hand(params):
    return _cross_entropy(model, params, real_aug, fake_aug)

  p0 = s0.discriminator.params
  np.testing.assert_allclose(m["d_loss"], by_hand(p0), rtol=1e-5)
  grad = one_adam_update(s0.discriminator, s1.discriminator, b1=0.3, lr=3e-3, b2=0.99)
  chex.assert_trees_all_close(grad, jax.grad(by_hand)(p0), rtol=2e-4, atol=1e-7)
  # G's update: D judges augmented samples, and G's gradient passes through the augmentation
  g_key = jax.random.PRNGKey(9)
  s2, gm = jax.jit(model.generator_step, static_argnums=1)(s0, 16, g_key)
  z = model.noise(g_key, 16)

  def g_by_hand(g_params):
    x = augment.augment(jax.random.fold_in(g_key, 1), model.G.apply({"params": g_params}, z), kinds)
    return jnp.mean(jax.nn.softplus(-_raw(model, p0, x)))

  np.testing.assert_allclose(gm["g_loss"], g_by_hand(s0.generator.params), rtol=1e-5)
  g_grad = one_adam_update(s0.generator, s2.generator, b1=0.6, lr=c.learning_rate)
  chex.assert_trees_all_close(g_grad, jax.grad(g_by_hand)(s0.generator.params), rtol=2e-4,
                              atol=1e-7)
  np.testing.assert_allclose(gm["g_grad_norm"], jnp.sqrt(sum(
      jnp.sum(g ** 2) for g in jax.tree.leaves(g_grad))), rtol=1e-4)


def test_spectral_norm_state_lives_in_the_discriminator_state(ring_config):
  ring_config.gan.spectral_norm = True
  model = models.build(ring_config, (2,))
  s0 = model.init(jax.random.PRNGKey(1))
  u0 = {k: v for k, v in jax.tree_util.tree_leaves_with_path(s0.discriminator.batch_stats)}
  assert len(u0) == 2 * 3                                  # u and sigma of 3 Dense kernels
  s1, _ = _d_update(model, s0, _separable(jax.random.PRNGKey(0)), jax.random.PRNGKey(2))
  s2, _ = jax.jit(model.generator_step, static_argnums=1)(s1, 16, jax.random.PRNGKey(3))
  for (path, before), after in zip(jax.tree_util.tree_leaves_with_path(s0.discriminator.batch_stats),
                                   jax.tree.leaves(s1.discriminator.batch_stats)):
    assert not np.array_equal(before, after), path        # one power iteration per D update
  chex.assert_trees_all_equal(s2.discriminator, s1.discriminator)


def _seeds_run(c, length=3, rows=None):
  dataset, model = run_lib.prepare(c)
  keys = steps.seed_keys(c)
  train_x, _ = steps.device_splits(c, dataset, keys[0])
  train_x = train_x if rows is None else train_x[:rows]
  chunk = steps.make_train_chunk(model, c, train_x.shape[0], length)
  run = jax.jit(steps.over_seeds(chunk, c.seed_batching))
  state = steps.init_state(model, keys)
  tk, dk = steps.stack_keys(keys, "train"), steps.stack_keys(keys, "data")
  several, metrics = run(state, train_x, tk, dk, jnp.int32(0))
  one, _ = jax.jit(chunk)(steps.seed_slice(state, c.num_seeds - 1), train_x,
                          keys[-1]["train"], keys[-1]["data"], jnp.int32(0))
  return run, (state, train_x, tk, dk), several, one, metrics


@pytest.mark.slow       # a DCGAN compiled with every stabilizer: about a minute
def test_all_stabilizers_on_a_dcgan_over_several_seeds(ring_config):
  """Every stabilizer on a small DCGAN (with the generator EMA, TTUR and minibatch stddev),
  two seeds in one program (lax.map, the DCGAN default): each seed bit-identical to itself
  trained alone."""
  c = _image_config(ring_config, augment="translation,cutout,color", pack=2, spectral_norm=True,
                    r1_gamma=1.0, discriminator_loss="hinge", generator_loss="hinge",
                    g_ema=0.9, minibatch="stddev", features=4)
  c.gan.g_optimizer.learning_rate, c.gan.d_optimizer.learning_rate = 1e-4, 4e-4   # TTUR
  c.model.net, c.model.latent_dim = "dcgan", 8
  c.dataset.name = "mnist_subset"
  c.batch_size, c.num_seeds = 8, 2
  _, _, several, one, metrics = _seeds_run(c, rows=64)
  chex.assert_trees_all_equal(steps.seed_slice(several, 1), one)
  assert set(metrics) == {"d_loss", "d_real", "d_fake", "r1", "g_loss", "g_grad_norm"}
  chex.assert_tree_all_finite(metrics)


@pytest.mark.slow
def test_stabilizers_over_vmapped_seeds_do_not_depend_on_the_number_of_seeds(ring_config):
  """Packing, spectral norm, R1 and the hinge game on the MLP GAN, three seeds under vmap:
  a seed's result does not depend on how many seeds train with it."""
  c = ring_config
  c.gan.pack, c.gan.spectral_norm, c.gan.r1_gamma = 2, True, 1.0
  c.gan.discriminator_loss = c.gan.generator_loss = "hinge"
  c.seed_batching, c.num_seeds = "vmap", 3
  run, (state, train_x, tk, dk), three, one, _ = _seeds_run(c, length=5)
  two, _ = run(jax.tree.map(lambda a: a[1:], state), train_x, tk[1:], dk[1:], jnp.int32(0))
  chex.assert_trees_all_equal(steps.seed_slice(three, 2), steps.seed_slice(two, 1))
  chex.assert_trees_all_close(steps.seed_slice(three, 2), one, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
def test_the_model_gives_its_discriminator_the_configured_stabilizers(ring_config, net):
  c = _image_config(ring_config, pack=4, spectral_norm=True, features=4)
  c.model.net = net
  model = models.build(c, (8, 8, 1))
  assert (model.D.pack, model.D.spectral_norm) == (4, True)

  def judge(key):                              # traced only (jax.eval_shape): no compile
    s = model.init(key)
    return model._apply(model.D, s.discriminator.params, s.discriminator.batch_stats,
                        jnp.zeros((8, 8, 8, 1)), train=True)[0]

  assert jax.eval_shape(judge, jax.random.PRNGKey(0)).shape == (2,)
