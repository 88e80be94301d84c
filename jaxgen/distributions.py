"""Probability densities and the reparameterization trick: pure math, no networks.

Every function here works on arrays with arbitrary leading (batch) axes and reduces
over the *last* axis only, where it reduces at all. Log-densities are in nats.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

Array = jax.Array

_LOG_2PI = math.log(2.0 * math.pi)


def reparameterize(key: Array, mean: Array, logvar: Array, sample_shape: tuple[int, ...] = ()) -> Array:
  """Draws z ~ N(mean, exp(logvar)) as z = mean + exp(logvar / 2) * eps, eps ~ N(0, I).

  The sample is a differentiable function of ``mean`` and ``logvar`` (the
  reparameterization trick); all randomness comes from ``key``. ``sample_shape`` adds
  leading axes of independent draws: the result has shape ``sample_shape + mean.shape``.
  """
  eps = jax.random.normal(key, tuple(sample_shape) + mean.shape, mean.dtype)
  return mean + jnp.exp(0.5 * logvar) * eps


def gaussian_kl(mean: Array, logvar: Array) -> Array:
  """KL(N(mean, diag(exp(logvar))) || N(0, I)) in closed form, summed over the last axis."""
  return 0.5 * jnp.sum(jnp.exp(logvar) + jnp.square(mean) - 1.0 - logvar, axis=-1)


def gaussian_kl_diag(mean_q: Array, logvar_q: Array, mean_p: Array, logvar_p: Array) -> Array:
  """KL(N(mean_q, diag(exp(logvar_q))) || N(mean_p, diag(exp(logvar_p)))), summed over the last axis."""
  var_ratio = jnp.exp(logvar_q - logvar_p)
  mahalanobis = jnp.square(mean_q - mean_p) * jnp.exp(-logvar_p)
  return 0.5 * jnp.sum(var_ratio + mahalanobis - 1.0 - (logvar_q - logvar_p), axis=-1)


def gaussian_log_prob(x: Array, mean: Array, logvar: Array) -> Array:
  """log N(x; mean, diag(exp(logvar))), summed over the last axis."""
  return -0.5 * jnp.sum(_LOG_2PI + logvar + jnp.square(x - mean) * jnp.exp(-logvar), axis=-1)


def standard_normal_log_prob(x: Array) -> Array:
  """log N(x; 0, I), summed over the last axis."""
  return -0.5 * jnp.sum(_LOG_2PI + jnp.square(x), axis=-1)


def bernoulli_log_prob(logits: Array, x: Array) -> Array:
  """log Bernoulli(x; sigmoid(logits)), summed over the last axis.

  Written as x * logits - softplus(logits), which is exact for x in {0, 1} and is the
  (negative) binary cross-entropy for x in [0, 1]. Never forms log(sigmoid(.)).
  """
  return jnp.sum(x * logits - jax.nn.softplus(logits), axis=-1)
