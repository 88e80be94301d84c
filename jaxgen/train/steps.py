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

from jaxgen.batching import num_rows
from jaxgen.data import pipeline, streaming
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


def train_split(config, dataset, condition: str = "none"):
  """The raw training split as host arrays (statically binarized where the config says so);
  for a conditional model (``condition`` 'label' or 'image', the model's declared
  :attr:`condition`) ``{"x": examples, "cond": conditions}``: the labels, or the paired
  dataset's input images."""
  train = dataset.train
  if config.dataset.preprocess == "static_binarize":
    train = np.asarray(static_binarize(train, config.seed))
  train_c, _ = conditions(dataset, condition)
  return train if train_c is None else {"x": train, "cond": train_c}


def device_splits(config, dataset, keys: dict, condition: str = "none"):
  """The training split (raw, on the device: :func:`train_split`) and the preprocessed
  test split (on the device, binarized with the evaluation key of ``keys`` where the
  preprocessing draws; :func:`eval_split`). For a conditional model each split is
  ``{"x": examples, "cond": conditions}`` (test conditions that are images preprocessed
  like the examples, without randomness)."""
  train = jax.device_put(train_split(config, dataset, condition))
  return train, eval_split(config, dataset, keys, condition)


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


def make_step_on(model, config) -> Callable:
  """``fn(state, raw, t, train_key) -> (state, metrics)``: training step ``t`` on its raw
  batch ``raw`` (rows of the training split; for a conditional model examples and conditions
  together), preprocessed with the step's own key. Traced under a mesh (``jax.set_mesh``)
  the batch's rows are split over its ``data`` axis (XLA all-reduces the gradients). The
  body of both the on-device chunk (:func:`make_train_chunk`, which gathers ``raw`` from the
  split on the device) and the streamed one (:func:`make_streamed_chunk`, whose batches come
  from the host): the same ops on the same rows, so the same states."""
  mode = config.dataset.preprocess
  rate = float(config.dataset.perturb_rate)
  flips = bool(config.dataset.dihedral)

  def step_on(state, raw, t, train_key):
    raw = batch_rows(raw)
    k_prep, k_model = jax.random.split(jax.random.fold_in(train_key, t))
    batch = preprocess_batch(raw, k_prep, mode)
    if rate:                                  # the background model of a likelihood ratio
      batch = perturb(batch, jax.random.fold_in(k_prep, 1), rate, mode)
    if flips:                                 # flips and quarter turns, pairs kept aligned
      batch = dihedral(batch, jax.random.fold_in(k_prep, 2))
    return model.train_step(state, batch, k_model)

  return step_on


def make_step_at(model, config) -> Callable:
  """``fn(state, train_x, perm, t, train_key) -> (state, metrics)``: training step ``t`` on
  its batch of ``train_x`` (rows of the epoch permutation ``perm``): :func:`make_step_on`
  on the rows it gathers on the device (each device of a mesh's ``data`` axis gathers its
  own rows). The body of :func:`make_train_chunk`; benchmarks jit it alone."""
  batch_size = int(config.batch_size)
  step_on = make_step_on(model, config)

  def step_at(state, train_x, perm, t, train_key):
    return step_on(state, pipeline.batch_at(train_x, perm, t, batch_size), t, train_key)

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


def make_streamed_chunk(model, config, chunk: int) -> Callable:
  """``fn(state, batches, train_key, start) -> (state, metrics[chunk])``, not jitted: the
  steps ``start, ..., start + chunk - 1`` of :func:`make_train_chunk` on batches that came
  from the host (``batches[i]`` holds step ``start + i``'s raw rows, read by
  :mod:`jaxgen.data.streaming` in the order of the on-device permutation): the same step
  body, keys and rows, so the same states bit for bit."""
  step_on = make_step_on(model, config)

  def streamed_chunk(state, batches, train_key, start):
    def body(state, xs):
      t, raw = xs
      return step_on(state, raw, t, train_key)

    steps = start + jnp.arange(chunk, dtype=jnp.int32)
    return jax.lax.scan(body, state, (steps, batches))

  return streamed_chunk


def over_seeds(train_chunk: Callable, how: str,
               per_seed: tuple[bool, ...] = (True, False, True, True, False)) -> Callable:
  """Runs ``train_chunk`` for states stacked along a leading seed axis, in one program.

  ``per_seed`` marks the arguments that carry the seed axis (by default those of
  :func:`make_train_chunk`: the state and both keys, not the shared training split or the
  start step; a streamed chunk's batches are per seed too: each seed reads its own order).

  ``vmap`` batches the seeds (``jax.vmap`` over the whole state): fastest on accelerators,
  and each seed's result is the same for any number of seeds >= 2, but XLA's batched
  kernels round differently from the unbatched ones, so a seed differs in the last bits
  from its single-seed run (and chaotic GAN dynamics then amplify that). ``map`` runs the
  unbatched step for each seed in turn (``lax.map``) inside the same compiled call: every
  seed is bit-identical to its single-seed run, at about the same speed on CPU.
  """
  if how == "vmap":
    return jax.vmap(train_chunk, in_axes=tuple(0 if p else None for p in per_seed))

  def mapped(*args):
    mine = tuple(a for a, p in zip(args, per_seed) if p)

    def one(seed_args):
      it = iter(seed_args)
      return train_chunk(*(next(it) if p else a for a, p in zip(args, per_seed)))
    return jax.lax.map(one, mine)
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


def batches_sharding(mesh, num_seeds: int):
  """Where a streamed call's batches live: ``[steps, batch, ...]`` with the batch's rows
  over ``data``, or ``[seeds, steps, batch, ...]`` with the seeds also over ``runs``."""
  spec = P(mesh_lib.RUNS, None, mesh_lib.DATA) if num_seeds > 1 else P(None, mesh_lib.DATA)
  return jax.sharding.NamedSharding(mesh, spec)


def local_slices(sharding, shape: tuple, num_seeds: int, devices=None) -> tuple[slice, slice]:
  """(seeds, rows): the slices of the seeds and of each batch's rows that ``devices``
  (default: this process's) hold of a streamed call's batches of global ``shape`` placed
  with ``sharding`` (:func:`batches_sharding`): what this process reads from the host."""
  index = sharding.devices_indices_map(shape)
  devices = set(sharding.addressable_devices if devices is None else devices)
  mine = [ix for d, ix in index.items() if d in devices]

  def span(dim):
    lo = min(ix[dim].start or 0 for ix in mine)
    hi = max(shape[dim] if ix[dim].stop is None else ix[dim].stop for ix in mine)
    return slice(lo, hi)
  if num_seeds > 1:
    return span(0), span(2)
  return slice(None), span(1)


class StreamedChunk:
  """The trainer's chunk of ``length`` steps on a training split that stays in host memory
  (:mod:`jaxgen.data.streaming`), called like :func:`compile_train_chunk`'s function:
  ``chunk(state, train_x, train_key, data_key, start)`` with ``train_x`` the host split.

  It runs ``length // steps_per_call`` compiled calls of :func:`make_streamed_chunk` (as
  many steps per call as fit in ``dataset.stream_mb`` of batches), each on batches a
  :class:`~jaxgen.data.streaming.HostReader` gathered and put on the device while the
  previous call trained, and returns the state and the metrics of all ``length`` steps.
  The states equal :func:`compile_train_chunk`'s bit for bit. Consecutive calls continue
  one reader; a call at another step (a resumed run, a test) starts a new one.
  """

  def __init__(self, model, config, num_seeds: int, length: int, example_bytes: int,
               mesh=None):
    self.length, self.num_seeds = length, num_seeds
    self.batch_size, self.num_steps = int(config.batch_size), int(config.num_steps)
    self.prefetch = int(config.dataset.stream_prefetch)
    self.steps_per_call = streaming.steps_per_call(
        length, num_seeds * self.batch_size * example_bytes,
        int(config.dataset.stream_mb) << 20)
    fn = make_streamed_chunk(model, config, self.steps_per_call)
    if num_seeds > 1:
      fn = over_seeds(fn, config.seed_batching, per_seed=(True, True, True, False))
    if mesh is None:
      self.sharding = None
      self.jitted = jax.jit(fn, donate_argnums=0)
    else:
      if num_seeds > 1 and mesh.shape[mesh_lib.RUNS] > 1:
        runs = P(mesh_lib.RUNS)
        fn = jax.shard_map(fn, mesh=mesh, in_specs=(runs, runs, runs, P()),
                           out_specs=(runs, runs), axis_names={mesh_lib.RUNS},
                           check_vma=False)
      per_seed = mesh_lib.seed_sharding(mesh, num_seeds)
      self.sharding = batches_sharding(mesh, num_seeds)
      self.jitted = mesh_lib.OnMesh(jax.jit(
          fn, in_shardings=(per_seed, self.sharding, per_seed, mesh_lib.replicated(mesh)),
          out_shardings=(per_seed, per_seed), donate_argnums=0), mesh)
    self.reader = None
    self._calls, self._next, self._source, self._key = None, None, None, None

  def _start_reader(self, train_x, data_key, start: int) -> None:
    keys = np.asarray(mesh_lib.fetch(data_key))
    seeds, rows, put = slice(None), slice(None), None
    if self.sharding is not None:
      shape = self._global_shape(jax.tree.leaves(train_x)[0].shape[1:])
      seeds, rows = local_slices(self.sharding, shape, self.num_seeds)
      sharding, lead = self.sharding, 3 if self.num_seeds > 1 else 2
      if jax.process_count() == 1:
        put = lambda tree: jax.device_put(tree, sharding)   # noqa: E731
      else:                 # each process supplies its own rows and seeds only
        put = lambda tree: jax.tree.map(   # noqa: E731
            lambda a: jax.make_array_from_process_local_data(
                sharding, a, self._global_shape(a.shape[lead:])), tree)
    self.reader = streaming.HostReader(
        train_x, keys, self.batch_size, self.steps_per_call, self.num_seeds > 1,
        seeds=seeds, rows=rows, put=put, prefetch=self.prefetch)
    self._calls = self.reader.calls(start, max(self.num_steps, start + self.length))
    self._source, self._key = train_x, data_key

  def _global_shape(self, example_shape) -> tuple:
    lead = (self.num_seeds,) if self.num_seeds > 1 else ()
    return lead + (self.steps_per_call, self.batch_size) + tuple(example_shape)

  def __call__(self, state, train_x, train_key, data_key, start):
    start = int(start)
    if (self._calls is None or start != self._next or train_x is not self._source
        or data_key is not self._key):
      self._start_reader(train_x, data_key, start)
    metrics = []
    for i in range(self.length // self.steps_per_call):
      batches = next(self._calls)
      state, m = self.jitted(state, batches, train_key,
                             np.int32(start + i * self.steps_per_call))
      metrics.append(m)
    self._next = start + self.length
    if len(metrics) == 1:
      return state, metrics[0]
    axis = 1 if self.num_seeds > 1 else 0
    return state, jax.tree.map(lambda *m: jnp.concatenate(m, axis=axis), *metrics)


def compile_chunk_for(model, config, train_x, num_seeds: int, chunk: int, mesh=None,
                      streamed: bool = False) -> Callable:
  """The trainer's chunk for a training split ``train_x``: :func:`compile_train_chunk` for a
  split on the device, a :class:`StreamedChunk` for one that streams from the host; both
  called as ``chunk(state, train_x, train_key, data_key, start)``."""
  if not streamed:
    return compile_train_chunk(model, config, num_rows(train_x), num_seeds, chunk, mesh)
  example_bytes = sum(int(np.prod(a.shape[1:])) * np.dtype(a.dtype).itemsize
                      for a in jax.tree.leaves(train_x))
  return StreamedChunk(model, config, num_seeds, chunk, example_bytes, mesh)
