"""The on-device input pipeline.

The training split lives on the device for the whole run. The order of epoch ``e`` is
``jax.random.permutation(fold_in(data_key, e), N)``; step ``t`` reads rows
``perm[(t % S) * B : (t % S + 1) * B]`` of that order, with S = N // B steps per epoch (a
short last batch is dropped). Everything is a pure function of (data_key, t), so a run
resumed at step t sees exactly the batches it would have seen.

A split is an array, or for a conditional model a dict ``{"x": examples, "cond":
conditions}`` (condition images or labels, one row per example): every function here
takes rows of all its arrays together.
"""
from __future__ import annotations

import jax

from jaxgen.batching import num_rows, take_rows


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
  return num_examples // batch_size


def epoch_permutation(data_key: jax.Array, epoch, num_examples: int) -> jax.Array:
  """The example order of ``epoch``."""
  return jax.random.permutation(jax.random.fold_in(data_key, epoch), num_examples)


def batch_at(data, perm: jax.Array, step, batch_size: int):
  """Rows of ``data`` for ``step`` given the permutation of that step's epoch."""
  spe = num_rows(data) // batch_size
  start = (step % spe) * batch_size
  idx = jax.lax.dynamic_slice_in_dim(perm, start, batch_size)
  return take_rows(data, idx)


def next_permutation(data_key: jax.Array, perm: jax.Array, step, num_examples: int,
                     batch_size: int) -> jax.Array:
  """The permutation to use at ``step``: recomputed at the first step of each epoch."""
  spe = num_examples // batch_size
  return jax.lax.cond(step % spe == 0,
                      lambda: epoch_permutation(data_key, step // spe, num_examples),
                      lambda: perm)
