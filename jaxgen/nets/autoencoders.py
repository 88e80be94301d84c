"""Encoders and decoders of the autoencoders (AE and VAE): MLP and convolutional.

Networks map arrays to arrays and hold no probabilistic meaning: a VAE encoder here is
just a network with ``2 * latent_dim`` outputs that the model splits into (mean, logvar),
and a decoder returns unnormalized outputs (logits or means) in the image's shape.
Images are NHWC.
"""
from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.nets.layers import ConvTranspose, Conv, Dense

Array = jax.Array

NETS = ("mlp", "conv")


def image_size_problem(net: str, example_shape: tuple[int, ...]) -> str | None:
  """Why examples of ``example_shape`` do not fit encoder/decoder ``net`` (None if they do)."""
  if net == "conv":
    if len(example_shape) != 3:
      return f"the conv nets need images [H, W, C], got examples of shape {list(example_shape)}"
    h, w = example_shape[:2]
    if h % 4 or w % 4:
      return f"the conv nets need image sides divisible by 4, got {h}x{w}"
  return None


class MLP(nn.Module):
  """Fully connected net: flattens its input, ``hidden`` ReLU layers, a linear output.

  ``cond`` [N, k] (e.g. a one-hot label of a conditional VAE) is concatenated to the
  flattened input."""
  hidden: Sequence[int]
  out_dim: int

  @nn.compact
  def __call__(self, x: Array, cond: Array | None = None) -> Array:
    x = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
    if cond is not None:
      x = jnp.concatenate([x, cond.astype(x.dtype)], axis=-1)
    for width in self.hidden:
      x = nn.relu(Dense(width)(x))
    return Dense(self.out_dim)(x)


class MLPDecoder(nn.Module):
  """MLP from a code to an output of shape ``out_shape`` per example."""
  hidden: Sequence[int]
  out_shape: tuple[int, ...]

  @nn.compact
  def __call__(self, z: Array) -> Array:
    size = 1
    for s in self.out_shape:
      size *= s
    lead = z.shape[:-1]
    h = z.reshape(-1, z.shape[-1])
    out = MLP(self.hidden, size)(h)
    return out.reshape(lead + tuple(self.out_shape))


class ConvEncoder(nn.Module):
  """Two 4x4 stride-2 ReLU convolutions (32, 64 channels), a dense ReLU layer, a linear output.

  Needs image height and width divisible by 4. ``cond`` [N, k] (e.g. a one-hot label) is
  concatenated to the flattened convolution features, before the dense layer.
  """
  hidden: int
  out_dim: int
  channels: Sequence[int] = (32, 64)

  @nn.compact
  def __call__(self, x: Array, cond: Array | None = None) -> Array:
    for c in self.channels:
      x = nn.relu(Conv(c, (4, 4), strides=(2, 2), padding="SAME")(x))
    x = x.reshape(x.shape[0], -1)
    if cond is not None:
      x = jnp.concatenate([x, cond.astype(x.dtype)], axis=-1)
    x = nn.relu(Dense(self.hidden)(x))
    return Dense(self.out_dim)(x)


class ConvDecoder(nn.Module):
  """Mirror of :class:`ConvEncoder`: dense layers to an (H/4, W/4, 64) map, then two 4x4
  stride-2 transposed convolutions up to ``out_shape`` = (H, W, C)."""
  hidden: int
  out_shape: tuple[int, int, int]
  channels: Sequence[int] = (64, 32)

  @nn.compact
  def __call__(self, z: Array) -> Array:
    h, w, c = self.out_shape
    lead = z.shape[:-1]
    x = z.reshape(-1, z.shape[-1])
    factor = 2 ** len(self.channels)
    x = nn.relu(Dense(self.hidden)(x))
    x = nn.relu(Dense((h // factor) * (w // factor) * self.channels[0])(x))
    x = x.reshape(-1, h // factor, w // factor, self.channels[0])
    for ch in self.channels[1:]:
      x = nn.relu(ConvTranspose(ch, (4, 4), strides=(2, 2), padding="SAME")(x))
    x = ConvTranspose(c, (4, 4), strides=(2, 2), padding="SAME")(x)
    return x.reshape(lead + (h, w, c))


def make_encoder(kind: str, hidden: Sequence[int], out_dim: int) -> nn.Module:
  """Encoder by name: ``mlp`` (hidden = layer widths) or ``conv`` (hidden[0] = dense width)."""
  if kind == "mlp":
    return MLP(tuple(hidden), out_dim)
  if kind == "conv":
    return ConvEncoder(hidden[0], out_dim)
  raise ValueError(f"unknown network kind {kind!r}; use 'mlp' or 'conv'")


def make_decoder(kind: str, hidden: Sequence[int], out_shape: tuple[int, ...]) -> nn.Module:
  """Decoder by name, mirroring :func:`make_encoder`."""
  if kind == "mlp":
    return MLPDecoder(tuple(reversed(hidden)), tuple(out_shape))
  if kind == "conv":
    return ConvDecoder(hidden[0], tuple(out_shape))
  raise ValueError(f"unknown network kind {kind!r}; use 'mlp' or 'conv'")
