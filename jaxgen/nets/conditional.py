"""Flax linen networks of a pix2pix-style conditional GAN (Isola et al. 2017): a U-Net
generator and a PatchGAN discriminator, sized to train on a CPU on 28x28 digits and
32x32 photo patches.

* :class:`UNet` maps a condition image [N, H, W, Cin] (already at the output resolution)
  to an image [N, H, W, out_channels]. Encoder: ``depth`` 4x4 stride-2 convolutions
  (padding 1) with LeakyReLU(0.2); decoder: 4x4 stride-2 transposed convolutions with
  ReLU; the encoder features of every level are concatenated to the decoder features of
  the same resolution (skip connections). Dropout on the innermost decoder blocks (up to
  3) is the generator's source of noise, as in pix2pix: there is no latent input.
* :class:`PatchDiscriminator` is pix2pix's ``NLayerDiscriminator``: it sees the condition
  and an output image concatenated along channels and returns one *logit* per patch,
  [N, h, w] (losses apply log-sigmoid / softplus to them).

Both take ``train`` like :mod:`jaxgen.nets.adversarial`'s networks: with ``norm='batch'``,
training uses batch statistics and needs ``mutable=["batch_stats"]``, evaluation uses
the running averages; with ``train=True`` the U-Net's dropout is on and needs
``rngs={"dropout": key}``. (pix2pix keeps dropout and batch statistics at test time; call
with ``train=True`` and discard the batch-statistics update to do the same.)
``norm='instance'`` normalizes each example's feature maps on their own (per-example
statistics in both modes, with a learned scale and offset; no ``batch_stats``).

Sizes, with padding 1 as in the reference (a 4x4 stride-2 layer maps n -> floor(n / 2), a
4x4 stride-1 layer n -> n - 1):

=========  ===========================  ============================================
input      U-Net depths (bottleneck)    PatchDiscriminator logit map, num_layers 1/2/3
=========  ===========================  ============================================
28 x 28    1, 2 (14x14, 7x7)            12x12 / 5x5 / 1x1
32 x 32    1 .. 5 (16x16 .. 1x1)        14x14 / 6x6 / 2x2
=========  ===========================  ============================================

Receptive fields: a PatchGAN logit sees a square of :func:`patch_receptive_field` pixels,
16, 34, 70 for 1, 2, 3 layers (on 28x28 and 32x32 the 70-pixel square is clipped by the
image). A U-Net output pixel at depth 5 on 32x32 (bottleneck 1x1) depends on every input
pixel. At depth 2 on 28x28 the bottleneck is 7x7 (pix2pix's is 1x1) and an output pixel
sees only an 18x18 window of input pixels (measured with gradients in
tests/nets/test_conditional.py; on 32x32, 6x6 at depth 1 and 30x30 at depth 3): less than
the ~20x20 extent of a digit, so a stroke cannot depend on the far side of the digit. Each of
``bottleneck_blocks`` residual 3x3 convolutions at the bottleneck widens that window by 8
pixels (2 bottleneck pixels of 4 input pixels each): one gives 26x26, two cover 28x28.
"""
from __future__ import annotations

from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.nets.layers import Conv, ConvTranspose
from jaxgen.nets.adversarial import OUTPUTS, _check_choice, _output_activation, dcgan_kernel_init, \
    dcgan_scale_init

Array = jax.Array

NORMS = ("batch", "instance", "none")
UPSAMPLINGS = ("transpose", "resize")
MAX_DROPOUT_BLOCKS = 3               # pix2pix: dropout in the three innermost decoder blocks
_PAD1 = ((1, 1), (1, 1))             # 4x4 stride-2 convolution: n -> n / 2
_UP_PAD = ((2, 2), (2, 2))           # 4x4 stride-2 transposed conv: n -> 2 n (torch's padding 1)


def _norm_layer(kind: str, train: bool, dtype: Any, name: str) -> Callable[[Array], Array] | None:
  """The normalization called ``kind`` (None for 'none'): BatchNorm as in
  :mod:`jaxgen.nets.adversarial` (momentum 0.9, scale ~ N(1, 0.02)) or a per-example InstanceNorm
  with the same learned scale and offset init."""
  _check_choice(kind, NORMS, "norm")
  if kind == "batch":
    return nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                        scale_init=dcgan_scale_init, dtype=dtype, name=name)
  if kind == "instance":
    return nn.InstanceNorm(epsilon=1e-5, scale_init=dcgan_scale_init, dtype=dtype, name=name)
  return None


# --------------------------------------------------------------------------- U-Net


def unet_max_depth(height: int, width: int) -> int:
  """The largest U-Net depth (stride-2 levels) for an H x W input: 2**depth must divide
  both sides (28x28 -> 2, 32x32 -> 5, 27x27 -> 0)."""
  depth = 0
  while height % 2 ** (depth + 1) == 0 and width % 2 ** (depth + 1) == 0:
    depth += 1
  return depth


def unet_size_problem(height: int, width: int, depth: int) -> str | None:
  """Why a depth-``depth`` :class:`UNet` cannot take H x W inputs (None if it can)."""
  if depth < 1:
    return f"UNet depth must be at least 1, got {depth}"
  if height % 2 ** depth == 0 and width % 2 ** depth == 0:
    return None
  fits = unet_max_depth(height, width)
  allowed = f"{height}x{width} allows depth <= {fits}" if fits else \
      f"no depth fits {height}x{width} (odd side)"
  return (f"UNet depth {depth} needs height and width divisible by 2**{depth} = {2 ** depth}; "
          f"{allowed}")


def unet_widths(features: int, depth: int, max_features: int) -> tuple[int, ...]:
  """Channels of the encoder levels 0 .. depth - 1: ``features`` doubling per level, capped
  at ``max_features`` (pix2pix: 64, 128, 256, 512, 512, ...). Decoder level i > 0 outputs
  the channels of encoder level i - 1, to be concatenated with them."""
  return tuple(min(features * 2 ** i, max_features) for i in range(depth))


class ResizeConv(nn.Module):
  """x2 upsampling without checkerboard artifacts: nearest-neighbour resize of [N, H, W, C]
  to [N, 2H, 2W, C], then a 3x3 stride-1 convolution (padding 1) to ``features``."""
  features: int
  use_bias: bool = True
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: Array) -> Array:
    n, h, w, c = x.shape
    x = jax.image.resize(x, (n, 2 * h, 2 * w, c), "nearest")
    return Conv(self.features, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)),
                use_bias=self.use_bias, kernel_init=dcgan_kernel_init, dtype=self.dtype,
                name="conv")(x)


class UNet(nn.Module):
  """pix2pix's U-Net generator: [N, H, W, Cin] -> [N, H, W, out_channels].

  With c_i = min(features 2^i, max_features) and d = ``depth``:

  * encoder: h_0 = down_0(x) (no norm); h_i = norm(down_i(LeakyReLU(h_{i-1}))) for
    0 < i < d - 1; the innermost h_{d-1} = down_{d-1}(LeakyReLU(h_{d-2})) has no norm (as in
    pix2pix, whose innermost map is 1x1, where an instance norm would zero it). down_i is a
    4x4 stride-2 convolution to c_i channels at H / 2^(i+1).
  * bottleneck: ``bottleneck_blocks`` residual 3x3 blocks b <- b + conv(ReLU(b)) (bias, no
    norm); they start near the identity under the N(0, 0.02) init. Zero by default (pix2pix
    has none); each widens the receptive field by 2 bottleneck pixels, i.e. 2^(d+1) input
    pixels (8 at depth 2: see the module docstring).
  * decoder, i = d - 1 .. 1: y_i = concat(h_{i-1}, dropout(norm(up_i(ReLU(y_{i+1}))))) with
    y_d = b, up_i a 4x4 stride-2 transposed convolution to c_{i-1} channels at H / 2^i;
    dropout (rate ``dropout``, the generator's noise) on the min(3, d - 1) innermost ones
    (the paper's CD512 x 3; depth 2 has one, depth 5 three). Output:
    ``output``(up_0(ReLU(y_1))) with ``out_channels`` channels, in float32.

  A convolution has a bias exactly when no norm follows it. Kernels ~ N(0, 0.02) (DCGAN /
  pix2pix init); norm scales ~ N(1, 0.02). As in pix2pix, when the bottleneck is 1x1 (depth
  5 on 32x32) the innermost 4x4 convolution and transposed convolution use only their
  central 2x2 taps (the others meet padding): 1.57M of the 4.17M parameters of
  ``UNet(3, depth=5, features=32)`` never get a gradient. Parameters: 67k for
  ``UNet(1, depth=2, features=32)``. ``upsampling='resize'`` replaces every up_i by a
  nearest-neighbour resize x2 and a 3x3 convolution (Odena et al. 2016, "Deconvolution and
  checkerboard artifacts": a stride-2 transposed convolution gives the even and odd output
  pixels different kernels, so even a constant input map comes out with a period-2
  pattern; after a resize every output pixel sees the same kernel). ``dtype`` is the compute dtype (e.g.
  bfloat16); parameters and the output stay float32. Raises ValueError (one line, with the
  depths that fit) when 2**depth does not divide H and W.
  """
  out_channels: int
  depth: int
  features: int = 32
  max_features: int = 256
  dropout: float = 0.5
  norm: str = "batch"
  output: str = "tanh"
  bottleneck_blocks: int = 0
  upsampling: str = "transpose"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x: Array, train: bool = True) -> Array:
    _check_choice(self.norm, NORMS, "norm")
    _check_choice(self.upsampling, UPSAMPLINGS, "upsampling")
    _check_choice(self.output, OUTPUTS, "output")
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f"UNet dropout must be in [0, 1), got {self.dropout}")
    if x.ndim != 4:
      raise ValueError(f"UNet needs images [N, H, W, C], got shape {list(x.shape)}")
    problem = unet_size_problem(x.shape[1], x.shape[2], self.depth)
    if problem:
      raise ValueError(problem)
    depth, widths = self.depth, unet_widths(self.features, self.depth, self.max_features)
    normed = self.norm != "none"

    def conv(features, name, bias, kernel=(4, 4), strides=(2, 2), padding=_PAD1):
      return Conv(features, kernel, strides=strides, padding=padding, use_bias=bias,
                  kernel_init=dcgan_kernel_init, dtype=self.dtype, name=name)

    def up(features, name, bias):
      if self.upsampling == "resize":
        return ResizeConv(features, use_bias=bias, dtype=self.dtype, name=name)
      return ConvTranspose(features, (4, 4), strides=(2, 2), padding=_UP_PAD, use_bias=bias,
                           kernel_init=dcgan_kernel_init, dtype=self.dtype, name=name)

    skips = []
    h = x.astype(self.dtype)
    for i in range(depth):
      inner = 0 < i < depth - 1                  # the outermost and innermost have no norm
      if i > 0:
        h = nn.leaky_relu(h, negative_slope=0.2)
      h = conv(widths[i], f"down_{i}", bias=not (inner and normed))(h)
      if inner and normed:
        h = _norm_layer(self.norm, train, self.dtype, f"down_norm_{i}")(h)
      skips.append(h)

    y = skips.pop()                              # the bottleneck, H / 2^depth
    for j in range(self.bottleneck_blocks):
      y = y + conv(widths[-1], f"bottleneck_{j}", bias=True, kernel=(3, 3), strides=(1, 1))(
          nn.relu(y))

    first_dropout = max(1, depth - MAX_DROPOUT_BLOCKS)
    for i in reversed(range(1, depth)):
      y = up(widths[i - 1], f"up_{i}", bias=not normed)(nn.relu(y))
      if normed:
        y = _norm_layer(self.norm, train, self.dtype, f"up_norm_{i}")(y)
      if i >= first_dropout and self.dropout > 0:
        y = nn.Dropout(self.dropout, deterministic=not train, name=f"dropout_{i}")(y)
      y = jnp.concatenate([skips[i - 1], y], axis=-1)
    y = up(self.out_channels, "up_0", bias=True)(nn.relu(y))
    return _output_activation(y.astype(jnp.float32), self.output)


# --------------------------------------------------------------------------- PatchGAN


def patch_strides(num_layers: int) -> tuple[int, ...]:
  """Strides of the 4x4 convolutions (padding 1) of :class:`PatchDiscriminator`:
  ``num_layers`` stride-2 ones, then two stride-1 ones (the last to 1 channel)."""
  if num_layers < 1:
    raise ValueError(f"PatchDiscriminator num_layers must be at least 1, got {num_layers}")
  return (2,) * num_layers + (1, 1)


def patch_receptive_field(num_layers: int) -> int:
  """Side of the square of input pixels one PatchGAN logit sees (ignoring image borders),
  from the layer list: going back from one output pixel, a k x k layer of stride s turns a
  span r into (r - 1) s + k. 16, 34, 70 for 1, 2, 3 layers (pix2pix's "70x70 PatchGAN")."""
  span = 1
  for stride in reversed(patch_strides(num_layers)):
    span = (span - 1) * stride + 4
  return span


def patch_output_size(size: int, num_layers: int) -> int:
  """Side of the logit map for an input side ``size`` (<= 0: the input is too small):
  every 4x4 layer with padding 1 maps n -> (n - 2) // s + 1."""
  for stride in patch_strides(num_layers):
    size = (size - 2) // stride + 1
  return size


def patch_size_problem(height: int, width: int, num_layers: int) -> str | None:
  """Why a :class:`PatchDiscriminator` with ``num_layers`` leaves no logit for H x W inputs
  (None if it fits)."""
  if patch_output_size(min(height, width), num_layers) >= 1:
    return None
  fits = 0
  while patch_output_size(min(height, width), fits + 1) >= 1:
    fits += 1
  allowed = f"{height}x{width} allows num_layers <= {fits}" if fits else \
      f"no num_layers fits {height}x{width} (too small)"
  return (f"PatchDiscriminator num_layers={num_layers} leaves no patch of {height}x{width}; "
          f"{allowed}")


class PatchDiscriminator(nn.Module):
  """pix2pix's PatchGAN (``NLayerDiscriminator``): (cond, y) -> patch logits [N, h, w].

  The condition [N, H, W, Cc] and the image [N, H, W, Cy] are concatenated along channels,
  then go through 4x4 convolutions with padding 1: ``num_layers`` of stride 2 with
  f, 2f, 4f, 8f, 8f, ... channels (f = ``features``; no norm on the first), one of stride 1
  with min(2^num_layers, 8) f channels, each followed by ``norm`` and LeakyReLU(0.2), and a
  stride-1 one to a single channel: one logit per overlapping patch of
  :func:`patch_receptive_field` pixels, no sigmoid. Output sizes: :func:`patch_output_size`
  (table in the module docstring). A convolution has a bias exactly when no norm follows
  it; kernels ~ N(0, 0.02). ``dtype`` is the compute dtype; the logits are float32.
  """
  features: int = 64
  num_layers: int = 3
  norm: str = "batch"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, cond: Array, y: Array, train: bool = True) -> Array:
    _check_choice(self.norm, NORMS, "norm")
    if cond.ndim != 4 or y.ndim != 4 or cond.shape[:3] != y.shape[:3]:
      raise ValueError(f"PatchDiscriminator needs a condition and an image [N, H, W, C] of the "
                       f"same N, H, W, got {list(cond.shape)} and {list(y.shape)}")
    problem = patch_size_problem(y.shape[1], y.shape[2], self.num_layers)
    if problem:
      raise ValueError(problem)
    x = jnp.concatenate([cond.astype(self.dtype), y.astype(self.dtype)], axis=-1)
    strides = patch_strides(self.num_layers)
    for n, stride in enumerate(strides[:-1]):
      normed = n > 0 and self.norm != "none"
      x = Conv(self.features * min(2 ** n, 8), (4, 4), strides=(stride, stride), padding=_PAD1,
               use_bias=not normed, kernel_init=dcgan_kernel_init, dtype=self.dtype,
               name=f"conv_{n}")(x)
      if normed:
        x = _norm_layer(self.norm, train, self.dtype, f"norm_{n}")(x)
      x = nn.leaky_relu(x, negative_slope=0.2)
    x = Conv(1, (4, 4), strides=(1, 1), padding=_PAD1, use_bias=True,
             kernel_init=dcgan_kernel_init, dtype=self.dtype, name=f"conv_{len(strides) - 1}")(x)
    return x[..., 0].astype(jnp.float32)
