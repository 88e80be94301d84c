"""Flax linen networks: encoders, decoders (and, for GANs, generators and discriminators).

Networks map arrays to arrays and hold no probabilistic meaning: a VAE encoder here is
just a network with ``2 * latent_dim`` outputs that the model splits into (mean, logvar),
and a decoder returns unnormalized outputs (logits or means) in the image's shape.
Images are NHWC.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


@jax.custom_vjp
def add_bias(y: Array, bias: Array) -> Array:
  """``y + bias`` whose bias gradient is a matrix product (ones @ g), not a reduction.

  XLA:CPU emits the plain reduction with a summation order that depends on the batch
  shape, so gradients of seeds trained together under ``jax.vmap`` would differ in the
  last bits from single-seed runs; a matrix product keeps them bit-identical.
  """
  return y + bias


def _add_bias_fwd(y, bias):
  return y + bias, None


def _add_bias_bwd(_, g):
  flat = g.reshape(-1, g.shape[-1])
  width = flat.shape[1]
  if width == 1:   # XLA turns a (1, n) @ (n, 1) product back into a reduction: keep it a matrix
    flat = jnp.concatenate([flat, flat], axis=1)
  return g, (jnp.ones((1, flat.shape[0]), g.dtype) @ flat)[0, :width]


add_bias.defvjp(_add_bias_fwd, _add_bias_bwd)


class Dense(nn.Module):
  """``nn.Dense`` (same parameter names and default inits) built on :func:`add_bias`."""
  features: int
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()

  @nn.compact
  def __call__(self, x: Array) -> Array:
    kernel = self.param("kernel", self.kernel_init, (x.shape[-1], self.features))
    bias = self.param("bias", self.bias_init, (self.features,))
    return add_bias(x @ kernel, bias)


_NHWC = ("NHWC", "HWIO", "NHWC")


def _explicit_pads(x_shape, k_shape, strides, padding) -> tuple[tuple[int, int], ...]:
  if isinstance(padding, str):
    return tuple(jax.lax.padtype_to_pads(x_shape[1:3], k_shape[:2], strides, padding))
  return tuple((int(lo), int(hi)) for lo, hi in padding)


def _rotated(kernel: Array) -> Array:
  """The kernel rotated by 180 degrees with I and O swapped: [KH, KW, O, I], canonical."""
  return jnp.transpose(kernel[::-1, ::-1], (0, 1, 3, 2))


def _kernel_grad(x: Array, g: Array, pads, lhs_dilation=(1, 1), rhs_dilation=(1, 1)) -> Array:
  """Kernel gradient [KH, KW, I, O] as one canonical convolution: the input with batch and
  channel axes swapped ([I, H, W, N]) convolved with the output gradient as the kernel
  ([OH, OW, N, O]), dilated as the forward convolution's input or stride requires."""
  dk = jax.lax.conv_general_dilated(jnp.transpose(x, (3, 1, 2, 0)), jnp.transpose(g, (1, 2, 0, 3)),
                                    (1, 1), pads, lhs_dilation=lhs_dilation,
                                    rhs_dilation=rhs_dilation, dimension_numbers=_NHWC)
  return jnp.transpose(dk, (1, 2, 0, 3))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv2d(x: Array, kernel: Array, strides: tuple[int, int], padding) -> Array:
  """A 2-D convolution (NHWC input, HWIO kernel, no dilation) with a hand-written backward.

  Inside ``lax.scan`` (our whole-epoch training loops), XLA:CPU runs the convolutions that
  autodiff emits for the backward pass in a slow generic loop, because their kernels keep
  a non-canonical (reversed, O-before-I) layout there; jitted alone they are canonicalized.
  Here both gradients are written as convolutions in canonical NHWC/HWIO form: the input
  gradient is the kernel rotated by 180 degrees with I and O swapped, applied to the
  stride-dilated output gradient; the kernel gradient is a convolution of the input
  (batch and channel axes swapped) with the output gradient as a stride-dilated kernel.
  Same values as autodiff (tests/test_nets.py); about 10x faster per step in a scan on CPU.
  """
  return jax.lax.conv_general_dilated(x, kernel, strides,
                                      _explicit_pads(x.shape, kernel.shape, strides, padding),
                                      dimension_numbers=_NHWC)


def _conv2d_fwd(x, kernel, strides, padding):
  return conv2d(x, kernel, strides, padding), (x, kernel)


def _conv2d_bwd(strides, padding, residuals, g):
  x, kernel = residuals
  pads = _explicit_pads(x.shape, kernel.shape, strides, padding)
  dx_pads, dk_pads = [], []
  for d in range(2):
    size, k, s, (lo, _), out = x.shape[1 + d], kernel.shape[d], strides[d], pads[d], g.shape[1 + d]
    span = (out - 1) * s + 1                        # the output gradient, stride-dilated
    dx_pads.append((k - 1 - lo, size - span + lo))
    dk_pads.append((lo, k - 1 + span - size - lo))
  dx = jax.lax.conv_general_dilated(g, _rotated(kernel), (1, 1), dx_pads, lhs_dilation=strides,
                                    dimension_numbers=_NHWC)
  return dx, _kernel_grad(x, g, dk_pads, rhs_dilation=strides)


conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)


class Conv(nn.Module):
  """``nn.Conv`` for 2-D NHWC inputs (same parameters and default inits) on :func:`conv2d`."""
  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  padding: Any = "SAME"
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
  bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()
  dtype: Any = None

  @nn.compact
  def __call__(self, x: Array) -> Array:
    kernel = self.param("kernel", self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    dtype = self.dtype or x.dtype
    padding = self.padding if isinstance(self.padding, str) else tuple(map(tuple, self.padding))
    y = self._op(x.astype(dtype), kernel.astype(dtype), tuple(self.strides), padding)
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (self.features,)).astype(dtype)
    return y

  def _op(self, x, kernel, strides, padding):
    return conv2d(x, kernel, strides, padding)


def _transpose_pads(k_shape, strides, padding) -> tuple[tuple[int, int], ...]:
  """Padding of the stride-dilated input, as ``lax.conv_transpose`` reads ``padding``:
  'SAME'/'VALID' name the forward convolution's padding, pairs are used as they are."""
  if not isinstance(padding, str):
    return tuple((int(lo), int(hi)) for lo, hi in padding)
  pads = []
  for k, s in zip(k_shape[:2], strides):
    if padding.upper() == "SAME":
      total, lo = k + s - 2, (k - 1 if s > k - 1 else math.ceil((k + s - 2) / 2))
    elif padding.upper() == "VALID":
      total, lo = k + s - 2 + max(k - s, 0), k - 1
    else:
      raise ValueError(f"unknown padding {padding!r}; use 'SAME', 'VALID' or (low, high) pairs")
    pads.append((lo, total - lo))
  return tuple(pads)


def _conv_transpose(x, kernel, strides, padding):
  return jax.lax.conv_general_dilated(x, kernel, (1, 1), _transpose_pads(kernel.shape, strides, padding),
                                      lhs_dilation=strides, dimension_numbers=_NHWC)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_transpose(x: Array, kernel: Array, strides: tuple[int, int], padding) -> Array:
  """``lax.conv_transpose`` (NHWC, HWIO, ``transpose_kernel=False``) with a hand-written
  backward pass.

  The forward pass convolves the stride-dilated input with the kernel. Autodiff's backward
  convolutions run in a slow generic loop on XLA:CPU (see :func:`conv2d`); here both
  gradients are canonical convolutions: the input gradient is a strided convolution of the
  output gradient with the kernel rotated by 180 degrees (I and O swapped), the kernel
  gradient a convolution of the dilated input (batch and channel axes swapped) with the
  output gradient as the kernel. Same values as autodiff (tests/test_nets.py).
  """
  return _conv_transpose(x, kernel, strides, padding)


def _conv_transpose_fwd(x, kernel, strides, padding):
  return _conv_transpose(x, kernel, strides, padding), (x, kernel)


def _conv_transpose_bwd(strides, padding, residuals, g):
  x, kernel = residuals
  pads = _transpose_pads(kernel.shape, strides, padding)
  dx_pads = []
  for d in range(2):
    size, k, s, (lo, _), out = x.shape[1 + d], kernel.shape[d], strides[d], pads[d], g.shape[1 + d]
    dx_pads.append((k - 1 - lo, (size - 1) * s + lo + 1 - out))
  dx = jax.lax.conv_general_dilated(g, _rotated(kernel), strides, dx_pads,
                                    dimension_numbers=_NHWC)
  return dx, _kernel_grad(x, g, pads, lhs_dilation=strides)


conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class ConvTranspose(Conv):
  """``nn.ConvTranspose`` (same parameters and default inits) on :func:`conv_transpose`."""

  def _op(self, x, kernel, strides, padding):
    return conv_transpose(x, kernel, strides, padding)


class MLP(nn.Module):
  """Fully connected net: flattens its input, ``hidden`` ReLU layers, a linear output."""
  hidden: Sequence[int]
  out_dim: int

  @nn.compact
  def __call__(self, x: Array) -> Array:
    x = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
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

  Needs image height and width divisible by 4.
  """
  hidden: int
  out_dim: int
  channels: Sequence[int] = (32, 64)

  @nn.compact
  def __call__(self, x: Array) -> Array:
    for c in self.channels:
      x = nn.relu(Conv(c, (4, 4), strides=(2, 2), padding="SAME")(x))
    x = x.reshape(x.shape[0], -1)
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
