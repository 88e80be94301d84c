"""Encoders and decoders of the autoencoders: shapes by kind, and which images fit.

Shape checks run under ``jax.eval_shape`` (tracing only, nothing compiles)."""
import jax
import jax.numpy as jnp
import pytest

from jaxgen.nets import autoencoders as ae


def _shapes(module, *shape):
  """Abstract (params, output) of init + apply on an input of ``shape``."""
  def run(key, x):
    variables = module.init(key, x)
    return variables["params"], module.apply(variables, x)
  return jax.eval_shape(run, jax.random.key(0), jax.ShapeDtypeStruct(shape, jnp.float32))


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_encoder_and_decoder_shapes(kind):
  enc = ae.make_encoder(kind, (32,), 8)
  dec = ae.make_decoder(kind, (32,), (28, 28, 1))
  _, codes = _shapes(enc, 5, 28, 28, 1)
  assert codes.shape == (5, 8)
  _, images = _shapes(dec, 5, 4)
  assert images.shape == (5, 28, 28, 1)
  _, many = _shapes(dec, 3, 5, 4)                      # extra leading sample axes are kept
  assert many.shape == (3, 5, 28, 28, 1)


def test_mlp_layers_mirror_each_other():
  enc_params, _ = _shapes(ae.make_encoder("mlp", (64, 16), 6), 2, 8, 8, 3)
  dec_params, _ = _shapes(ae.make_decoder("mlp", (64, 16), (8, 8, 3)), 2, 3)
  assert [enc_params[f"Dense_{i}"]["kernel"].shape for i in range(3)] == [
      (192, 64), (64, 16), (16, 6)]
  assert [dec_params["MLP_0"][f"Dense_{i}"]["kernel"].shape for i in range(3)] == [
      (3, 16), (16, 64), (64, 192)]


def test_conv_nets_on_other_image_sizes():
  _, codes = _shapes(ae.ConvEncoder(16, 4), 2, 32, 24, 3)
  assert codes.shape == (2, 4)
  _, images = _shapes(ae.ConvDecoder(16, (32, 24, 3)), 2, 4)
  assert images.shape == (2, 32, 24, 3)


def test_unknown_kind_and_image_size_problems():
  with pytest.raises(ValueError, match="unknown network kind 'transformer'"):
    ae.make_encoder("transformer", (32,), 4)
  with pytest.raises(ValueError, match="unknown network kind"):
    ae.make_decoder("transformer", (32,), (28, 28, 1))
  assert ae.image_size_problem("conv", (28, 28, 1)) is None
  assert ae.image_size_problem("mlp", (2,)) is None and ae.image_size_problem("mlp", (30, 30, 1)) is None
  assert "divisible by 4" in ae.image_size_problem("conv", (30, 28, 1))
  assert "[H, W, C]" in ae.image_size_problem("conv", (2,))
