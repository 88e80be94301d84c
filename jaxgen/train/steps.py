"""The compiled step loop and the key plan.

The key of step ``t`` is ``fold_in(train_key, t)``; the data order of epoch ``e`` comes
from ``fold_in(data_key, e)``: a run is a pure function of (config, seed), and a run
resumed at step ``t`` computes exactly what it would have computed. ``chunk`` steps run
inside one jitted ``lax.scan`` with the state donated; the training split lives on the
device; per-step metrics come back as arrays ``[chunk]`` and stay on the device until the
host loop (:mod:`jaxgen.train.loop`) logs them.

Several seeds train in one program with their states stacked along a leading axis (the
runs axis): :func:`over_seeds` maps or vmaps the chunk over it.
"""
from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from jaxgen.data import pipeline
from jaxgen.data.dataset import DataError
from jaxgen.data.preprocess import (deterministic, dihedral, perturb, preprocess,
                                    preprocess_batch, static_binarize)
from jaxgen.scale.sharding import batch_rows
from jaxgen.scale import mesh as mesh_lib

KEY_PURPOSES = ("init", "train", "data", "eval")


def run_keys(seed: int) -> dict[str, jax.Array]:
  """The root key of ``seed`` split by purpose (fixed constants, never reused)."""
  root = jax.random.PRNGKey(seed)
  return {name: jax.random.fold_in(root, i) for i, name in enumerate(KEY_PURPOSES)}


def seed_keys(config) -> list[dict[str, jax.Array]]:
  """The keys of seeds ``config.seed``, ..., ``config.seed + num_seeds - 1``."""
  return [run_keys(config.seed + i) for i in range(config.num_seeds)]


def stack_keys(keys: list[dict], name: str) -> jax.Array:
  """The ``name`` keys of all seeds, stacked along a seed axis (the key itself for one seed)."""
  return keys[0][name] if len(keys) == 1 else jnp.stack([k[name] for k in keys])


def init_state(model, keys: list[dict]):
  """One state, or (several seeds) states stacked along a leading seed axis: ``model.init``
  compiled as one program (the same values as run op by op: see
  ``tests/train/test_steps.py``), which the persistent compilation cache then keeps."""
  if len(keys) == 1:
    return jax.jit(model.init)(keys[0]["init"])
  return jax.jit(jax.vmap(model.init))(jnp.stack([k["init"] for k in keys]))


def seed_slice(tree, i: int):
  """Seed ``i`` of a state stacked over seeds."""
  return jax.tree.map(lambda a: a[i], tree)


def conditions(dataset, condition: str) -> tuple:
  """(train, test) conditions of a model whose ``condition`` is 'label' (the labels) or
  'image' (a paired dataset's input images); (None, None) for 'none'. DataError (one line,
  the fix) if the dataset lacks them."""
  if condition == "none":
    return None, None
  if condition == "label":
    if dataset.train_labels is None or dataset.test_labels is None:
      raise DataError(f"this model is conditioned on labels, but dataset {dataset.name!r} has "
                      f"none; use a labelled dataset such as mnist_subset")
    return (np.asarray(dataset.train_labels, np.int32), np.asarray(dataset.test_labels, np.int32))
  if condition == "image":
    if not dataset.paired:
      raise DataError(f"this model translates input images, but dataset {dataset.name!r} holds "
                      f"no inputs; use a paired dataset (mnist_sr2, mnist_sr4, photos_sr4, "
                      f"photos_color)")
    return dataset.train_inputs, dataset.test_inputs
  raise ValueError(f"unknown condition {condition!r}; use 'none', 'label' or 'image'")


def device_splits(config, dataset, keys: dict, condition: str = "none"):
  """The training split (raw, on the device) and the preprocessed test split (on the
  device, binarized with the evaluation key of ``keys`` where the preprocessing draws).

  For a conditional model (``condition`` 'label' or 'image', the model's declared
  :attr:`condition`) each split is ``{"x": examples, "cond": conditions}``: the labels, or
  the paired dataset's input images (preprocessed like the examples, without randomness).
  """
  train = dataset.train
  if config.dataset.preprocess == "static_binarize":
    train = static_binarize(train, config.seed)
  train_x = jax.device_put(train)
  test_x = eval_split(config, dataset, keys, condition)
  train_c, _ = conditions(dataset, condition)
  if train_c is None:
    return train_x, test_x
  return {"x": train_x, "cond": jax.device_put(train_c)}, test_x


def eval_split(config, dataset, keys: dict, condition: str = "none"):
  """``dataset``'s test split preprocessed for evaluation, on the device (as
  :func:`device_splits` returns it; pass :meth:`Dataset.validation_view` for the
  validation split)."""
  mode = config.dataset.eval_preprocess
  test_x = preprocess(jnp.asarray(dataset.test), keys["eval"], mode)
  _, test_c = conditions(dataset, condition)
  if test_c is None:
    return test_x
  if condition == "image":
    test_c = preprocess(jnp.asarray(test_c), keys["eval"], deterministic(mode))
  return {"x": test_x, "cond": jnp.asarray(test_c)}


def make_step_at(model, config) -> Callable:
  """``fn(state, train_x, perm, t, train_key) -> (state, metrics)``: training step ``t`` on
  its batch of ``train_x`` (rows of the epoch permutation ``perm``; for a conditional model
  rows of examples and conditions together), preprocessed with the step's own key. Traced
  under a mesh (``jax.set_mesh``) the batch's rows are split over its ``data`` axis (each
  device gathers its own rows; XLA all-reduces the gradients). The body of
  :func:`make_train_chunk`; benchmarks jit it alone."""
  batch_size = int(config.batch_size)
  mode = config.dataset.preprocess
  rate = float(config.dataset.perturb_rate)
  flips = bool(config.dataset.dihedral)

  def step_at(state, train_x, perm, t, train_key):
    raw = batch_rows(pipeline.batch_at(train_x, perm, t, batch_size))
    k_prep, k_model = jax.random.split(jax.random.fold_in(train_key, t))
    batch = preprocess_batch(raw, k_prep, mode)
    if rate:                                  # the background model of a likelihood ratio
      batch = perturb(batch, jax.random.fold_in(k_prep, 1), rate, mode)
    if flips:                                 # flips and quarter turns, pairs kept aligned
      batch = dihedral(batch, jax.random.fold_in(k_prep, 2))
    return model.train_step(state, batch, k_model)

  return step_at


def make_train_chunk(model, config, num_train: int, chunk: int) -> Callable:
  """``fn(state, train_x, train_key, data_key, start) -> (state, metrics[chunk])``, not jitted.

  Runs ``chunk`` consecutive steps ``start, start + 1, ...`` (``start`` must equal
  ``state.step``): each reads its batch from the on-device ``train_x`` through the epoch
  permutation, preprocesses it with its own key and calls ``model.train_step``. ``start``
  is a separate scalar so that under ``jax.vmap`` over seeds the step counter stays
  unbatched and the epoch permutation is computed only at epoch boundaries. Under a mesh:
  see :func:`make_step_at`.
  """
  spe = pipeline.steps_per_epoch(num_train, int(config.batch_size))
  carried = make_carried_chunk(model, config, num_train, chunk)

  def train_chunk(state, train_x, train_key, data_key, start):
    perm0 = pipeline.epoch_permutation(data_key, start // spe, num_train)
    state, _, metrics = carried(state, perm0, train_x, train_key, data_key, start)
    return state, metrics

  return train_chunk


def make_carried_chunk(model, config, num_train: int, chunk: int) -> Callable:
  """``fn(state, perm, train_x, train_key, data_key, start) -> (state, perm, metrics)``:
  :func:`make_train_chunk`'s steps with the epoch permutation passed in and returned, for
  callers that run many short chunks (the studio's GAN lab: a permutation of 100,000
  examples costs 40 ms on a 2-core CPU, more than 50 small steps). ``perm`` must be
  :func:`jaxgen.data.pipeline.epoch_permutation` of ``start``'s epoch; the steps are
  :func:`make_train_chunk`'s, so the states are the same."""
  batch_size = int(config.batch_size)
  step_at = make_step_at(model, config)

  def carried_chunk(state, perm, train_x, train_key, data_key, start):
    def body(carry, t):
      state, perm = carry
      perm = pipeline.next_permutation(data_key, perm, t, num_train, batch_size)
      state, metrics = step_at(state, train_x, perm, t, train_key)
      return (state, perm), metrics

    steps = start + jnp.arange(chunk, dtype=jnp.int32)
    (state, perm), metrics = jax.lax.scan(body, (state, perm), steps)
    return state, perm, metrics

  return carried_chunk


def over_seeds(train_chunk: Callable, how: str) -> Callable:
  """Runs ``train_chunk`` for states stacked along a leading seed axis, in one program.

  ``vmap`` batches the seeds (``jax.vmap`` over the whole state): fastest on accelerators,
  and each seed's result is the same for any number of seeds >= 2, but XLA's batched
  kernels round differently from the unbatched ones, so a seed differs in the last bits
  from its single-seed run (and chaotic GAN dynamics then amplify that). ``map`` runs the
  unbatched step for each seed in turn (``lax.map``) inside the same compiled call: every
  seed is bit-identical to its single-seed run, at about the same speed on CPU.
  """
  if how == "vmap":
    return jax.vmap(train_chunk, in_axes=(0, None, 0, 0, None))

  def mapped(state, train_x, train_key, data_key, start):
    return jax.lax.map(lambda a: train_chunk(a[0], train_x, a[1], a[2], start),
                       (state, train_key, data_key))
  return mapped


def chunk_length(config) -> int:
  """Steps per compiled call: the largest length that lands on every log, eval and
  checkpoint step and on ``num_steps``."""
  return math.gcd(config.num_steps, config.log_every, config.eval_every, config.checkpoint_every)


def compile_train_chunk(model, config, num_train: int, num_seeds: int, chunk: int,
                        mesh=None) -> Callable:
  """The jitted training chunk as the trainer runs it: :func:`make_train_chunk`, over the
  seeds (:func:`over_seeds`) when ``num_seeds`` > 1, with the state donated.

  With a ``mesh`` (:func:`jaxgen.scale.mesh.build_mesh`) the chunk is partitioned: the
  batch over ``data``, the seeds over ``runs`` (``jax.shard_map``, manual over ``runs``
  only: each device row runs :func:`over_seeds` on its own seeds, with no communication),
  the state and metrics placed accordingly, the training split and scalars replicated.
  """
  fn = make_train_chunk(model, config, num_train, chunk)
  if num_seeds > 1:
    fn = over_seeds(fn, config.seed_batching)
  if mesh is None:
    return jax.jit(fn, donate_argnums=0)
  if num_seeds > 1 and mesh.shape[mesh_lib.RUNS] > 1:
    runs = P(mesh_lib.RUNS)
    fn = jax.shard_map(fn, mesh=mesh, in_specs=(runs, P(), runs, runs, P()),
                       out_specs=(runs, runs), axis_names={mesh_lib.RUNS}, check_vma=False)
  per_seed, same = mesh_lib.seed_sharding(mesh, num_seeds), mesh_lib.replicated(mesh)
  return mesh_lib.OnMesh(jax.jit(fn, in_shardings=(per_seed, same, per_seed, per_seed, same),
                                 out_shardings=(per_seed, per_seed), donate_argnums=0), mesh)
