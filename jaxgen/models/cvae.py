"""Conditional VAE (Kingma et al. 2014, "Semi-supervised learning with deep generative
models", the M2 model with its label observed; Sohn et al. 2015).

Both networks also see the label y: q(z|x, y) = N(mean(x, y), diag(exp(logvar(x, y)))) and
p(x|z, y) with the prior p(z) = N(0, I) independent of y. The label enters as a one-hot
vector: concatenated to the encoder's flattened features and to the decoder's code. The
ELBO of log p(x|y) is the VAE's with both networks closed over y, so everything else
(objectives, the importance-weighted NLL, now of -log p(x|y)) is the VAE's own code.

Since y carries the class, z is free to carry what the class does not: the *style*
(slant, thickness, size). :meth:`ConditionalVAE.transfer` encodes a digit with its own
label and decodes its code with another label: the same handwriting, another digit
(the paper's "analogies"; ``--mode explore`` draws them).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxgen.models.inputs import InputError, check_batch
from jaxgen.models.state import Optimization
from jaxgen.models.vae import VAE


class ConditionalVAE(VAE):
  """A VAE conditioned on labels ``0 .. model.num_classes - 1``; batches are
  ``{"x": images, "cond": int labels}`` (see :mod:`jaxgen.models.interface`)."""

  condition = "label"

  def __init__(self, example_shape: tuple[int, ...], model, optimization: Optimization,
               data_range: tuple[float, float] = (0.0, 1.0), nll_chunk: int = 100):
    self.num_classes = int(model.num_classes)
    super().__init__(example_shape, model, optimization, data_range, nll_chunk)

  # ------------------------------------------------------------------ the model
  def one_hot(self, labels: jax.Array, lead: tuple[int, ...] = ()) -> jax.Array:
    """One-hot labels [..., num_classes], broadcast to leading shape ``lead`` if given."""
    y = jax.nn.one_hot(labels, self.num_classes, dtype=jnp.float32)
    return jnp.broadcast_to(y, tuple(lead) + y.shape[-1:]) if lead else y

  def with_label(self, z: jax.Array, labels: jax.Array) -> jax.Array:
    """The decoder's input [z, one_hot(y)]; ``z`` may carry leading sample axes."""
    return jnp.concatenate([z, self.one_hot(labels, z.shape[:-1])], axis=-1)

  def encode(self, params, x: jax.Array, labels: jax.Array | None = None):
    """Mean and log-variance of q(z|x, y), each [batch, latent_dim]."""
    if labels is None:
      raise InputError("ConditionalVAE.encode needs the labels of x: encode(params, x, labels)")
    _check_labels(labels, x, "ConditionalVAE.encode")
    h = self.encoder_outputs(params, x, "ConditionalVAE.encode", cond=self.one_hot(labels))
    mean, logvar = jnp.split(h, 2, axis=-1)
    return mean, logvar

  def bound_inputs(self, params, batch, where: str):
    """``(x, encode, log_likelihood)`` closed over ``params`` and the batch's labels."""
    if not isinstance(batch, dict):
      raise InputError(f"{where}: a conditional VAE takes batches {{'x': images, 'cond': "
                       f"labels}}, got {type(batch).__name__}")
    x, labels = batch["x"], batch["cond"]
    check_batch(x, self.example_shape, where)
    _check_labels(labels, x, where)
    return (x, lambda x_: self.encode(params, x_, labels),
            lambda z, x_: VAE.log_likelihood(self, params, self.with_label(z, labels), x_))

  def decode_labelled(self, params, z: jax.Array, labels: jax.Array) -> jax.Array:
    """E[x|z, y] in [0, 1]."""
    return self.mean_image(params, self.with_label(z, labels))

  def transfer(self, params, x: jax.Array, labels: jax.Array, targets: jax.Array) -> jax.Array:
    """Style transfer: the posterior mean code of ``x`` given its ``labels``, decoded with
    the ``targets`` labels (E[x|z, y'] in [0, 1])."""
    mean, _ = self.encode(params, x, labels)
    return self.decode_labelled(params, mean, targets)

  # ------------------------------------------------------------------ sampling
  def generate(self, state, key: jax.Array, n: int) -> jax.Array:
    """n images E[x|z, y], z ~ N(0, I), labels y = i mod num_classes (a balanced set)."""
    z = jax.random.normal(key, (n, self.latent_dim))
    return self.decode_labelled(state.params, z, jnp.arange(n) % self.num_classes)

  def pictures(self, state, key: jax.Array, batch) -> dict:
    """Test reconstructions (originals above them), and ``styles``: eight prior codes z
    (the columns, one style each) decoded with labels 0, 1, ... (the rows)."""
    x, labels = batch["x"], batch["cond"]
    mean, _ = self.encode(state.params, x, labels)
    pics = self.reconstruction_pictures(state, key, x, self.with_label(mean, labels),
                                        "samples")
    columns = 8
    z = jax.random.normal(jax.random.fold_in(key, 1), (columns, self.latent_dim))
    z = jnp.tile(z, (self.num_classes, 1))
    pics["styles"] = self.decode_labelled(state.params, z,
                                          jnp.repeat(jnp.arange(self.num_classes), columns))
    return pics


def _check_labels(labels, x, where: str) -> None:
  shape = getattr(labels, "shape", None)
  if shape is None or tuple(shape) != tuple(x.shape[:1]):
    raise InputError(f"{where}: expected one integer label per example, shape "
                     f"[{x.shape[0]}], got {None if shape is None else list(shape)}")
  if not jnp.issubdtype(labels.dtype, jnp.integer):
    raise InputError(f"{where}: labels must be integers, got dtype {labels.dtype}; convert "
                     f"with labels.astype(np.int32)")
