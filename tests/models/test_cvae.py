"""The conditional VAE: its ELBO reduces to the VAE's when the label is ignored, the label
enters both networks, style transfer encodes with the source label and decodes with the
target's, samples are class-balanced, the gradient is checked in float64."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxgen import models
from jaxgen.models.inputs import InputError

MNIST = (28, 28, 1)


def _cvae(config, net="mlp"):
  config.model.name = "cvae"
  config.model.net = net
  return models.build(config, MNIST)


def _batch(n=6, seed=1):
  x = (jax.random.uniform(jax.random.PRNGKey(seed), (n,) + MNIST) > 0.6).astype(jnp.float32)
  return {"x": x, "cond": jnp.arange(n, dtype=jnp.int32) % 10}


def _label_weights_zeroed(cvae_params, vae_params, net):
  """The CVAE's params holding the VAE's weights, with zero weights on every one-hot input."""
  enc = jax.tree.map(lambda a: a, vae_params["encoder"])     # copies of the nested dicts
  dec = jax.tree.map(lambda a: a, vae_params["decoder"])
  k = enc["Dense_0"]["kernel"]              # the first dense layer sees [features, one-hot]
  enc["Dense_0"]["kernel"] = jnp.concatenate([k, jnp.zeros((10, k.shape[1]))])
  inner = dec["MLP_0"] if net == "mlp" else dec
  k = inner["Dense_0"]["kernel"]
  inner["Dense_0"]["kernel"] = jnp.concatenate([k, jnp.zeros((10, k.shape[1]))])
  out = {"encoder": enc, "decoder": dec}
  chex.assert_trees_all_equal_shapes(out, cvae_params)
  return out


@pytest.mark.parametrize("net", ["mlp", "conv"])
def test_elbo_reduces_to_the_vaes_when_the_label_is_ignored(vae_config, net, differ):
  vae_config.model.net = net
  vae = models.build(vae_config, MNIST)
  vstate = vae.init(jax.random.PRNGKey(0))
  cvae = _cvae(vae_config, net)
  cstate = cvae.init(jax.random.PRNGKey(0))
  params = _label_weights_zeroed(cstate.params, vstate.params, net)
  batch = _batch()
  key = jax.random.PRNGKey(3)
  want = vae.eval_batch(vstate, batch["x"], key)
  got = cvae.eval_batch(cstate.replace(params=params), batch, key)
  chex.assert_trees_all_close(got, want, rtol=1e-5, atol=1e-4)
  np.testing.assert_allclose(cvae.nll_batch(cstate.replace(params=params), batch, key, 16),
                             vae.nll_batch(vstate, batch["x"], key, 16), rtol=1e-5)
  # with its own (nonzero) label weights the label changes the ELBO
  other = {"x": batch["x"], "cond": (batch["cond"] + 3) % 10}
  assert differ(cvae.eval_batch(cstate, batch, key), cvae.eval_batch(cstate, other, key))


def test_label_enters_encoder_and_decoder(vae_config):
  cvae = _cvae(vae_config)
  state = cvae.init(jax.random.PRNGKey(0))
  batch = _batch()
  m1, _ = cvae.encode(state.params, batch["x"], batch["cond"])
  m2, _ = cvae.encode(state.params, batch["x"], (batch["cond"] + 1) % 10)
  assert not np.allclose(m1, m2)
  z = jnp.zeros((6, 4))
  assert not np.allclose(cvae.decode_labelled(state.params, z, batch["cond"]),
                         cvae.decode_labelled(state.params, z, (batch["cond"] + 1) % 10))
  # the decoder input is [z, one_hot(y)], also under leading sample axes
  zz = jnp.ones((3, 6, 4))
  d = cvae.with_label(zz, batch["cond"])
  chex.assert_shape(d, (3, 6, 14))
  np.testing.assert_array_equal(d[2, :, 4:], jax.nn.one_hot(batch["cond"], 10))


def test_transfer_encodes_with_the_source_label_and_decodes_with_the_target(vae_config):
  cvae = _cvae(vae_config)
  state = cvae.init(jax.random.PRNGKey(0))
  b = _batch()
  src, tgt = b["cond"], (b["cond"] + 4) % 10
  mean, _ = cvae.encode(state.params, b["x"], src)
  want = cvae.decode_labelled(state.params, mean, tgt)
  np.testing.assert_allclose(cvae.transfer(state.params, b["x"], src, tgt), want, rtol=1e-6)
  swapped = cvae.decode_labelled(state.params, cvae.encode(state.params, b["x"], tgt)[0], src)
  assert not np.allclose(cvae.transfer(state.params, b["x"], src, tgt), swapped, atol=1e-4)


def test_samples_are_class_balanced_and_pictures(vae_config):
  cvae = _cvae(vae_config)
  state = cvae.init(jax.random.PRNGKey(0))
  key = jax.random.PRNGKey(4)
  x = cvae.generate(state, key, 20)
  z = jax.random.normal(key, (20, 4))
  np.testing.assert_allclose(x, cvae.decode_labelled(state.params, z, jnp.arange(20) % 10),
                             rtol=1e-6)
  pics = cvae.pictures(state, key, _batch(n=16))
  chex.assert_shape(pics["styles"], (80,) + MNIST)
  chex.assert_shape(pics["reconstructions"], (32,) + MNIST)
  # styles: row = label, column = one prior code
  zs = jax.random.normal(jax.random.fold_in(key, 1), (8, 4))
  np.testing.assert_allclose(pics["styles"][8 * 3 + 5],
                             cvae.decode_labelled(state.params, zs[5:6], jnp.array([3]))[0],
                             rtol=1e-5, atol=1e-6)


def test_cvae_gradient_is_correct_in_float64(vae_config, x64):
  with x64():
    cvae = _cvae(vae_config)
    state = cvae.init(jax.random.PRNGKey(0))
    params = jax.tree.map(lambda a: a.astype(jnp.float64), state.params)
    b = _batch(n=3)
    b = {"x": b["x"].astype(jnp.float64), "cond": b["cond"]}
    key = jax.random.PRNGKey(2)
    enc = params["encoder"]

    def loss(w):
      p = {**params, "encoder": {**enc, "Dense_0": {**enc["Dense_0"], "kernel": w}}}
      return -jnp.mean(cvae.elbo_terms(p, b, key, num_samples=2).elbo)

    check_grads(loss, (enc["Dense_0"]["kernel"],),
                order=1, modes=["rev"], atol=1e-4, rtol=1e-4, eps=1e-5)


def test_bad_inputs_are_one_line_errors(vae_config):
  cvae = _cvae(vae_config)
  state = cvae.init(jax.random.PRNGKey(0))
  b = _batch()
  with pytest.raises(InputError, match="batches"):
    cvae.train_step(state, b["x"], jax.random.PRNGKey(0))
  with pytest.raises(InputError, match="one integer label per example"):
    cvae.train_step(state, {"x": b["x"], "cond": b["cond"][:3]}, jax.random.PRNGKey(0))
  with pytest.raises(InputError, match="integers"):
    cvae.train_step(state, {"x": b["x"], "cond": b["cond"].astype(jnp.float32)},
                    jax.random.PRNGKey(0))
  with pytest.raises(InputError, match="needs the labels"):
    cvae.encode(state.params, b["x"])
