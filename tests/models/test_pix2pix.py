"""The conditional GAN (pix2pix): each update touches only its player, G's update sees the
updated D, the objective L_cGAN + lambda L1 by hand (with the GAN weight at 0, G's gradient
is the L1 term's and D is not trained), the input resizing, the residual output and the
evaluation outputs."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import losses, models
from jaxgen.config import base_config
from jaxgen.models.inputs import InputError

TARGET = (8, 8, 1)
INPUT = (2, 2, 1)


def _config(**changes):
  c = base_config()
  c.model.name = "pix2pix"
  c.dataset.preprocess = c.dataset.eval_preprocess = "symmetric"
  c.pix2pix.features = 4
  c.pix2pix.max_features = 8
  c.pix2pix.d_features = 4
  c.pix2pix.d_layers = 1
  c.pix2pix.depth = 2
  c.learning_rate = 1e-3
  for k, v in changes.items():
    group, name = k.split(".")
    c[group][name] = v
  return c


def _model(target=TARGET, inputs=INPUT, **changes):
  return models.build(_config(**changes), target, inputs)


def _batch(n=4, target=TARGET, inputs=INPUT, seed=0):
  k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
  return {"x": jax.random.uniform(k1, (n,) + target) * 2 - 1,
          "cond": jax.random.uniform(k2, (n,) + inputs) * 2 - 1}


@pytest.mark.slow  # reason: 10 s, compiles the pix2pix steps
def test_each_update_touches_only_its_player(differ):
  model = _model()
  s0 = model.init(jax.random.PRNGKey(1))
  assert s0.generator.batch_stats and s0.discriminator.batch_stats
  batch = _batch()
  s1, _ = jax.jit(model.discriminator_step)(s0, batch, jax.random.PRNGKey(2))
  chex.assert_trees_all_equal(s1.generator, s0.generator)
  assert differ(s1.discriminator.params, s0.discriminator.params)
  assert differ(s1.discriminator.batch_stats, s0.discriminator.batch_stats)
  s2, _ = jax.jit(model.generator_step)(s1, batch, jax.random.PRNGKey(3))
  chex.assert_trees_all_equal(s2.discriminator, s1.discriminator)
  assert differ(s2.generator.params, s1.generator.params)
  assert differ(s2.generator.batch_stats, s1.generator.batch_stats)


@pytest.mark.slow  # reason: 9 s, compiles the pix2pix steps
def test_generator_update_sees_the_updated_discriminator():
  model = _model()
  s0 = model.init(jax.random.PRNGKey(1))
  batch = _batch()
  key = jax.random.PRNGKey(5)
  s1, metrics = jax.jit(model.train_step)(s0, batch, key)
  _, k_g = jax.random.split(key)
  # G's adversarial term of the step, recomputed against D after (and before) its update
  c = model.model_input(batch["cond"])
  g = s0.generator
  fake, _ = model.G.apply({"params": g.params, "batch_stats": g.batch_stats}, c, train=True,
                          rngs={"dropout": k_g}, mutable=["batch_stats"])

  def g_gan(disc):
    logits, _ = model.D.apply({"params": disc.params, "batch_stats": disc.batch_stats}, c, fake,
                              train=True, mutable=["batch_stats"])
    return losses.generator_loss_non_saturating(logits)

  np.testing.assert_allclose(metrics["g_gan"], g_gan(s1.discriminator), rtol=1e-5)
  assert abs(float(metrics["g_gan"]) - float(g_gan(s0.discriminator))) > 1e-5
  l1 = jnp.mean(jnp.abs(fake - batch["x"]))
  np.testing.assert_allclose(metrics["g_loss"], 100 * l1 + g_gan(s1.discriminator), rtol=1e-5)
  np.testing.assert_allclose(metrics["l1"], l1 / 2, rtol=1e-5)      # logged on the [0, 1] scale
  assert int(s1.step) == 1


def test_generator_loss_by_hand():
  logits = jnp.array([[0.5, -1.0], [2.0, 0.0]])
  out = jnp.array([0.2, -0.4, 0.9])
  target = jnp.array([0.0, 0.1, 1.0])
  t = losses.pix2pix_generator_loss(logits, out, target, gan_weight=0.5, l1_weight=10.0)
  adv = np.mean(np.log1p(np.exp(-np.array([0.5, -1.0, 2.0, 0.0]))))        # -E log D
  l1 = np.mean([0.2, 0.5, 0.1])
  np.testing.assert_allclose(t.adversarial, adv, rtol=1e-6)
  np.testing.assert_allclose(t.l1, l1, rtol=1e-6)
  np.testing.assert_allclose(t.total, 0.5 * adv + 10.0 * l1, rtol=1e-6)
  sat = losses.pix2pix_generator_loss(logits, out, target, 1.0, 0.0,
                                      losses.generator_loss_saturating)
  np.testing.assert_allclose(sat.total, -np.mean(np.log1p(np.exp([0.5, -1.0, 2.0, 0.0]))),
                             rtol=1e-6)


def test_log_mse_reconstruction_by_hand():
  # two images [2, 2, 1]: errors 0.1 everywhere and 0.2 everywhere: MSE 0.01 and 0.04
  out = jnp.zeros((2, 2, 2, 1))
  target = jnp.stack([jnp.full((2, 2, 1), 0.1), jnp.full((2, 2, 1), 0.2)])
  expected = (np.log(0.01 + 1e-6) + np.log(0.04 + 1e-6)) / 2
  np.testing.assert_allclose(losses.log_mse_loss(out, target), expected, rtol=1e-6)
  # per image, not pooled: the pooled MSE's log would be log(0.025)
  assert abs(expected - np.log(0.025)) > 0.1
  logits = jnp.zeros((2, 3))
  t = losses.pix2pix_generator_loss(logits, out, target, 0.5, 10.0,
                                    reconstruction=losses.log_mse_loss)
  np.testing.assert_allclose(t.reconstruction, expected, rtol=1e-6)
  np.testing.assert_allclose(t.l1, 0.15, rtol=1e-6)                 # L1 is still logged
  np.testing.assert_allclose(t.total, 0.5 * np.log(2) + 10.0 * expected, rtol=1e-6)
  # relative errors: halving the error of either image lowers the loss by the same amount
  half_a = target.at[0].set(0.05)
  half_b = target.at[1].set(0.1)
  np.testing.assert_allclose(losses.log_mse_loss(out, half_a, eps=0.0),
                             losses.log_mse_loss(out, half_b, eps=0.0), rtol=1e-6)


def test_without_the_gan_term_the_gradient_is_the_l1_terms(differ):
  """gan_weight = 0: G's gradient equals that of lambda * E|G(c) - y| computed here, and D
  is neither trained nor needed; with the GAN term on, the gradient differs."""
  batch = _batch()
  key = jax.random.PRNGKey(7)
  grads = {}
  for w in (0.0, 1.0):
    model = _model(**{"pix2pix.gan_weight": w, "pix2pix.l1_weight": 3.0})
    state = model.init(jax.random.PRNGKey(1))
    grads[w] = jax.jit(jax.grad(
        lambda p: model.generator_loss_terms(p, state, batch, key)[0].total))(
        state.generator.params)
  model = _model(**{"pix2pix.gan_weight": 0.0, "pix2pix.l1_weight": 3.0})
  state = model.init(jax.random.PRNGKey(1))
  g = state.generator
  c = model.model_input(batch["cond"])

  def l1_term(p):
    fake, _ = model.G.apply({"params": p, "batch_stats": g.batch_stats}, c, train=True,
                            rngs={"dropout": key}, mutable=["batch_stats"])
    return 3.0 * jnp.mean(jnp.abs(fake - batch["x"]))

  chex.assert_trees_all_close(grads[0.0], jax.jit(jax.grad(l1_term))(g.params), rtol=1e-5,
                              atol=1e-8)
  assert differ(grads[0.0], grads[1.0])
  # the L1-only train step leaves D as it was initialized and reports no D metrics
  s1, metrics = jax.jit(model.train_step)(state, batch, jax.random.PRNGKey(2))
  chex.assert_trees_all_equal(s1.discriminator, state.discriminator)
  assert set(metrics) == set(model.train_metrics) == {"l1", "g_loss"}
  assert differ(s1.generator.params, state.generator.params)


@pytest.mark.slow  # reason: 9 s, two pix2pix models
def test_l1_weight_scales_the_l1_gradient():
  batch = _batch()
  key = jax.random.PRNGKey(7)
  out = []
  for lam in (1.0, 4.0):
    model = _model(**{"pix2pix.gan_weight": 0.0, "pix2pix.l1_weight": lam})
    state = model.init(jax.random.PRNGKey(1))
    out.append(jax.grad(lambda p: model.generator_loss_terms(p, state, batch, key)[0].total)(
        state.generator.params))
  chex.assert_trees_all_close(jax.tree.map(lambda a: 4.0 * a, out[0]), out[1], rtol=1e-5)


@pytest.mark.parametrize("method", ["bicubic", "nearest"])
def test_inputs_are_resized_to_the_output_size(method):
  model = _model(**{"pix2pix.upsample": method})
  cond = _batch()["cond"]
  want = jax.image.resize(cond, (4,) + TARGET, method)
  np.testing.assert_allclose(model.model_input(cond), want, rtol=1e-6)
  if method == "nearest":
    np.testing.assert_array_equal(model.model_input(cond), jnp.repeat(jnp.repeat(cond, 4, 1), 4, 2))
  same = _model(inputs=TARGET)
  full = _batch(inputs=TARGET)["cond"]
  assert same.model_input(full) is full


def test_residual_output_starts_from_the_input():
  """With pix2pix.residual, G's output is its (upsampled) input plus the U-Net's linear
  output: with the U-Net's last layer zeroed, a translation is the bicubic upsampling (and
  for a 1-channel input and 3-channel output, the gray image)."""
  for target, inputs in ((TARGET, INPUT), ((8, 8, 3), (8, 8, 1))):
    model = _model(target, inputs, **{"pix2pix.residual": True})
    state = model.init(jax.random.PRNGKey(1))
    params = jax.tree_util.tree_map_with_path(
        lambda path, a: jnp.zeros_like(a) if "up_0" in jax.tree_util.keystr(path) else a,
        state.generator.params)
    state = state.replace(generator=state.generator.replace(params=params))
    cond = _batch(target=target, inputs=inputs)["cond"] * 0.9
    up = model.model_input(cond)
    want = jnp.broadcast_to(up, (4,) + target)
    np.testing.assert_allclose(model.translate(state, cond), jnp.clip((want + 1) / 2, 0, 1), atol=1e-6)
    plain = _model(target, inputs)
    plain_state = plain.init(jax.random.PRNGKey(1)).replace(generator=state.generator)
    assert not np.allclose(plain.translate(plain_state, cond), jnp.clip((want + 1) / 2, 0, 1), atol=1e-3)


def test_translation_is_deterministic_and_in_unit_range():
  model = _model()
  state = model.init(jax.random.PRNGKey(1))
  state, _ = jax.jit(model.train_step)(state, _batch(), jax.random.PRNGKey(2))
  cond = _batch(seed=3)["cond"]
  translate = jax.jit(model.translate)
  a, b = translate(state, cond), translate(state, cond)
  np.testing.assert_array_equal(a, b)
  assert a.shape == (4,) + TARGET and float(a.min()) >= 0 and float(a.max()) <= 1
  out = jax.jit(model.eval_batch)(state, _batch(seed=3), jax.random.PRNGKey(0))
  np.testing.assert_allclose(out["l1"], np.mean(np.abs(2 * np.asarray(a) - 1 - np.asarray(
      _batch(seed=3)["x"])), axis=(1, 2, 3)) / 2, rtol=1e-4, atol=1e-6)
  assert set(out) == set(model.eval_metrics) and out["d_real"].shape == (4,)
  pics = jax.jit(model.pictures)(state, jax.random.PRNGKey(0), _batch(n=16))
  # rows of eight: inputs, outputs, targets
  grid = pics["translations"]
  assert grid.shape == (48,) + TARGET
  np.testing.assert_allclose(grid[8:16], translate(state, _batch(n=16)["cond"])[:8], atol=1e-6)
  np.testing.assert_allclose(grid[16:24], (_batch(n=16)["x"][:8] + 1) / 2, atol=1e-6)


def test_bad_batches_are_one_line_errors():
  model = _model()
  state = model.init(jax.random.PRNGKey(1))
  with pytest.raises(InputError, match="batches"):
    model.train_step(state, _batch()["x"], jax.random.PRNGKey(0))
  bad = {"x": _batch()["x"], "cond": jnp.zeros((4, 3, 3, 1))}
  with pytest.raises(InputError, match=r"expected shape \[batch, 2, 2, 1\]"):
    model.train_step(state, bad, jax.random.PRNGKey(0))
  with pytest.raises(InputError, match="translates input images"):
    model.generate(state, jax.random.PRNGKey(0), 4)
  with pytest.raises(ValueError, match="input_shape"):
    models.build(_config(), TARGET)


def test_discriminator_loss_by_hand():
  """D's loss is the cross-entropy of (input, target) as real and (input, G(input)) as
  generated, both shown with the input; G's output is drawn with the step's key."""
  model = _model(**{"gan.real_label": 0.9})
  s0 = model.init(jax.random.PRNGKey(1))
  batch = _batch()
  key = jax.random.PRNGKey(4)
  _, metrics = jax.jit(model.discriminator_step)(s0, batch, key)
  c = model.model_input(batch["cond"])
  g, d = s0.generator, s0.discriminator
  fake, _ = model.G.apply({"params": g.params, "batch_stats": g.batch_stats}, c, train=True,
                          rngs={"dropout": key}, mutable=["batch_stats"])
  variables = {"params": d.params, "batch_stats": d.batch_stats}
  real_logits, upd = model.D.apply(variables, c, batch["x"], train=True, mutable=["batch_stats"])
  fake_logits, _ = model.D.apply({"params": d.params, **upd}, c, fake, train=True,
                                 mutable=["batch_stats"])
  sp = lambda v: np.log1p(np.exp(np.asarray(v, np.float64)))      # softplus
  want = np.mean(0.9 * sp(-real_logits) + 0.1 * sp(real_logits)) + np.mean(sp(fake_logits))
  np.testing.assert_allclose(metrics["d_loss"], want, rtol=1e-5)
  # shown without the input, D would see something else
  blank, _ = model.D.apply(variables, jnp.zeros_like(c), batch["x"], train=True,
                           mutable=["batch_stats"])
  assert not np.allclose(blank, real_logits)
