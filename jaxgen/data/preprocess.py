"""Preprocessing of uint8 images, applied on the device to each batch.

* ``dynamic_binarize``: a fresh Bernoulli(pixel / 255) draw each time, from the given key;
* ``threshold``: pixel / 255 > 0.5 (the usual fixed binarization of test digits);
* ``unit``: pixel / 255 in [0, 1];
* ``symmetric``: pixel / 127.5 - 1 in [-1, 1];
* ``none``: float32 cast (for points).

``static_binarize`` is a dataset-level choice: one Bernoulli draw per image, made once
when the split is loaded (see :func:`static_binarize`), then treated as ``unit``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

PREPROCESSORS = ("dynamic_binarize", "static_binarize", "threshold", "unit", "symmetric", "none")


def preprocess(x: jax.Array, key: jax.Array, mode: str) -> jax.Array:
  """Maps a raw batch to float32 model input; ``key`` is used by ``dynamic_binarize`` only."""
  if mode == "none":
    return x.astype(jnp.float32)
  u = x.astype(jnp.float32) / 255.0
  if mode == "dynamic_binarize":
    return jax.random.bernoulli(key, u).astype(jnp.float32)
  if mode == "threshold":
    return (u > 0.5).astype(jnp.float32)
  if mode in ("unit", "static_binarize"):
    return u
  if mode == "symmetric":
    return u * 2.0 - 1.0
  raise ValueError(f"unknown preprocessing {mode!r}; choose one of {PREPROCESSORS}")


def preprocess_batch(batch, key: jax.Array, mode: str):
  """:func:`preprocess` for a batch as the trainer holds it: an array, or a conditional
  batch ``{"x": images, "cond": condition}`` (see :mod:`jaxgen.data.pipeline`). There
  ``x`` is preprocessed with ``mode``; a condition image (uint8) with the same mode made
  deterministic (an input image is given, never redrawn); labels pass through."""
  if not isinstance(batch, dict):
    return preprocess(batch, key, mode)
  cond = batch["cond"]
  if cond.dtype == jnp.uint8:
    cond = preprocess(cond, key, deterministic(mode))
  return {"x": preprocess(batch["x"], key, mode), "cond": cond}


BINARY_MODES = ("dynamic_binarize", "static_binarize", "threshold")


def perturb(x: jax.Array, key: jax.Array, rate: float, mode: str) -> jax.Array:
  """Each value of the preprocessed batch ``x`` replaced, with probability ``rate``, by a
  random one: a fair coin for binarized data, uniform over the data range otherwise ([0, 1]
  for 'unit', [-1, 1] for 'symmetric'). Ren et al. (2019) train their background model on
  inputs perturbed so; ``rate`` = 0 returns ``x`` itself."""
  if not rate:
    return x
  k_where, k_value = jax.random.split(key)
  where = jax.random.bernoulli(k_where, rate, x.shape)
  if mode in BINARY_MODES:
    value = jax.random.bernoulli(k_value, 0.5, x.shape).astype(x.dtype)
  elif mode == "unit":
    value = jax.random.uniform(k_value, x.shape, x.dtype)
  elif mode == "symmetric":
    value = jax.random.uniform(k_value, x.shape, x.dtype, -1.0, 1.0)
  else:
    raise ValueError(f"perturbing inputs needs images preprocessed to a known range; "
                     f"{mode!r} has none")
  return jnp.where(where, value, x)


def dihedral_transform(image: jax.Array, k: jax.Array) -> jax.Array:
  """Image [H, W, C] (square) under element ``k`` (0..7) of the dihedral group: ``k % 4``
  quarter turns counter-clockwise, then a left-right flip when ``k >= 4``."""
  turned = jax.lax.switch(k % 4, [lambda x, r=r: jnp.rot90(x, r, axes=(0, 1)) for r in range(4)],
                          image)
  return jnp.where(k >= 4, turned[:, ::-1], turned)


def dihedral(batch, key: jax.Array):
  """Each example of a batch (an array [B, H, W, C], or a conditional batch ``{"x", "cond"}``)
  under one of the 8 flips and quarter turns of the square, drawn uniformly per example from
  ``key``; a condition image gets its example's transformation, so pairs stay aligned (box
  downsampling and luminance commute with every one of them); labels pass through."""
  x = batch["x"] if isinstance(batch, dict) else batch
  k = jax.random.randint(key, (x.shape[0],), 0, 8)
  apply = jax.vmap(dihedral_transform)
  if not isinstance(batch, dict):
    return apply(x, k)
  cond = batch["cond"]
  if cond.ndim == x.ndim:
    cond = apply(cond, k)
  return {"x": apply(x, k), "cond": cond}


def deterministic(mode: str) -> str:
  """The preprocessing without randomness that matches ``mode`` (for scoring a training
  split: 'threshold' for 'dynamic_binarize', 'unit' for 'static_binarize' (whose split is
  already binarized); every other mode is deterministic already)."""
  return {"dynamic_binarize": "threshold", "static_binarize": "unit"}.get(mode, mode)


def static_binarize(images: np.ndarray, seed: int) -> np.ndarray:
  """One fixed Bernoulli(pixel / 255) draw per image (uint8 0/255), reproducible by ``seed``."""
  rng = np.random.RandomState(seed)
  return np.where(rng.uniform(size=images.shape) < images / 255.0, 255, 0).astype(np.uint8)

