"""Layers with hand-written backward passes, each working around one XLA:CPU behaviour.

jaxgen's networks are built from these instead of ``nn.Dense`` / ``nn.Conv`` /
``nn.ConvTranspose`` (same parameters, names and initializers as Flax's), and each computes
the same values and gradients as autodiff of the plain form, up to float rounding. They
exist because of three things XLA:CPU does with the backward passes autodiff emits:
:class:`Dense` (:func:`add_bias`), because XLA:CPU sums a bias gradient in an order that
depends on the batch shape, so a seed trained under ``jax.vmap`` would differ in the last
bits depending on how many seeds train with it (a matrix product keeps each seed
independent of that number); :class:`Conv` (:func:`conv2d`) and :class:`ConvTranspose`
(:func:`conv_transpose`), because inside ``lax.scan`` XLA:CPU runs the backward
convolutions autodiff emits (a reversed, O-before-I kernel; input-dilated convolutions)
in a slow generic loop, so here both gradients are canonical NHWC/HWIO convolutions or
matrix products; and :func:`minibatch_discrimination` (:func:`minibatch_similarity`),
because XLA:CPU's autodiff of the pairwise L1 similarities (exp/abs reductions over an
[N, N, B] tensor) is slow, so its backward pass is written by hand and reuses the
forward's similarities (and with kernels of one dimension the sums need no pairs at all:
:func:`sorted_similarity`).

The tests that prove each equal to autodiff: ``tests/nets/test_layers.py`` (``Dense`` and
the bias gradient; both convolutions at several strides and paddings against autodiff of
``lax`` and with ``check_grads`` in float64; the similarity's backward pass) and
``tests/train/test_steps.py::test_vmapped_seeds_do_not_depend_on_the_number_of_seeds``.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen import xla_options

Array = jax.Array


@jax.custom_vjp
def add_bias(y: Array, bias: Array) -> Array:
  """``y + bias`` whose bias gradient is a matrix product (ones @ g), not a reduction.

  XLA:CPU emits the plain reduction with a summation order that depends on the batch
  shape, so under ``jax.vmap`` a seed's gradients would depend in the last bits on how many
  seeds train together; a matrix product keeps them independent of that number.
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


def _kernel_grad(x: Array, g: Array, pads, rhs_dilation=(1, 1)) -> Array:
  """Kernel gradient [KH, KW, I, O] of :func:`conv2d` as one canonical convolution: the
  input with batch and channel axes swapped ([I, H, W, N]) convolved with the output
  gradient as the kernel ([OH, OW, N, O]), dilated by the forward convolution's stride."""
  dk = jax.lax.conv_general_dilated(jnp.transpose(x, (3, 1, 2, 0)), jnp.transpose(g, (1, 2, 0, 3)),
                                    (1, 1), pads, rhs_dilation=rhs_dilation,
                                    dimension_numbers=_NHWC)
  return jnp.transpose(dk, (1, 2, 0, 3))


def _input_dilated_conv(g: Array, kernel: Array, strides, pads) -> Array:
  """``lax.conv_general_dilated(g, kernel, (1, 1), pads, lhs_dilation=strides)`` without
  input dilation, which XLA:CPU runs in a slow generic loop.

  Output position p = s t + r (phase r of each axis) only meets the kernel taps
  a = c_r + s m with c_r = (lo - r) mod s, and reads g[t + e_r + m] with
  e_r = (r + c_r - lo) / s: each phase is a stride-1 convolution of the *undilated* g with
  the sub-kernel ``kernel[c_r::s]``, and the s_h x s_w phase outputs interleave into the
  result (a depth-to-space reshape). The dilated form multiplies by the s - 1 zeros between
  input pixels too; this one does s_h x s_w times fewer operations.

  Small inputs (at most 4 x 4 pixels, where most taps of a gathering convolution would read
  padding: the 1 x 1 -> 7 x 7 first layer of a DCGAN generator costs 50x its work that way)
  and few output channels (a generator's last layer to 1 or 3 channels, which XLA:CPU's
  convolution runs slowly) go through :func:`_scatter_conv` instead.
  """
  if g.shape[1] * g.shape[2] <= 16 or 4 * kernel.shape[3] <= kernel.shape[2]:
    return _scatter_conv(g, kernel, strides, pads)
  return _phase_conv(g, kernel, strides, pads)


def _phase_conv(g: Array, kernel: Array, strides, pads) -> Array:
  """:func:`_input_dilated_conv` as s_h x s_w stride-1 convolutions of the undilated input,
  one per output phase, interleaved (see there)."""
  if tuple(strides) == (1, 1):
    return jax.lax.conv_general_dilated(g, kernel, (1, 1), pads, dimension_numbers=_NHWC)
  axes = []                                     # per axis: (output length, phase length, phases)
  for d in range(2):
    size, k, s, (lo, hi) = g.shape[1 + d], kernel.shape[d], strides[d], pads[d]
    out = (size - 1) * s + lo + hi - k + 2
    phases = []
    for r in range(s):
      c = (lo - r) % s
      phases.append((c, -(-(k - c) // s) if k > c else 0, (r + c - lo) // s))  # (c_r, taps, e_r)
    axes.append((out, -(-out // s), phases))
  (out_h, t_h, phases_h), (out_w, t_w, phases_w) = axes
  rows = []
  for c_h, m_h, e_h in phases_h:
    cols = []
    for c_w, m_w, e_w in phases_w:
      if m_h == 0 or m_w == 0:                  # kernel smaller than the stride: no taps
        cols.append(jnp.zeros((g.shape[0], t_h, t_w, kernel.shape[3]), g.dtype))
        continue
      phase_pads = ((-e_h, t_h + m_h - 1 - g.shape[1] + e_h), (-e_w, t_w + m_w - 1 - g.shape[2] + e_w))
      cols.append(jax.lax.conv_general_dilated(g, kernel[c_h::strides[0], c_w::strides[1]], (1, 1),
                                               phase_pads, dimension_numbers=_NHWC))
    rows.append(jnp.stack(cols, axis=3))        # [N, t_h, t_w, s_w, C]
  y = jnp.stack(rows, axis=2)                   # [N, t_h, s_h, t_w, s_w, C]
  y = y.reshape(g.shape[0], t_h * strides[0], t_w * strides[1], kernel.shape[3])
  return y[:, :out_h, :out_w]


def _scatter_conv(g: Array, kernel: Array, strides, pads) -> Array:
  """:func:`_input_dilated_conv` as one matrix product and a col2im: every input pixel
  times every kernel tap (``g @ kernel``, [N, H, W, KH, KW, O]), each product added where the
  tap puts it.

  Along an axis, input pixel h and tap a land on position u = s h + (k - 1 - a) of an
  uncropped canvas of length s (H - 1) + k, and output p is canvas position
  p + k - 1 - lo. Taps with k - 1 - a = s m + r write phase r of the canvas at h + m, so
  each phase is a sum of shifted (padded) products, and the phases interleave into the
  canvas by a reshape. A 1 x 1 input needs no sums: its canvas is the flipped taps.
  """
  n, h, w, i = g.shape
  kh, kw, _, o = kernel.shape
  (sh, sw), zero = strides, jnp.zeros((), g.dtype)
  taps = (g.reshape(-1, i) @ jnp.transpose(kernel, (2, 0, 1, 3)).reshape(i, -1)).reshape(n, h, w, kh, kw, o)
  if h == 1 and w == 1:
    canvas = taps[:, 0, 0, ::-1, ::-1, :]                                    # [N, KH, KW, O]
  else:
    jh, jw = h + -(-kh // sh) - 1, w + -(-kw // sw) - 1                       # phase lengths
    rows = []
    for rh in range(sh):
      row = []
      for rw in range(sw):
        phase = jnp.zeros((n, jh, jw, o), g.dtype)
        for mh in range(-(-(kh - rh) // sh)):
          for mw in range(-(-(kw - rw) // sw)):
            piece = taps[:, :, :, kh - 1 - sh * mh - rh, kw - 1 - sw * mw - rw, :]
            phase = phase + jax.lax.pad(piece, zero, ((0, 0, 0), (mh, jh - h - mh, 0),
                                                      (mw, jw - w - mw, 0), (0, 0, 0)))
        row.append(phase)
      rows.append(jnp.stack(row, axis=3))                                    # [N, jh, jw, sw, O]
    canvas = jnp.stack(rows, axis=2).reshape(n, jh * sh, jw * sw, o)
  crop = [(0, 0, 0)]
  for d in range(2):
    out = (g.shape[1 + d] - 1) * strides[d] + pads[d][0] + pads[d][1] - kernel.shape[d] + 2
    offset = kernel.shape[d] - 1 - pads[d][0]
    crop.append((-offset, out + offset - canvas.shape[1 + d], 0))             # negative: crop
  return jax.lax.pad(canvas, zero, crop + [(0, 0, 0)])


@functools.lru_cache(maxsize=None)
def few_channel_convolutions_are_slow() -> bool:
  """Whether the kernel gradients of few-channel convolutions, and of convolutions with a
  small output (at most 16 pixels), go through one matrix product
  (:func:`_patch_kernel_grad`, :func:`_transpose_patch_kernel_grad`) instead of XLA's
  convolution form: on CPUs without AVX-512, where XLA:CPU's convolution with 1 to 16
  input or up to 64 output channels was measured 1.6–9× slower than the matrix product (an
  AMD EPYC with AVX2), and on other backends (unmeasured there: as before). With AVX-512
  (an AMD EPYC, family 25, model 17) the convolution form was as fast or faster on every
  DCGAN layer measured (2.6× for the 16×16×128 → 32×32×64 transposed layer; 1.7× for the
  8×8×256 → 4×4×512 layer, 1.4× for 7×7×128 → 3×3×256, both small outputs), so there it
  is used throughout (results record, Speed)."""
  return jax.default_backend() != "cpu" or not xla_options.cpu_has_avx512()


def _patch_kernel_grad(x: Array, g: Array, k_shape, strides, pads) -> Array:
  """Kernel gradient of :func:`conv2d` as one matrix product (im2col): the input patch each
  output pixel saw, [N OH OW, KH KW I], transposed times the output gradient [N OH OW, O].

  XLA:CPU runs the convolution form (:func:`_kernel_grad`) as a convolution whose batch is
  the input's channel count; with 1 to 16 channels (a discriminator's first layer) or a
  tiny output that is slow.
  """
  n, _, _, i = x.shape
  kh, kw = k_shape[:2]
  (sh, sw), (_, oh, ow, o) = strides, g.shape
  xp = jax.lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), pads[0] + (0,), pads[1] + (0,), (0, 0, 0)))
  cols = [jax.lax.slice(xp, (0, a, b, 0), (n, a + sh * (oh - 1) + 1, b + sw * (ow - 1) + 1, i),
                        (1, sh, sw, 1)) for a in range(kh) for b in range(kw)]
  patches = jnp.stack(cols, axis=3).reshape(n * oh * ow, kh * kw * i)
  return (patches.T @ g.reshape(-1, o)).reshape(kh, kw, i, o)


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
  Same values as autodiff (tests/nets/test_layers.py).
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
  few_or_small = x.shape[3] <= 16 or g.shape[1] * g.shape[2] <= 16   # channels in, output
  if few_or_small and few_channel_convolutions_are_slow():
    dk = _patch_kernel_grad(x, g, kernel.shape, strides, pads)
  else:
    dk = _kernel_grad(x, g, dk_pads, rhs_dilation=strides)
  return _input_dilated_conv(g, _rotated(kernel), strides, dx_pads), dk


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
  return _input_dilated_conv(x, kernel, strides, _transpose_pads(kernel.shape, strides, padding))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_transpose(x: Array, kernel: Array, strides: tuple[int, int], padding) -> Array:
  """``lax.conv_transpose`` (NHWC, HWIO, ``transpose_kernel=False``) with a hand-written
  backward pass.

  The forward pass convolves the stride-dilated input with the kernel. Autodiff's backward
  convolutions run in a slow generic loop on XLA:CPU (see :func:`conv2d`); here both
  gradients are canonical convolutions: the input gradient is a strided convolution of the
  output gradient with the kernel rotated by 180 degrees (I and O swapped), the kernel
  gradient a convolution of the output gradient with the input as a stride-dilated kernel
  (:func:`_transpose_kernel_grad`: no input dilation, which XLA:CPU runs in a slow loop).
  Same values as autodiff (tests/nets/test_layers.py).
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
  if kernel.shape[3] <= 64 and few_channel_convolutions_are_slow():   # one matrix product
    return dx, _transpose_patch_kernel_grad(x, g, kernel.shape, strides, pads)
  return dx, _transpose_kernel_grad(x, g, kernel.shape, strides, pads)


def _transpose_kernel_grad(x: Array, g: Array, k_shape, strides, pads) -> Array:
  """Kernel gradient [KH, KW, I, O] of :func:`conv_transpose` without input dilation.

  With y[p] = sum_a xd[p + a - lo] k[a] over the stride-dilated input xd, the gradient is
  dk[a] = sum_h x[h] g[s h + lo - a]: a convolution of the output gradient (batch and channel
  axes swapped, [O, OH, OW, N]) with the *input* as a stride-dilated kernel ([H, W, N, I]),
  flipped in space. XLA:CPU runs input-dilated (``lhs_dilation``) convolutions in a slow
  generic loop; this kernel-dilated form is a regular convolution.
  """
  conv_pads = []
  for d in range(2):
    k, s, (lo, _), size, out = k_shape[d], strides[d], pads[d], x.shape[1 + d], g.shape[1 + d]
    before = k - 1 - lo                     # may be negative: lax crops then
    conv_pads.append((before, k + (size - 1) * s - out - before))
  dk = jax.lax.conv_general_dilated(jnp.transpose(g, (3, 1, 2, 0)), jnp.transpose(x, (1, 2, 0, 3)),
                                    (1, 1), conv_pads, rhs_dilation=strides,
                                    dimension_numbers=_NHWC)                 # [O, KH, KW, I]
  return jnp.transpose(dk, (1, 2, 3, 0))[::-1, ::-1]


def _transpose_patch_kernel_grad(x: Array, g: Array, k_shape, strides, pads) -> Array:
  """Kernel gradient of :func:`conv_transpose` as one matrix product: dk[a] = sum_h x[h]
  g[s h + lo - a] is the input [N H W, I] transposed times, for every tap a, the output
  gradient pixel that input pixel h fed through it ([N H W, KH KW O], strided slices of the
  zero-padded gradient). With few output channels (a generator's last layers) this beats
  the convolution form of :func:`_transpose_kernel_grad` on XLA:CPU; with many it is no
  faster.
  """
  n, h, w, i = x.shape
  kh, kw = k_shape[:2]
  (sh, sw), o = strides, g.shape[3]
  (lo_h, _), (lo_w, _) = pads
  before_h, before_w = max(0, kh - 1 - lo_h), max(0, kw - 1 - lo_w)
  after_h = max(0, sh * (h - 1) + lo_h + 1 - g.shape[1])
  after_w = max(0, sw * (w - 1) + lo_w + 1 - g.shape[2])
  gp = jnp.pad(g, ((0, 0), (before_h, after_h), (before_w, after_w), (0, 0)))
  cols = []
  for a in range(kh):
    for b in range(kw):
      r, c = lo_h - a + before_h, lo_w - b + before_w
      cols.append(jax.lax.slice(gp, (0, r, c, 0), (n, r + sh * (h - 1) + 1, c + sw * (w - 1) + 1, o),
                                (1, sh, sw, 1)))
  patches = jnp.stack(cols, axis=3).reshape(n * h * w, kh * kw * o)
  return (x.reshape(-1, i).T @ patches).reshape(i, kh, kw, o).transpose(1, 2, 0, 3)


conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class ConvTranspose(Conv):
  """``nn.ConvTranspose`` (same parameters and default inits) on :func:`conv_transpose`."""

  def _op(self, x, kernel, strides, padding):
    return conv_transpose(x, kernel, strides, padding)


def minibatch_similarity(m: Array) -> Array:
  """o_b(i) = sum_{j != i} exp(-||m_{i,b} - m_{j,b}||_1) for m of shape [N, B, C] -> [N, B].

  With C > 1, :func:`pairwise_similarity` (O(N² B) time and memory); with C = 1, where the
  L1 distance is the distance on a line, :func:`sorted_similarity` gives the same sums in
  O(N log N) time and O(N B) memory. Both have hand-written backward passes.
  """
  if m.shape[-1] == 1:
    return sorted_similarity(m[..., 0])
  return pairwise_similarity(m)


@jax.custom_vjp
def pairwise_similarity(m: Array) -> Array:
  """:func:`minibatch_similarity` pair by pair: [N, B, C] -> [N, B].

  The L1 distances are accumulated one kernel dimension c at a time, so no [N, N, B, C]
  tensor is built: memory O(N² B), time O(N² B C). The backward pass is written by hand:
  with w_ijb = c_ijb g_ib (c the pair similarities, g the incoming gradient), dL/dm_ibc =
  -sum_j (w_ijb + w_jib) sign(m_ibc - m_jbc). It reuses the forward's similarities (equal
  to autodiff of the one-line form: tests/nets/test_layers.py).
  """
  return _similarity_fwd(m)[0]


def _similarity_fwd(m):
  dist = 0.0
  for c in range(m.shape[-1]):
    dist = dist + jnp.abs(m[:, None, :, c] - m[None, :, :, c])        # [N, N, B]
  sim = jnp.exp(-dist)
  return jnp.sum(sim, axis=1) - 1.0, (m, sim)                          # drop c_ii = 1


def _similarity_bwd(residuals, g):
  m, sim = residuals
  w = sim * g[:, None, :]
  w = w + jnp.swapaxes(w, 0, 1)                                        # [N, N, B]
  grads = [-jnp.sum(w * jnp.sign(m[:, None, :, c] - m[None, :, :, c]), axis=1)
           for c in range(m.shape[-1])]
  return (jnp.stack(grads, axis=-1),)


pairwise_similarity.defvjp(_similarity_fwd, _similarity_bwd)


def _decayed_sums(decay: Array, u: Array) -> Array:
  """x_0 = 0, x_k = decay_{k-1} (x_{k-1} + u_{k-1}) along axis 0: [N-1, ...] -> [N, ...].

  A linear recurrence, run as a parallel prefix (``lax.associative_scan``, O(log N)
  depth) over the affine maps x -> a x + b, composed as (a1, b1) then (a2, b2) =
  (a1 a2, a2 b1 + b2). Every decay lies in (0, 1] and every term is added with a positive
  weight, so the sums carry no cancellation.
  """
  def compose(first, then):
    return first[0] * then[0], then[0] * first[1] + then[1]
  zero = jnp.zeros((1,) + decay.shape[1:], decay.dtype)
  if decay.shape[0] == 0:                                    # a batch of one
    return zero
  _, x = jax.lax.associative_scan(compose, (decay, decay * u), axis=0)
  return jnp.concatenate([zero, x], axis=0)


def _sorted_parts(v: Array):
  """The values sorted along axis 0 (``order``: where each sorted row came from), the
  decays exp(s_k - s_{k+1}) between neighbours, which neighbours are equal, and for each
  sorted value the sums over the values below it, L_k = sum_{j<k} exp(s_j - s_k), and
  above it, R_k = sum_{j>k} exp(s_k - s_j)."""
  order = jnp.argsort(v, axis=0)
  s = jnp.take_along_axis(v, order, axis=0)
  decay = jnp.exp(s[:-1] - s[1:])
  tied = (s[:-1] == s[1:]).astype(v.dtype)
  ones = jnp.ones_like(decay)
  below, above = _both_ways([decay], [ones], [ones])
  return order, decay, tied, below[0], above[0]


def _both_ways(decays: list[Array], ups: list[Array], downs: list[Array]):
  """:func:`_decayed_sums` of each (decay, weights) pair from below (weights of the rows
  0..N-2) and from above (weights of the rows 1..N-1), all in one prefix scan (one scan
  of many columns costs about what one column does: its cost is the scan's steps)."""
  k = len(decays)
  a = jnp.stack(decays + [d[::-1] for d in decays], axis=-1)
  u = jnp.stack(ups + [w[::-1] for w in downs], axis=-1)
  x = _decayed_sums(a, u)
  return ([x[..., i] for i in range(k)], [x[::-1, ..., k + i] for i in range(k)])


def _unsorted(x: Array, order: Array) -> Array:
  """The rows of ``x`` (in sorted order) put back where ``order`` says they came from."""
  cols = jnp.broadcast_to(jnp.arange(x.shape[1]), x.shape)
  return jnp.zeros_like(x).at[order, cols].set(x, unique_indices=True)


@jax.custom_vjp
def sorted_similarity(v: Array) -> Array:
  """o_b(i) = sum_{j != i} exp(-|v_{i,b} - v_{j,b}|) for v of shape [N, B] (kernels of one
  dimension, C = 1) in O(N log N) time and O(N B) memory instead of O(N² B).

  Sorted along the batch, s_0 <= ... <= s_{N-1}, every pair's distance is a difference:
  o = L + R with L_k = sum_{j<k} exp(s_j - s_k) = exp(s_{k-1} - s_k) (L_{k-1} + 1) and R
  the same from above, two linear recurrences (:func:`_decayed_sums`). The backward pass:
  d loss/dv_k = -g_k (L_k - R_k) - (G^L_k - G^R_k), with G^L_k = sum_{j<k} g_j exp(s_j - s_k)
  and G^R_k likewise, two more recurrences with the upstream gradient as weights. Pairs of
  equal values, where |.| has no derivative, are left out of the backward sums (counted by
  the same recurrences over the equal neighbours), as :func:`pairwise_similarity`'s
  backward pass leaves them out (sign(0) = 0): the same gradient, ties included.
  """
  return _sorted_similarity_fwd(v)[0]


def _sorted_similarity_fwd(v):
  order, decay, tied, below, above = _sorted_parts(v)
  return _unsorted(below + above, order), (order, decay, tied, below, above)


def _sorted_similarity_bwd(residuals, g):
  order, decay, tied, below, above = residuals
  gs = jnp.take_along_axis(g, order, axis=0)                 # upstream gradient, sorted
  ones = jnp.ones_like(tied)
  (g_below, n_below, tg_below), (g_above, n_above, tg_above) = _both_ways(
      [decay, tied, tied], [gs[:-1], ones, gs[:-1]], [gs[1:], ones, gs[1:]])
  # n: equal values below / above; tg: their upstream gradients
  dv = (-gs * ((below - n_below) - (above - n_above))
        - ((g_below - tg_below) - (g_above - tg_above)))
  return (_unsorted(dv, order),)


sorted_similarity.defvjp(_sorted_similarity_fwd, _sorted_similarity_bwd)


def minibatch_discrimination(f: Array, kernel: Array, normalize: bool = False) -> Array:
  """Minibatch discrimination (Salimans et al. 2016, section 3.2), the whole formula.

  For features f [N, A] and a learned tensor T = ``kernel`` [A, B, C]: M_i = f_i T in
  R^{B x C}, c_b(i, j) = exp(-||M_{i,b} - M_{j,b}||_1) and o_b(i) = sum_{j != i} c_b(i, j)
  (:func:`minibatch_similarity`); with ``normalize``, o / (N - 1), the mean similarity
  instead of the sum. Returns concat([f, o]) of shape [N, A + B].
  """
  m = jnp.einsum("na,abc->nbc", f, kernel)                         # [N, B, C]
  o = minibatch_similarity(m)                                      # [N, B]
  if normalize:
    o = o / max(f.shape[0] - 1, 1)
  return jnp.concatenate([f, o], axis=-1)                          # [N, A + B]
