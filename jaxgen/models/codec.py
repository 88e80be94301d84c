"""What the autoencoder and the VAE share: an encoder and a decoder of the same kind, one
Adam optimizer, decoding codes to images, and the reconstruction pictures.

:class:`EncoderDecoder` is the common base of :class:`jaxgen.models.ae.Autoencoder` and
:class:`jaxgen.models.vae.VAE`; they differ in what the encoder's outputs mean (a code,
or the mean and log-variance of q(z|x)) and in the loss.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxgen.models.inputs import check_batch
from jaxgen.models.state import Optimization, TrainState, guard_nonfinite, learning_rate
from jaxgen.nets.autoencoders import make_decoder, make_encoder

LIKELIHOODS = ("bernoulli", "gaussian")


class EncoderDecoder:
  """Encoder ``x -> [N, encoder_outputs]`` and decoder ``z [..., latent_dim] -> [..., *example_shape]``
  (``model.net``: 'mlp' or 'conv'), trained by Adam on ``optimization.learning_rate``.

  Settings: ``model`` (the config's ``model`` group), ``optimization``
  (:class:`~jaxgen.models.state.Optimization`) and ``data_range``, the value range of the
  preprocessed data (:func:`jaxgen.value_range.output_range`)."""

  has_likelihood = False
  condition = "none"

  def __init__(self, example_shape: tuple[int, ...], encoder_outputs: int, model,
               optimization: Optimization, data_range: tuple[float, float] = (0.0, 1.0)):
    m = model
    self.example_shape = tuple(example_shape)
    self.latent_dim = int(m.latent_dim)
    self.likelihood = m.likelihood
    self.encoder = make_encoder(m.net, m.hidden, encoder_outputs)
    self.decoder = make_decoder(m.net, m.hidden, self.example_shape)
    self.tx = guard_nonfinite(optax.adam(learning_rate(optimization.learning_rate,
                                                       optimization)), optimization)
    self.data_range = tuple(data_range)

  # one-hot label width of a label-conditioned model (0: unconditional); a conditional
  # model's encoder sees the one-hot label beside x, its decoder [z, one-hot label]
  num_classes = 0

  def init_params(self, key: jax.Array) -> dict:
    """``{"encoder": ..., "decoder": ...}`` initialized from ``key``."""
    k_enc, k_dec = jax.random.split(key)
    x = jnp.zeros((1,) + self.example_shape, jnp.float32)
    z = jnp.zeros((1, self.latent_dim + self.num_classes), jnp.float32)
    cond = jnp.zeros((1, self.num_classes), jnp.float32) if self.num_classes else None
    return {"encoder": self.encoder.init(k_enc, x, cond)["params"],
            "decoder": self.decoder.init(k_dec, z)["params"]}

  def init(self, key: jax.Array) -> TrainState:
    return TrainState.create(self.init_params(key), self.tx)

  def encoder_outputs(self, params, x: jax.Array, where: str,
                      cond: jax.Array | None = None) -> jax.Array:
    check_batch(x, self.example_shape, where)
    return self.encoder.apply({"params": params["encoder"]}, x, cond)

  def decode(self, params, z: jax.Array) -> jax.Array:
    """Decoder output (logits or means) shaped [..., *example_shape]."""
    return self.decoder.apply({"params": params["decoder"]}, z)

  def mean_image(self, params, z: jax.Array) -> jax.Array:
    """E[x|z] mapped to [0, 1] for display."""
    out = self.decode(params, z)
    if self.likelihood == "bernoulli":
      return jax.nn.sigmoid(out)
    lo, hi = self.data_range
    return jnp.clip((out - lo) / (hi - lo), 0.0, 1.0)

  def generate(self, state: TrainState, key: jax.Array, n: int) -> jax.Array:
    """n images E[x|z], z ~ N(0, I), in [0, 1]."""
    z = jax.random.normal(key, (n, self.latent_dim))
    return self.mean_image(state.params, z)

  def reconstruction_pictures(self, state: TrainState, key: jax.Array, x: jax.Array,
                              codes: jax.Array, samples_name: str) -> dict:
    """Test examples above their reconstructions from ``codes``, and ``generate``'s samples."""
    lo, hi = self.data_range
    recon = self.mean_image(state.params, codes)
    return {"reconstructions": interleave_rows((x - lo) / (hi - lo), recon),
            samples_name: self.generate(state, key, x.shape[0])}


def interleave_rows(a: jax.Array, b: jax.Array, per_row: int = 8) -> jax.Array:
  """Orders two image batches so that a grid with ``per_row`` columns shows a row of ``a``
  above the matching row of ``b``."""
  n = (a.shape[0] // per_row) * per_row
  a = a[:n].reshape((-1, per_row) + a.shape[1:])
  b = b[:n].reshape((-1, per_row) + b.shape[1:])
  return jnp.stack([a, b], axis=1).reshape((-1,) + a.shape[2:])
