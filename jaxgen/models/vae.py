"""Variational autoencoder (Kingma & Welling, 2014).

q(z|x) = N(mean(x), diag(exp(logvar(x)))) from the encoder; p(z) = N(0, I); p(x|z) a
Bernoulli over pixels (decoder logits) or a Gaussian (decoder means, one learned
log-variance). Training maximizes the ELBO, i.e. minimizes ``train/loss`` = -ELBO.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax

from jaxgen import distributions as D
from jaxgen import losses, nets
from jaxgen.data.preprocess import output_range
from jaxgen.data.checks import check_batch
from jaxgen.models.state import TrainState, guard_nonfinite, learning_rate


class VAE:
  """A VAE as pure functions of (state, batch, key); see :mod:`jaxgen.models`."""

  def __init__(self, config, example_shape: tuple[int, ...]):
    m = config.model
    self.example_shape = tuple(example_shape)
    self.latent_dim = int(m.latent_dim)
    self.likelihood = m.likelihood
    self.beta = float(m.beta)
    self.num_samples = int(m.num_samples)
    self.encoder = nets.make_encoder(m.net, m.hidden, 2 * self.latent_dim)
    self.decoder = nets.make_decoder(m.net, m.hidden, self.example_shape)
    self.tx = guard_nonfinite(optax.adam(learning_rate(config.learning_rate, config)), config)
    self.data_range = output_range(config.dataset.eval_preprocess)
    self.nll_chunk = int(config.eval.nll_chunk)

  # ------------------------------------------------------------------ parameters
  def init(self, key: jax.Array) -> TrainState:
    k_enc, k_dec = jax.random.split(key)
    x = jnp.zeros((1,) + self.example_shape, jnp.float32)
    z = jnp.zeros((1, self.latent_dim), jnp.float32)
    params = {"encoder": self.encoder.init(k_enc, x)["params"],
              "decoder": self.decoder.init(k_dec, z)["params"]}
    if self.likelihood == "gaussian":
      params["decoder_logvar"] = jnp.zeros((), jnp.float32)
    return TrainState.create(params, self.tx)

  # ------------------------------------------------------------------ the model
  def encode(self, params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean and log-variance of q(z|x), each [batch, latent_dim]."""
    check_batch(x, self.example_shape, "VAE.encode")
    h = self.encoder.apply({"params": params["encoder"]}, x)
    mean, logvar = jnp.split(h, 2, axis=-1)
    return mean, logvar

  def decode(self, params, z: jax.Array) -> jax.Array:
    """Decoder output (logits or means) shaped [..., *example_shape]."""
    return self.decoder.apply({"params": params["decoder"]}, z)

  def log_likelihood(self, params, z: jax.Array, x: jax.Array) -> jax.Array:
    """log p(x|z), one value per example; ``z`` may carry extra leading sample axes."""
    out = self.decode(params, z)
    flat_out = out.reshape(out.shape[:-len(self.example_shape)] + (-1,))
    flat_x = x.reshape(x.shape[0], -1)
    if self.likelihood == "bernoulli":
      return D.bernoulli_log_prob(flat_out, flat_x)
    return D.gaussian_log_prob(flat_x, flat_out, params["decoder_logvar"])

  def mean_image(self, params, z: jax.Array) -> jax.Array:
    """E[x|z] mapped to [0, 1] for display."""
    out = self.decode(params, z)
    if self.likelihood == "bernoulli":
      return jax.nn.sigmoid(out)
    lo, hi = self.data_range
    return jnp.clip((out - lo) / (hi - lo), 0.0, 1.0)

  def elbo_terms(self, params, x, key, num_samples=None) -> losses.ElboTerms:
    check_batch(x, self.example_shape, "VAE.elbo_terms")
    return losses.elbo(key, x, functools.partial(self.encode, params),
                       functools.partial(self.log_likelihood, params),
                       num_samples=num_samples or self.num_samples, beta=self.beta)

  # ------------------------------------------------------------------ training
  def train_step(self, state: TrainState, batch: jax.Array, key: jax.Array):
    """One Adam step on -ELBO (beta-weighted, L Monte-Carlo samples)."""
    check_batch(batch, self.example_shape, "VAE.train_step")
    def loss_fn(params):
      t = self.elbo_terms(params, batch, key)
      return -jnp.mean(t.elbo), t

    (loss, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(grads, self.tx)
    return state, {"loss": loss, "recon": -jnp.mean(terms.recon), "kl": jnp.mean(terms.kl)}

  # ------------------------------------------------------------------ evaluation
  def eval_batch(self, state: TrainState, x: jax.Array, key: jax.Array) -> dict:
    """Per-example -ELBO (beta = 1, one sample), reconstruction term and KL."""
    check_batch(x, self.example_shape, "VAE.eval_batch")
    t = losses.elbo(key, x, functools.partial(self.encode, state.params),
                    functools.partial(self.log_likelihood, state.params), num_samples=1)
    return {"neg_elbo": -t.elbo, "recon": -t.recon, "kl": t.kl}

  def nll_batch(self, state: TrainState, x: jax.Array, key: jax.Array, num_samples: int):
    """Per-example importance-weighted estimate of -log p(x) with K = ``num_samples``."""
    check_batch(x, self.example_shape, "VAE.nll_batch")
    return -losses.iwae_bound(key, x, functools.partial(self.encode, state.params),
                              functools.partial(self.log_likelihood, state.params),
                              num_samples=num_samples, chunk_size=self.nll_chunk)

  def generate(self, state: TrainState, key: jax.Array, n: int) -> jax.Array:
    """n images E[x|z], z ~ N(0, I), in [0, 1]."""
    z = jax.random.normal(key, (n, self.latent_dim))
    return self.mean_image(state.params, z)

  def pictures(self, state: TrainState, key: jax.Array, x: jax.Array) -> dict:
    """Test reconstructions (originals on odd rows, reconstructions below) and prior samples."""
    check_batch(x, self.example_shape, "VAE.pictures")
    n = x.shape[0]
    mean, _ = self.encode(state.params, x)
    recon = self.mean_image(state.params, mean)
    lo, hi = self.data_range
    return {"reconstructions": interleave_rows((x - lo) / (hi - lo), recon),
            "prior_samples": self.generate(state, key, n)}


def interleave_rows(a: jax.Array, b: jax.Array, per_row: int = 8) -> jax.Array:
  """Orders two image batches so that a grid with ``per_row`` columns shows a row of ``a``
  above the matching row of ``b``."""
  n = (a.shape[0] // per_row) * per_row
  a = a[:n].reshape((-1, per_row) + a.shape[1:])
  b = b[:n].reshape((-1, per_row) + b.shape[1:])
  return jnp.stack([a, b], axis=1).reshape((-1,) + a.shape[2:])
