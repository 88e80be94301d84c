"""Flax linen networks for GANs: MLP and DCGAN generators and discriminators, plus the
two classic anti-mode-collapse layers, minibatch discrimination and minibatch stddev.

Generators map a latent batch ``z`` [N, D] to samples [N, *out_shape]. Discriminators map
samples to *logits* of shape [N] (losses apply log-sigmoid / softplus to them), or [N/m]
when they judge packs of m samples (PacGAN, :func:`pack`). Images are
NHWC. Every module takes ``train`` so a GAN model can call all of them the same way; only
the DCGAN modules use it (BatchNorm: batch statistics and ``mutable=["batch_stats"]``
when training, running averages otherwise).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxgen.nets.layers import Conv, ConvTranspose, Dense, minibatch_discrimination

Array = jax.Array

NETS = ("mlp", "dcgan")
MINIBATCH_KINDS = ("none", "discrimination", "stddev")
OUTPUTS = ("linear", "tanh", "sigmoid")


def _standard_normal(key: Array, shape: Sequence[int], dtype: Any) -> Array:
  """N(0, 1) draws behind an optimization barrier: compiled, XLA would fold the scale that
  follows into the sampler's own constants and round differently."""
  return jax.lax.optimization_barrier(jax.random.normal(key, shape, dtype))


def _written_out(x: Array) -> Array:
  """``x`` as a buffer of its own: a sort by an index already in order, a copy XLA can
  neither fuse nor remove. Compiled, XLA:CPU would contract the product before it and the
  sum after it into one fused multiply-add (one rounding instead of two)."""
  flat = x.reshape(-1)
  _, out = jax.lax.sort((jax.lax.iota(jnp.int32, flat.shape[0]), flat), num_keys=1)
  return out.reshape(x.shape)


def normal_init(stddev: float):
  """Weights ~ N(0, stddev²): the draws and arithmetic of ``flax.linen.initializers.normal``,
  with the same values whether ``init`` runs op by op or compiled (as jaxgen compiles it)."""
  def init(key: Array, shape: Sequence[int], dtype: Any = jnp.float32) -> Array:
    return _standard_normal(key, shape, dtype) * jnp.array(stddev, dtype)
  return init


# DCGAN (Radford et al. 2016, pytorch/examples layout) initialization.
dcgan_kernel_init = normal_init(0.02)


def dcgan_scale_init(key: Array, shape: Sequence[int], dtype: Any = jnp.float32) -> Array:
  """BatchNorm scale ~ N(1, 0.02), as in the DCGAN reference ``weights_init``; the same
  values op by op and compiled."""
  return 1.0 + _written_out(0.02 * _standard_normal(key, shape, dtype))


def _check_choice(value: str, choices: Sequence[str], what: str):
  if value not in choices:
    raise ValueError(f"unknown {what} {value!r}; use one of {tuple(choices)}")


def _output_activation(x: Array, output: str) -> Array:
  _check_choice(output, OUTPUTS, "output")
  if output == "tanh":
    return jnp.tanh(x)
  if output == "sigmoid":
    return jax.nn.sigmoid(x)
  return x


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, section 3.2).

  The layer around :func:`jaxgen.nets.layers.minibatch_discrimination` (the formula):
  features f [N, A] (flattened), a learned tensor T [A, B, C]; returns concat([f, o]) of
  shape [N, A + B]. The self term j = i is excluded, so a batch of n identical examples
  gives o = n - 1 everywhere. Computed in float32.

  ``normalize=True`` divides o by n - 1 (the mean similarity instead of the sum), so o
  lies in [0, 1] like the features it joins whatever the batch size; the paper's sum
  (the default) feeds values up to n - 1 into the output layer.
  """
  num_kernels: int = 100
  kernel_dims: int = 5
  normalize: bool = False
  kernel_init: Any = normal_init(0.05)

  @nn.compact
  def __call__(self, f: Array) -> Array:
    f = f.reshape(f.shape[0], -1).astype(jnp.float32)
    t = self.param("kernel", self.kernel_init,
                   (f.shape[-1], self.num_kernels, self.kernel_dims), jnp.float32)
    return minibatch_discrimination(f, t, self.normalize)


def _safe_sqrt(x: Array) -> Array:
  """sqrt(x) for x >= 0 that is exactly 0 at 0 with a finite (zero) gradient there."""
  positive = x > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


class MinibatchStddev(nn.Module):
  """Minibatch standard deviation (Karras et al. 2018, section 3).

  The population standard deviation of every feature (every pixel and channel for
  images) across the batch, averaged into one number, appended to every example as one
  extra last-axis entry: [N, A] -> [N, A + 1], [N, H, W, C] -> [N, H, W, C + 1]. It is
  exactly 0 (with a finite gradient) for a batch of identical examples.
  """

  @nn.compact
  def __call__(self, x: Array) -> Array:
    xf = x.astype(jnp.float32)
    var = jnp.mean(jnp.square(xf - jnp.mean(xf, axis=0, keepdims=True)), axis=0)
    stat = jnp.mean(_safe_sqrt(var)).astype(x.dtype)
    extra = jnp.broadcast_to(stat, x.shape[:-1] + (1,))
    return jnp.concatenate([x, extra], axis=-1)


def minibatch_layer(kind: str, num_kernels: int = 100, kernel_dims: int = 5,
                    normalize: bool = False, name: str | None = None):
  """The minibatch layer called ``kind`` ('none' gives None)."""
  _check_choice(kind, MINIBATCH_KINDS, "minibatch layer")
  if kind == "discrimination":
    return MinibatchDiscrimination(num_kernels, kernel_dims, normalize, name=name)
  if kind == "stddev":
    return MinibatchStddev(name=name)
  return None


def pack(x: Array, m: int) -> Array:
  """PacGAN packing (Lin et al. 2018): consecutive groups of ``m`` examples become one,
  concatenated along the last axis: images [N, H, W, C] -> [N/m, H, W, m*C] (the channels
  of example k of a pack at positions k*C .. k*C + C - 1); vectors [N, A] -> [N/m, m*A].
  ``m`` = 1 returns ``x``. ValueError unless m divides N."""
  if m == 1:
    return x
  n = x.shape[0]
  if n % m:
    raise ValueError(f"a batch of {n} cannot be packed in groups of {m}; use a batch size "
                     f"divisible by gan.pack")
  grouped = x.reshape((n // m, m) + x.shape[1:])
  if x.ndim == 4:
    grouped = jnp.moveaxis(grouped, 1, 3)            # [N/m, H, W, m, C]
    return grouped.reshape(grouped.shape[:3] + (-1,))
  return grouped.reshape(n // m, -1)


def _linear(layer: nn.Module, x: Array, spectral_norm: bool, train: bool) -> Array:
  """``layer(x)``, or with its weights divided by their largest singular value
  (``flax.linen.SpectralNorm``: one power iteration per call; the vector ``u`` and
  ``sigma`` live in the ``batch_stats`` collection and advance only when ``train``)."""
  if spectral_norm:
    return nn.SpectralNorm(layer)(x, update_stats=train)
  return layer(x)


class MLPGenerator(nn.Module):
  """z [N, D] -> ``hidden`` ReLU layers -> Dense -> ``output`` activation -> [N, *out_shape].

  ``output`` is 'linear' (2-D points), 'tanh' (images in [-1, 1]) or 'sigmoid'.
  """
  hidden: Sequence[int]
  out_shape: tuple[int, ...]
  output: str = "linear"

  @nn.compact
  def __call__(self, z: Array, train: bool = True) -> Array:
    del train  # no BatchNorm or dropout
    x = z.reshape(z.shape[0], -1)
    for width in self.hidden:
      x = nn.relu(Dense(width)(x))
    x = Dense(math.prod(self.out_shape))(x)
    x = _output_activation(x, self.output)
    return x.reshape((z.shape[0],) + tuple(self.out_shape))


class MLPDiscriminator(nn.Module):
  """Flattened input -> hidden layers -> optional minibatch layer -> Dense(1): logits.

  Hidden layers are Dense + LeakyReLU(``leaky``), or maxout units with
  ``maxout_pieces`` > 1: Dense(width * pieces), then the max over the pieces.
  ``minibatch`` ('none' | 'discrimination' | 'stddev') acts on the last hidden features.
  ``pack`` = m > 1 judges m examples at once (:func:`pack`: N examples give N/m logits);
  ``spectral_norm`` divides every Dense kernel by its largest singular value (Miyato et
  al. 2018; the power-iteration state advances when ``train``).
  """
  hidden: Sequence[int]
  minibatch: str = "none"
  mb_kernels: int = 100
  mb_dims: int = 5
  mb_normalize: bool = False
  maxout_pieces: int = 1
  leaky: float = 0.2
  pack: int = 1
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x: Array, train: bool = True) -> Array:
    x = pack(x.reshape(x.shape[0], -1), self.pack)
    sn = self.spectral_norm
    for width in self.hidden:
      if self.maxout_pieces > 1:
        x = _linear(Dense(width * self.maxout_pieces), x, sn, train)
        x = jnp.max(x.reshape(x.shape[0], width, self.maxout_pieces), axis=-1)
      else:
        x = nn.leaky_relu(_linear(Dense(width), x, sn, train), negative_slope=self.leaky)
    layer = minibatch_layer(self.minibatch, self.mb_kernels, self.mb_dims, self.mb_normalize)
    if layer is not None:
      x = layer(x)
    return _linear(Dense(1), x, sn, train)[:, 0]


def image_size_problem(net: str, example_shape: tuple[int, ...]) -> str | None:
  """Why examples of ``example_shape`` do not fit GAN net ``net`` (None if they do)."""
  if net != "dcgan":
    return None
  if len(example_shape) != 3:
    return f"the DCGAN nets need images [H, W, C], got examples of shape {list(example_shape)}"
  h, w = example_shape[:2]
  if h != w or h % 4:
    return f"the DCGAN nets need square images with sides divisible by 4, got {h}x{w}"
  return None


def dcgan_generator_layout(height: int, width: int) -> tuple[int, tuple[int, ...]]:
  """(start size, channel multipliers of the BatchNorm blocks) of :class:`DCGANGenerator`.

  Sizes divisible by 16 (e.g. 64) start from (H/16)x(H/16) and go through 8f, 4f, 2f, f
  channels; other sizes divisible by 4 (e.g. 28) start from (H/4)x(H/4) with 4f, 2f.
  Raises ValueError for sizes :func:`image_size_problem` refuses.
  """
  problem = image_size_problem("dcgan", (height, width, 1))
  if problem:
    raise ValueError(problem)
  if height % 16 == 0:
    return height // 16, (8, 4, 2, 1)
  return height // 4, (4, 2)


class DCGANGenerator(nn.Module):
  """DCGAN generator (pytorch/examples layout): z -> 1x1 map -> transposed convs.

  For 64x64xC: ConvTranspose(8f, 4x4, VALID) to 4x4, then 4x4 stride-2 transposed convs
  to 8x8 (4f), 16 (2f), 32 (f), 64 (C). For 28x28xC: ConvTranspose(4f, 7x7, VALID) to
  7x7, then 14x14 (2f), 28x28 (C). BatchNorm + ReLU after every layer but the last, a
  tanh output in [-1, 1], kernels ~ N(0, 0.02), no conv biases. ``dtype`` is the compute
  dtype (e.g. bfloat16); parameters and the output stay float32.
  """
  features: int = 64
  out_shape: tuple[int, int, int] = (64, 64, 3)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z: Array, train: bool = True) -> Array:
    h, w, c = self.out_shape
    start, mults = dcgan_generator_layout(h, w)
    x = z.reshape(z.shape[0], 1, 1, -1).astype(self.dtype)
    for i, mult in enumerate(mults):
      if i == 0:
        x = ConvTranspose(self.features * mult, (start, start), strides=(1, 1),
                             padding="VALID", use_bias=False, kernel_init=dcgan_kernel_init,
                             dtype=self.dtype)(x)
      else:
        x = ConvTranspose(self.features * mult, (4, 4), strides=(2, 2), padding="SAME",
                             use_bias=False, kernel_init=dcgan_kernel_init,
                             dtype=self.dtype)(x)
      x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                       scale_init=dcgan_scale_init, dtype=self.dtype)(x)
      x = nn.relu(x)
    x = ConvTranspose(c, (4, 4), strides=(2, 2), padding="SAME", use_bias=False,
                         kernel_init=dcgan_kernel_init, dtype=self.dtype)(x)
    return jnp.tanh(x.astype(jnp.float32))


class DCGANDiscriminator(nn.Module):
  """DCGAN discriminator: 4x4 stride-2 convs (padding 1) with LeakyReLU(``leaky``),
  BatchNorm from the second block on, until the map is at most 4x4 (64 -> 4 in four
  blocks of f, 2f, 4f, 8f channels; 28 -> 3 in three), then the minibatch layer, a
  flatten and Dense(1): logits [N]. Works for any channel count.

  ``minibatch`` = 'stddev' appends one channel to the last feature map (Karras et al.);
  'discrimination' acts on the flattened features (Salimans et al.). ``dtype`` is the
  compute dtype of the convs; the minibatch layer and the logits are float32.

  ``pack`` = m > 1 judges m images at once, concatenated along the channels (:func:`pack`:
  N images give N/m logits). ``spectral_norm`` divides every conv kernel and the final
  Dense kernel by its largest singular value (Miyato et al. 2018) and drops D's BatchNorm,
  as SN-GAN's discriminators have none.
  """
  features: int = 64
  minibatch: str = "none"
  mb_kernels: int = 100
  mb_dims: int = 5
  mb_normalize: bool = False
  leaky: float = 0.2
  dtype: Any = jnp.float32
  pack: int = 1
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x: Array, train: bool = True) -> Array:
    layer = minibatch_layer(self.minibatch, self.mb_kernels, self.mb_dims, self.mb_normalize)
    x = pack(x, self.pack).astype(self.dtype)
    sn = self.spectral_norm
    block, size = 0, min(x.shape[1], x.shape[2])
    while block == 0 or size > 4:
      conv = Conv(self.features * 2 ** min(block, 3), (4, 4), strides=(2, 2),
                  padding=((1, 1), (1, 1)), use_bias=False, kernel_init=dcgan_kernel_init,
                  dtype=self.dtype)
      x = _linear(conv, x, sn, train)
      if block > 0 and not sn:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                         scale_init=dcgan_scale_init, dtype=self.dtype)(x)
      x = nn.leaky_relu(x, negative_slope=self.leaky)
      block, size = block + 1, min(x.shape[1], x.shape[2])
    x = x.astype(jnp.float32)
    if isinstance(layer, MinibatchStddev):
      x = layer(x)
    x = x.reshape(x.shape[0], -1)
    if isinstance(layer, MinibatchDiscrimination):
      x = layer(x)
    return _linear(Dense(1, kernel_init=dcgan_kernel_init), x, sn, train)[:, 0]
