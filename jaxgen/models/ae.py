"""Deterministic autoencoder: x -> code -> reconstruction.

Trained on the reconstruction loss alone (Bernoulli cross-entropy for data in [0, 1],
squared error for ``likelihood='gaussian'``). Nothing shapes the distribution of codes,
so decoding random codes z ~ N(0, I) gives blurs, not digits: the ``random_codes``
pictures show why a plain autoencoder is not a generative model.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxgen import distributions as D
from jaxgen import nets
from jaxgen.data.preprocess import output_range
from jaxgen.data.checks import check_batch
from jaxgen.models.state import TrainState, guard_nonfinite, learning_rate
from jaxgen.models.vae import interleave_rows


class Autoencoder:
  """A deterministic autoencoder as pure functions; see :mod:`jaxgen.models`."""

  def __init__(self, config, example_shape: tuple[int, ...]):
    m = config.model
    self.example_shape = tuple(example_shape)
    self.latent_dim = int(m.latent_dim)
    self.likelihood = m.likelihood
    self.encoder = nets.make_encoder(m.net, m.hidden, self.latent_dim)
    self.decoder = nets.make_decoder(m.net, m.hidden, self.example_shape)
    self.tx = guard_nonfinite(optax.adam(learning_rate(config.learning_rate, config)), config)
    self.data_range = output_range(config.dataset.eval_preprocess)

  def init(self, key: jax.Array) -> TrainState:
    k_enc, k_dec = jax.random.split(key)
    x = jnp.zeros((1,) + self.example_shape, jnp.float32)
    z = jnp.zeros((1, self.latent_dim), jnp.float32)
    params = {"encoder": self.encoder.init(k_enc, x)["params"],
              "decoder": self.decoder.init(k_dec, z)["params"]}
    return TrainState.create(params, self.tx)

  def encode(self, params, x):
    check_batch(x, self.example_shape, "Autoencoder.encode")
    return self.encoder.apply({"params": params["encoder"]}, x)

  def decode(self, params, z):
    return self.decoder.apply({"params": params["decoder"]}, z)

  def recon_loss(self, params, x) -> jax.Array:
    """Per-example reconstruction loss (nats for the Bernoulli case)."""
    check_batch(x, self.example_shape, "Autoencoder.recon_loss")
    out = self.decode(params, self.encode(params, x))
    flat_out, flat_x = out.reshape(x.shape[0], -1), x.reshape(x.shape[0], -1)
    if self.likelihood == "bernoulli":
      return -D.bernoulli_log_prob(flat_out, flat_x)
    return jnp.sum(jnp.square(flat_out - flat_x), axis=-1)

  def mean_image(self, params, z):
    out = self.decode(params, z)
    if self.likelihood == "bernoulli":
      return jax.nn.sigmoid(out)
    lo, hi = self.data_range
    return jnp.clip((out - lo) / (hi - lo), 0.0, 1.0)

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
    return self.mean_image(state.params, jax.random.normal(key, (n, self.latent_dim)))

  def pictures(self, state: TrainState, key: jax.Array, x: jax.Array) -> dict:
    """Test reconstructions, and decoded random N(0, I) codes."""
    check_batch(x, self.example_shape, "Autoencoder.pictures")
    recon = self.mean_image(state.params, self.encode(state.params, x))
    lo, hi = self.data_range
    return {"reconstructions": interleave_rows((x - lo) / (hi - lo), recon),
            "random_codes": self.generate(state, key, x.shape[0])}
