"""Deterministic autoencoder: x -> code -> reconstruction.

Trained on the reconstruction loss alone (Bernoulli cross-entropy for data in [0, 1],
squared error for ``likelihood='gaussian'``). Nothing shapes the distribution of codes,
so decoding random codes z ~ N(0, I) gives blurs, not digits: the ``random_codes``
pictures show why a plain autoencoder is not a generative model.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen import distributions as D
from jaxgen.models.codec import EncoderDecoder
from jaxgen.models.inputs import check_batch
from jaxgen.models.state import Optimization, TrainState


class Autoencoder(EncoderDecoder):
  """A deterministic autoencoder as pure functions; see :mod:`jaxgen.models.interface`."""

  train_metrics = ("loss",)
  progress_metrics = ("loss",)
  eval_metrics = ("recon", "code_norm")

  def __init__(self, example_shape: tuple[int, ...], model, optimization: Optimization,
               data_range: tuple[float, float] = (0.0, 1.0)):
    super().__init__(example_shape, int(model.latent_dim), model, optimization, data_range)

  def encode(self, params, x: jax.Array) -> jax.Array:
    """The codes [batch, latent_dim] of ``x``."""
    return self.encoder_outputs(params, x, "Autoencoder.encode")

  def recon_loss(self, params, x) -> jax.Array:
    """Per-example reconstruction loss (nats for the Bernoulli case)."""
    check_batch(x, self.example_shape, "Autoencoder.recon_loss")
    out = self.decode(params, self.encode(params, x))
    flat_out, flat_x = out.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1)
    if self.likelihood == "bernoulli":
      return -D.bernoulli_log_prob(flat_out, flat_x)
    return jnp.sum(jnp.square(flat_out - flat_x), axis=-1)

  def train_step(self, state: TrainState, batch: jax.Array, key: jax.Array):
    check_batch(batch, self.example_shape, "Autoencoder.train_step")
    del key  # deterministic model
    loss, grads = jax.value_and_grad(lambda p: jnp.mean(self.recon_loss(p, batch)))(state.params)
    return state.apply_gradients(grads, self.tx), {"loss": loss}

  def eval_batch(self, state: TrainState, x: jax.Array, key: jax.Array) -> dict:
    check_batch(x, self.example_shape, "Autoencoder.eval_batch")
    del key
    codes = self.encode(state.params, x)
    return {"recon": self.recon_loss(state.params, x),
            "code_norm": jnp.linalg.norm(codes, axis=-1)}

  def generate(self, state: TrainState, key: jax.Array, n: int) -> jax.Array:
    """Decodes codes drawn from N(0, I) — which is *not* the distribution of the codes."""
    return super().generate(state, key, n)

  def pictures(self, state: TrainState, key: jax.Array, x: jax.Array) -> dict:
    """Test reconstructions, and decoded random N(0, I) codes."""
    check_batch(x, self.example_shape, "Autoencoder.pictures")
    return self.reconstruction_pictures(state, key, x, self.encode(state.params, x),
                                        "random_codes")
