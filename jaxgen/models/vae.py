"""Variational autoencoder (Kingma & Welling, 2014).

q(z|x) = N(mean(x), diag(exp(logvar(x)))) from the encoder; p(z) = N(0, I); p(x|z) a
Bernoulli over pixels (decoder logits) or a Gaussian (decoder means, one learned
log-variance). Training maximizes the ELBO, i.e. minimizes ``train/loss`` = -ELBO.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxgen import distributions as D
from jaxgen import losses
from jaxgen.models.codec import EncoderDecoder
from jaxgen.models.inputs import check_batch
from jaxgen.models.state import Optimization, TrainState

# config.model.objective: what training maximizes
OBJECTIVES = ("elbo", "iwae")


class VAE(EncoderDecoder):
  """A VAE as pure functions of (state, batch, key); see :mod:`jaxgen.models.interface`."""

  has_likelihood = True
  train_metrics = ("loss", "recon", "kl")
  progress_metrics = ("loss",)
  eval_metrics = ("neg_elbo", "recon", "kl")

  def __init__(self, example_shape: tuple[int, ...], model, optimization: Optimization,
               data_range: tuple[float, float] = (0.0, 1.0), nll_chunk: int = 100):
    """Settings: the ``model`` group, ``optimization``, ``data_range`` (see
    :class:`~jaxgen.models.codec.EncoderDecoder`) and ``nll_chunk``, the importance samples
    drawn at a time by :meth:`nll_batch` (``eval.nll_chunk``)."""
    super().__init__(example_shape, 2 * int(model.latent_dim), model, optimization, data_range)
    self.beta = float(model.beta)
    self.num_samples = int(model.num_samples)
    self.objective = model.get("objective", "elbo")
    self.nll_chunk = int(nll_chunk)

  # ------------------------------------------------------------------ parameters
  def init(self, key: jax.Array) -> TrainState:
    params = self.init_params(key)
    if self.likelihood == "gaussian":
      params["decoder_logvar"] = jnp.zeros((), jnp.float32)
    return TrainState.create(params, self.tx)

  # ------------------------------------------------------------------ the model
  def encode(self, params, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean and log-variance of q(z|x), each [batch, latent_dim]."""
    h = self.encoder_outputs(params, x, "VAE.encode")
    mean, logvar = jnp.split(h, 2, axis=-1)
    return mean, logvar

  def log_likelihood(self, params, z: jax.Array, x: jax.Array) -> jax.Array:
    """log p(x|z), one value per example; ``z`` may carry extra leading sample axes."""
    out = self.decode(params, z)
    flat_out = out.reshape(out.shape[:-len(self.example_shape)] + (-1,))
    flat_x = x.reshape(x.shape[0], -1)
    if self.likelihood == "bernoulli":
      return D.bernoulli_log_prob(flat_out, flat_x)
    return D.gaussian_log_prob(flat_x, flat_out, params["decoder_logvar"])

  def bound_inputs(self, params, batch, where: str):
    """``(x, encode, log_likelihood)`` of a batch for :mod:`jaxgen.losses`' bounds:
    ``encode(x) -> (mean, logvar)`` and ``log_likelihood(z, x)`` closed over ``params``
    (a conditional VAE also closes them over the batch's labels)."""
    check_batch(batch, self.example_shape, where)
    return (batch, functools.partial(self.encode, params),
            functools.partial(self.log_likelihood, params))

  def elbo_terms(self, params, batch, key, num_samples=None,
                 where: str = "VAE.elbo_terms") -> losses.ElboTerms:
    """The ELBO's per-example terms (``num_samples`` Monte-Carlo samples, beta-weighted)."""
    x, encode, log_likelihood = self.bound_inputs(params, batch, where)
    return losses.elbo(key, x, encode, log_likelihood,
                       num_samples=num_samples or self.num_samples, beta=self.beta)

  # ------------------------------------------------------------------ training
  def train_step(self, state: TrainState, batch: jax.Array, key: jax.Array):
    """One Adam step on -ELBO (beta-weighted, L Monte-Carlo samples), or with
    ``model.objective='iwae'`` on minus the importance-weighted bound with K =
    ``model.num_samples`` (Burda et al. 2016; ``recon`` and ``kl`` are then the ELBO's
    terms from the same K samples; ``beta`` does not enter the IWAE bound)."""
    def loss_fn(params):
      if self.objective == "iwae":
        t = losses.iwae_terms(key, *self.bound_inputs(params, batch, "VAE.train_step"),
                              self.num_samples)
        return -jnp.mean(t.bound), t
      t = self.elbo_terms(params, batch, key, where="VAE.train_step")
      return -jnp.mean(t.elbo), t

    (loss, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    state = state.apply_gradients(grads, self.tx)
    return state, {"loss": loss, "recon": -jnp.mean(terms.recon), "kl": jnp.mean(terms.kl)}

  # ------------------------------------------------------------------ evaluation
  def eval_batch(self, state: TrainState, x, key: jax.Array) -> dict:
    """Per-example -ELBO (beta = 1, one sample), reconstruction term and KL."""
    t = losses.elbo(key, *self.bound_inputs(state.params, x, "VAE.eval_batch"), num_samples=1)
    return {"neg_elbo": -t.elbo, "recon": -t.recon, "kl": t.kl}

  def nll_batch(self, state: TrainState, x, key: jax.Array, num_samples: int):
    """Per-example importance-weighted estimate of -log p(x) (-log p(x|y) for a conditional
    VAE) with K = ``num_samples``."""
    return -losses.iwae_bound(key, *self.bound_inputs(state.params, x, "VAE.nll_batch"),
                              num_samples=num_samples, chunk_size=self.nll_chunk)

  def pictures(self, state: TrainState, key: jax.Array, x: jax.Array) -> dict:
    """Test reconstructions (originals on odd rows, reconstructions below) and prior samples."""
    check_batch(x, self.example_shape, "VAE.pictures")
    mean, _ = self.encode(state.params, x)
    return self.reconstruction_pictures(state, key, x, mean, "prior_samples")

