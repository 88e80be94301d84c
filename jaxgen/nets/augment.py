"""Differentiable augmentation for GAN discriminators (DiffAugment; Zhao et al. 2020).

Every image the discriminator sees — real and generated, in both players' updates — goes
through the same random transformations, each drawn per image; all of them are
differentiable in the image, so the generator's gradient passes through. Three kinds, as in
the authors' ``DiffAugment`` policy ``'color,translation,cutout'``:

* ``color``: brightness x + (u - 0.5), then saturation (x - m_c)·2u + m_c around the
  per-pixel channel mean m_c, then contrast (x - m)·(u + 0.5) + m around the image mean m;
  each u ~ U[0, 1) per image;
* ``translation``: a shift by up to 1/8 of the side (rounded) in each direction, the
  uncovered border filled with zeros;
* ``cutout``: a square of half the side (rounded) set to zero at a random centre (clipped
  at the border).

Images are NHWC. The kinds always run in that order, each from its own key, so switching
one on or off leaves the others' draws unchanged. Shifts are written as products with
0/1 shift matrices (exact: one nonzero term per output pixel), so their gradients are
matrix products too.
"""
from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp

Array = jax.Array

KINDS = ("color", "translation", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
  """The kinds named in a comma-separated ``policy`` ('' gives none), in canonical order;
  ValueError for an unknown kind."""
  names = [p.strip() for p in policy.split(",") if p.strip()]
  for name in names:
    if name not in KINDS:
      raise ValueError(f"unknown augmentation {name!r}; use a comma-separated subset of "
                       f"{', '.join(KINDS)}")
  return tuple(k for k in KINDS if k in names)


def _per_image(key: Array, n: int) -> Array:
  return jax.random.uniform(key, (n, 1, 1, 1), jnp.float32)


def color(key: Array, x: Array) -> Array:
  """Random brightness, saturation and contrast, one draw of each per image."""
  kb, ks, kc = jax.random.split(key, 3)
  n = x.shape[0]
  x = x + (_per_image(kb, n) - 0.5)
  mean_c = jnp.mean(x, axis=-1, keepdims=True)
  x = (x - mean_c) * (_per_image(ks, n) * 2.0) + mean_c
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (_per_image(kc, n) + 0.5) + mean


def shift_matrices(shifts: Array, size: int) -> Array:
  """[N, size, size] 0/1 matrices S with (S @ v)[i] = v[i + shift] (0 outside the range)."""
  i = jnp.arange(size)
  return (i[None, None, :] == i[None, :, None] + shifts[:, None, None]).astype(jnp.float32)


def translation(key: Array, x: Array, ratio: float = 0.125) -> Array:
  """out[n, i, j] = x[n, i + a_n, j + b_n] (0 outside the image), a_n and b_n uniform
  integers in [-s, s] with s = int(side * ratio + 0.5)."""
  n, h, w, _ = x.shape
  kh, kw = jax.random.split(key)
  sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  rows = shift_matrices(jax.random.randint(kh, (n,), -sh, sh + 1), h)
  cols = shift_matrices(jax.random.randint(kw, (n,), -sw, sw + 1), w)
  x = jnp.einsum("nih,nhwc->niwc", rows, x)
  return jnp.einsum("njw,niwc->nijc", cols, x)


def cutout_mask(key: Array, n: int, h: int, w: int, ratio: float = 0.5) -> Array:
  """[N, H, W, 1]: 0 inside one square of side int(side * ratio + 0.5) per image, 1 elsewhere.
  The square starts at c - size // 2 for a centre c uniform in [0, side + (1 - size % 2)),
  clipped at the border (the authors' indexing)."""
  kh, kw = jax.random.split(key)
  ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
  top = jax.random.randint(kh, (n,), 0, h + (1 - ch % 2)) - ch // 2
  left = jax.random.randint(kw, (n,), 0, w + (1 - cw % 2)) - cw // 2
  i, j = jnp.arange(h), jnp.arange(w)
  in_rows = (i[None, :] >= top[:, None]) & (i[None, :] < top[:, None] + ch)      # [N, H]
  in_cols = (j[None, :] >= left[:, None]) & (j[None, :] < left[:, None] + cw)    # [N, W]
  cut = in_rows[:, :, None] & in_cols[:, None, :]
  return (~cut).astype(jnp.float32)[..., None]


def cutout(key: Array, x: Array, ratio: float = 0.5) -> Array:
  """x with one random square per image set to zero (:func:`cutout_mask`)."""
  n, h, w, _ = x.shape
  return x * cutout_mask(key, n, h, w, ratio).astype(x.dtype)


_FUNCTIONS = {"color": color, "translation": translation, "cutout": cutout}


def augment(key: Array, x: Array, kinds: Sequence[str]) -> Array:
  """``x`` (images [N, H, W, C]) through each kind of ``kinds`` (canonical order, one key
  per kind whether used or not); no kinds returns ``x`` itself."""
  if not kinds:
    return x
  if x.ndim != 4:
    raise ValueError(f"augmentation needs images [N, H, W, C], got shape {list(x.shape)}")
  keys = dict(zip(KINDS, jax.random.split(key, len(KINDS))))
  for kind in KINDS:
    if kind in kinds:
      x = _FUNCTIONS[kind](keys[kind], x)
  return x
