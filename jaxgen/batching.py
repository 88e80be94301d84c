"""Rows of a split, and a function mapped over them in fixed-size batches.

A split is an array, or a dict of arrays with one row per example (a conditional split
``{"x": examples, "cond": conditions}``): every function here takes rows of all its
arrays together.
"""
from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp


def num_rows(data) -> int:
  """The number of examples in a split (an array or a dict of arrays with equal rows)."""
  return int(jax.tree.leaves(data)[0].shape[0])


def take_rows(data, idx):
  """Rows ``idx`` (an index array or a slice) of every array of a split."""
  if isinstance(idx, slice):
    return jax.tree.map(lambda a: a[idx], data)
  return jax.tree.map(lambda a: jnp.take(a, idx, axis=0), data)


def map_batches(fn: Callable, x: Any, batch_size: int, key: jax.Array) -> Any:
  """Applies ``fn(x_batch, key_i) -> per-example pytree`` to all of ``x`` (an array, or a
  conditional split ``{"x", "cond"}``) in fixed-size batches (the last one zero-padded, so
  ``fn`` compiles once) and concatenates the rows."""
  n = num_rows(x)
  batch_size = min(batch_size, n)
  num = -(-n // batch_size)
  pad = num * batch_size - n
  if pad:
    x = jax.tree.map(lambda a: jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)]), x)
  outs = [fn(take_rows(x, slice(i * batch_size, (i + 1) * batch_size)), jax.random.fold_in(key, i))
          for i in range(num)]
  return jax.tree.map(lambda *rows: jnp.concatenate(rows)[:n], *outs)
