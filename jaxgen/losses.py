"""Objectives on top of :mod:`jaxgen.distributions`: ELBO and IWAE bounds, GAN losses.

The latent-variable bounds are written against two callables so that they do not know
about networks:

* ``encode(x) -> (mean, logvar)`` — the Gaussian q(z|x), one row per example;
* ``log_likelihood(z, x) -> log p(x|z)`` — one number per example, broadcasting over a
  leading sample axis of ``z``.

The prior is N(0, I).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from jaxgen import distributions as D

Array = jax.Array
Encode = Callable[[Array], tuple[Array, Array]]
LogLikelihood = Callable[[Array, Array], Array]


class ElboTerms(NamedTuple):
  """Per-example pieces of the ELBO (each of shape ``[batch]``)."""
  elbo: Array            # recon - beta * kl
  recon: Array           # Monte-Carlo estimate of E_q log p(x|z)
  kl: Array              # closed-form KL(q(z|x) || p(z))


def elbo(key: Array, x: Array, encode: Encode, log_likelihood: LogLikelihood,
         num_samples: int = 1, beta: float = 1.0) -> ElboTerms:
  """The (beta-weighted) evidence lower bound with ``num_samples`` Monte-Carlo samples.

  ELBO(x) = E_{q(z|x)}[log p(x|z)] - beta * KL(q(z|x) || N(0, I)); the expectation is
  estimated with ``num_samples`` reparameterized draws, the KL is exact.
  """
  mean, logvar = encode(x)
  z = D.reparameterize(key, mean, logvar, (num_samples,))
  recon = jnp.mean(log_likelihood(z, x), axis=0)
  kl = D.gaussian_kl(mean, logvar)
  return ElboTerms(recon - beta * kl, recon, kl)


def _largest_divisor_at_most(n: int, cap: int) -> int:
  for d in range(min(n, cap), 0, -1):
    if n % d == 0:
      return d
  return 1


def iwae_bound(key: Array, x: Array, encode: Encode, log_likelihood: LogLikelihood,
               num_samples: int, chunk_size: int = 100) -> Array:
  """Importance-weighted bound log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x).

  Returns one value per example. With K = ``num_samples`` it is a lower bound on
  log p(x) that tightens as K grows (Burda et al., 2016) and equals the ELBO at K = 1.
  The K samples are drawn ``chunk_size`` at a time inside ``lax.scan`` with a running
  log-sum-exp, so memory stays bounded whatever K is (``chunk_size`` is lowered to the
  largest divisor of K that does not exceed it).
  """
  mean, logvar = encode(x)
  chunk = _largest_divisor_at_most(num_samples, chunk_size)
  num_chunks = num_samples // chunk

  def body(carry, i):
    running_max, running_sum = carry
    z = D.reparameterize(jax.random.fold_in(key, i), mean, logvar, (chunk,))
    log_w = (log_likelihood(z, x) + D.standard_normal_log_prob(z)
             - D.gaussian_log_prob(z, mean, logvar))                       # [chunk, batch]
    new_max = jnp.maximum(running_max, jnp.max(log_w, axis=0))
    running_sum = (running_sum * jnp.exp(running_max - new_max)
                   + jnp.sum(jnp.exp(log_w - new_max), axis=0))
    return (new_max, running_sum), None

  init = (jnp.full(mean.shape[:-1], -jnp.inf, mean.dtype), jnp.zeros(mean.shape[:-1], mean.dtype))
  (m, s), _ = jax.lax.scan(body, init, jnp.arange(num_chunks))
  return m + jnp.log(s) - jnp.log(float(num_samples))


class IwaeTerms(NamedTuple):
  """Per-example pieces of the importance-weighted bound (each of shape ``[batch]``)."""
  bound: Array           # log (1/K) sum_k w_k: the IWAE bound on log p(x)
  elbo: Array            # recon - kl: the ELBO from the same K samples (as :func:`elbo`)
  recon: Array           # (1/K) sum_k log p(x|z_k)
  kl: Array              # closed-form KL(q(z|x) || p(z))


def iwae_terms(key: Array, x: Array, encode: Encode, log_likelihood: LogLikelihood,
               num_samples: int) -> IwaeTerms:
  """The IWAE bound with K = ``num_samples`` (all K samples at once: the training form) and,
  from the same samples, the ELBO and its reconstruction term, so that training on the
  bound can log what an ELBO-trained model logs. The samples are those of
  ``iwae_bound(key, ..., chunk_size=num_samples)``, so the bounds agree (to rounding: a
  log-sum-exp here, a running one there)."""
  mean, logvar = encode(x)
  z = D.reparameterize(jax.random.fold_in(key, 0), mean, logvar, (num_samples,))
  log_px = log_likelihood(z, x)                                               # [K, batch]
  log_w = log_px + D.standard_normal_log_prob(z) - D.gaussian_log_prob(z, mean, logvar)
  bound = jax.nn.logsumexp(log_w, axis=0) - jnp.log(float(num_samples))
  recon, kl = jnp.mean(log_px, axis=0), D.gaussian_kl(mean, logvar)
  return IwaeTerms(bound, recon - kl, recon, kl)


# ----------------------------------------------------------------------------- GAN losses
# D(x) = sigmoid(logit).  log D = log_sigmoid(l) = -softplus(-l);  log(1 - D) = -softplus(l).

def discriminator_loss(real_logits: Array, fake_logits: Array, real_label: float = 1.0) -> Array:
  """-E log D(x) - E log(1 - D(G(z))), from logits (the standard binary cross-entropy).

  ``real_label`` < 1 is one-sided label smoothing (Salimans et al. 2016, section 3.4): the
  real examples' target becomes ``real_label`` instead of 1, i.e. the real term is
  -E[a log D(x) + (1 - a) log(1 - D(x))]; generated examples keep the target 0.
  """
  real = real_label * jax.nn.softplus(-real_logits) + (1.0 - real_label) * jax.nn.softplus(real_logits)
  return jnp.mean(real) + jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss_saturating(fake_logits: Array) -> Array:
  """E log(1 - D(G(z))): the minimax generator objective, to be *minimized* by G."""
  return -jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss_non_saturating(fake_logits: Array) -> Array:
  """-E log D(G(z)): the non-saturating generator loss, to be minimized by G."""
  return jnp.mean(jax.nn.softplus(-fake_logits))


def generator_loss_hinge(fake_logits: Array) -> Array:
  """-E D(G(z)) on the raw score (the logit): the generator's side of the hinge game
  (Lim & Ye 2017; Miyato et al. 2018, eq. 17), to be minimized by G."""
  return -jnp.mean(fake_logits)


GENERATOR_LOSSES = {
    "saturating": generator_loss_saturating,
    "non_saturating": generator_loss_non_saturating,
    "hinge": generator_loss_hinge,
}


def discriminator_loss_hinge(real_logits: Array, fake_logits: Array) -> Array:
  """E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))) on raw scores: the discriminator's side of
  the hinge game (Lim & Ye 2017; Miyato et al. 2018, eq. 16), to be minimized by D."""
  return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


DISCRIMINATOR_LOSSES = ("cross_entropy", "hinge")


def r1_penalty(discriminator: Callable, real: Array, gamma: float):
  """The R1 gradient penalty on real data (Mescheder et al. 2018, eq. 9):
  gamma/2 * E ||grad_x D(x)||^2, the expectation over the examples D judges.

  ``discriminator(x) -> (logits, aux)`` with one logit per judged example (a pack of
  several images counts as one). The gradient is that of sum(logits) with respect to
  ``real``, from the same forward pass that gives the logits (returned, with ``aux``, so
  that the caller's loss reuses them). Differentiable with respect to whatever
  ``discriminator`` closes over (D's parameters): the penalty's gradient is a
  second derivative. Returns (penalty, logits, aux).
  """
  logits, vjp, aux = jax.vjp(discriminator, real, has_aux=True)
  (grad_x,) = vjp(jnp.ones_like(logits))
  penalty = 0.5 * gamma * jnp.sum(jnp.square(grad_x)) / logits.shape[0]
  return penalty, logits, aux


# ----------------------------------------------------------------------------- conditional GAN
class Pix2PixTerms(NamedTuple):
  """The generator objective of a conditional GAN (scalars)."""
  total: Array           # gan_weight * adversarial + l1_weight * reconstruction: what G minimizes
  adversarial: Array     # the generator loss on D's logits for (input, G(input))
  l1: Array              # E |G(input) - target| (mean over pixels and channels), always logged
  reconstruction: Array  # the reconstruction term G minimizes (l1, or log_mse)


def l1_loss(output: Array, target: Array) -> Array:
  """E |output - target|, the mean absolute error over every element."""
  return jnp.mean(jnp.abs(output - target))


LOG_MSE_EPS = 1e-6    # floor of an image's MSE inside the log (on the [-1, 1] scale: ~66 dB)


def log_mse_loss(output: Array, target: Array, eps: float = LOG_MSE_EPS) -> Array:
  """The mean over the batch (axis 0) of log(MSE_i + eps), MSE_i the mean squared error of
  example i over its other axes: up to the factor -10 / ln 10 and a constant, the mean
  per-image PSNR that super-resolution is judged by. Unlike L1 or the MSE of the whole
  batch, it weighs an error by its size *relative* to the image's total error, so a
  smooth image (bicubic already at 45 dB) counts as much as a textured one."""
  axes = tuple(range(1, output.ndim))
  return jnp.mean(jnp.log(jnp.mean(jnp.square(output - target), axis=axes) + eps))


# pix2pix.recon_loss -> the reconstruction term of the generator
RECONSTRUCTION_LOSSES = {"l1": l1_loss, "log_mse": log_mse_loss}


def pix2pix_generator_loss(fake_logits: Array, output: Array, target: Array, gan_weight: float,
                           l1_weight: float,
                           generator_loss: Callable[[Array], Array] = None,
                           reconstruction: Callable[[Array, Array], Array] = l1_loss
                           ) -> Pix2PixTerms:
  """pix2pix's generator objective (Isola et al. 2017, eq. 4): L_cGAN + lambda * L1.

  ``fake_logits`` are the discriminator's logits (any shape: one per patch for a
  PatchGAN) on the generator's ``output`` shown with its input; ``generator_loss`` maps
  them to the adversarial term (default: the non-saturating -E log D). ``gan_weight`` = 0
  leaves the regression alone ("L1 only"); the adversarial term then contributes nothing,
  not even through its gradient. ``reconstruction`` is the regression term weighted by
  ``l1_weight`` (default L1, pix2pix's; :data:`RECONSTRUCTION_LOSSES`).
  """
  generator_loss = generator_loss or generator_loss_non_saturating
  adversarial = generator_loss(fake_logits)
  l1 = l1_loss(output, target)
  recon = l1 if reconstruction is l1_loss else reconstruction(output, target)
  total = l1_weight * recon + (gan_weight * adversarial if gan_weight else 0.0)
  return Pix2PixTerms(total, adversarial, l1, recon)
