"""Training data that streams from the host, for splits that do not fit on the device.

The on-device pipeline (:mod:`jaxgen.data.pipeline`) keeps the whole training split on the
device and gathers each step's rows there. When the split is too large for the device
(``dataset.stream='auto'`` and the split takes more than half the device's memory), or a
config asks for it (``dataset.stream='host'``), the split stays in host memory and the rows
of every step are gathered on the host instead, ``steps_per_call`` steps at a time, by a
`grain <https://google-grain.readthedocs.io>`_ pipeline: worker threads gather the next
calls' batches and put them on the device while the current call trains (``prefetch``
calls ahead). The trainer feeds them to the same compiled steps
(:func:`jaxgen.train.steps.make_streamed_chunk`).

The rows are exactly those of the on-device path: step ``t`` of a seed whose data key is
``k`` reads positions ``perm[(t % S) * B : (t % S + 1) * B]`` of
``perm = jax.random.permutation(fold_in(k, t // S), N)`` (computed by the same JAX function,
on the device, once per epoch), so a streamed run and an on-device run of one config and
seed are bit-identical (``tests/data/test_streaming.py``).

Across processes (:mod:`jaxgen.scale.distributed`) each process gathers only the rows and
seeds that its own devices hold (the batch is split over the mesh's ``data`` axis, the
seeds over ``runs``): it reads its shard of every batch and nothing else.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterator, Optional

import jax
import numpy as np

from jaxgen.batching import num_rows
from jaxgen.data import pipeline

STREAM_MODES = ("auto", "device", "host")
DEVICE_SHARE = 0.5        # 'auto' streams a split larger than this share of device memory


def split_bytes(split) -> int:
  """Bytes of a split (an array, or a dict of arrays)."""
  return int(sum(np.asarray(a).nbytes for a in jax.tree.leaves(split)))


def device_memory() -> Optional[int]:
  """The memory of JAX's first device in bytes, where the backend reports it (GPUs, TPUs);
  None on CPU, whose device memory is the host's."""
  try:
    stats = jax.devices()[0].memory_stats()
  except Exception:   # noqa: BLE001 - some backends do not implement it
    return None
  return int(stats["bytes_limit"]) if stats and "bytes_limit" in stats else None


def streams(mode: str, split, memory: Optional[int] = None) -> bool:
  """Whether a training split streams from the host: ``mode`` 'host' always, 'device'
  never, 'auto' when the split takes more than :data:`DEVICE_SHARE` of the device memory
  ``memory`` (default: :func:`device_memory`; unknown, as on CPU: never)."""
  if mode not in STREAM_MODES:
    raise ValueError(f"dataset.stream must be one of {STREAM_MODES}, got {mode!r}")
  if mode != "auto":
    return mode == "host"
  memory = device_memory() if memory is None else memory
  return memory is not None and split_bytes(split) > DEVICE_SHARE * memory


def steps_per_call(chunk: int, step_bytes: int, budget_bytes: int) -> int:
  """The largest divisor of ``chunk`` whose steps' batches (``step_bytes`` each) fit in
  ``budget_bytes``: how many steps one streamed call trains (at least 1)."""
  best = 1
  for d in range(1, chunk + 1):
    if chunk % d == 0 and d * step_bytes <= budget_bytes:
      best = d
  return best


class Permutations:
  """The epoch orders of one or several seeds' data keys, as host arrays: computed by
  :func:`jaxgen.data.pipeline.epoch_permutation` (compiled, on the default device: the same
  values as the on-device chunk computes), once per seed and epoch, shared by the reader's
  threads."""

  def __init__(self, data_keys: np.ndarray, num_examples: int):
    keys = np.asarray(data_keys)
    if keys.ndim > 2:
      raise ValueError(f"data keys must be one key [2] or one per seed [S, 2], got shape "
                       f"{keys.shape}")
    self.keys = keys.reshape(-1, 2)
    self.num_examples = num_examples
    self._fn = jax.jit(pipeline.epoch_permutation, static_argnums=2)
    self._cache: dict[tuple[int, int], np.ndarray] = {}
    self._lock = threading.Lock()

  def __call__(self, seed: int, epoch: int) -> np.ndarray:
    with self._lock:
      got = self._cache.get((seed, epoch))
      if got is None:
        got = np.asarray(self._fn(self.keys[seed], np.int32(epoch), self.num_examples))
        # a run moves forward: the orders of earlier epochs are not needed again
        self._cache = {k: v for k, v in self._cache.items() if k[1] >= epoch - 1}
        self._cache[(seed, epoch)] = got
      return got


def step_positions(perms: Permutations, seed: int, step: int, batch_size: int,
                   rows: slice = slice(None)) -> np.ndarray:
  """Positions in the split of the rows ``rows`` of ``seed``'s batch at ``step`` (all its
  rows by default): what :func:`jaxgen.data.pipeline.batch_at` gathers on the device."""
  spe = pipeline.steps_per_epoch(perms.num_examples, batch_size)
  perm = perms(seed, step // spe)
  batch = perm[(step % spe) * batch_size:(step % spe + 1) * batch_size]
  return batch[rows]


def _take(split, positions: np.ndarray):
  return jax.tree.map(lambda a: np.take(a, positions, axis=0), split)


class HostReader:
  """Gathers the batches of consecutive streamed calls on the host and puts them on the
  device, ahead of time, with grain.

  ``split`` is the raw training split in host memory (an array or a dict of arrays; a
  ``np.memmap`` works too: only the rows read are touched). Each call's batches are one
  array (per leaf) of shape ``[steps_per_call, rows]`` + example shape, or with several
  seeds ``[seeds, steps_per_call, rows, ...]``, where ``seeds`` and ``rows`` are the slices
  of the seeds and of each batch's rows that this process holds (all of them in one
  process). ``put`` turns the host arrays into device arrays (default ``jax.device_put``).
  """

  def __init__(self, split, data_keys, batch_size: int, steps_per_call: int,
               multi_seed: bool, seeds: slice = slice(None), rows: slice = slice(None),
               put: Optional[Callable[[Any], Any]] = None, prefetch: int = 2,
               threads: int = 2):
    self.split = split
    self.perms = Permutations(data_keys, num_rows(split))
    self.batch_size, self.steps_per_call = batch_size, steps_per_call
    self.multi_seed = multi_seed
    self.seed_ids = list(range(len(self.perms.keys)))[seeds]
    self.rows = rows
    self.put = put or jax.device_put
    self.prefetch, self.threads = max(1, prefetch), max(1, threads)
    self.read = 0           # examples gathered so far (this process's rows only)
    self._lock = threading.Lock()

  def gather(self, start: int):
    """The host batches of the call that starts at step ``start``."""
    per_seed = []
    for seed in self.seed_ids:
      positions = np.concatenate([
          step_positions(self.perms, seed, t, self.batch_size, self.rows)
          for t in range(start, start + self.steps_per_call)])
      with self._lock:
        self.read += positions.size
      rows = _take(self.split, positions)
      per_seed.append(jax.tree.map(
          lambda a: a.reshape((self.steps_per_call, -1) + a.shape[1:]), rows))
    if not self.multi_seed:
      return per_seed[0]
    return jax.tree.map(lambda *a: np.stack(a), *per_seed)

  def calls(self, start: int, stop: int) -> Iterator[Any]:
    """The device batches of the calls starting at ``start``, ``start + steps_per_call``,
    ... below ``stop``, in order, gathered and put ``prefetch`` calls ahead by grain's
    threads."""
    import grain  # lazy: only a streamed run needs grain (0.3 s to import)
    ds = grain.MapDataset.range(start, stop, self.steps_per_call).map(
        lambda t: self.put(self.gather(int(t))))
    options = grain.ReadOptions(num_threads=self.threads, prefetch_buffer_size=self.prefetch)
    return iter(ds.to_iter_dataset(options))
