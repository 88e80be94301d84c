"""The device mesh: where a training run's arrays live and how its step is partitioned.

A mesh of ``runs`` x ``data`` devices (``config.mesh``; default: the seeds over as many
devices as divide them, every device left on ``data``; on the CPU jaxgen's one device per
core serves the seeds only, :func:`mesh_shape`):

- ``data``: the global batch is split over it; each device computes the loss and gradients
  of its slice and XLA inserts the all-reduce (``jax.jit`` with ``NamedSharding``s, the
  batch constrained to ``P('data')`` inside the scanned step: no second loop, no model
  code changed). Parameters and optimizer states are replicated over it. Batch statistics
  (BatchNorm) and minibatch discrimination see the whole global batch, as on one device.
- ``runs``: the seeds of a multi-seed run (``num_seeds`` > 1) are laid over it with
  ``jax.shard_map``: each device row trains whole seeds, with no communication at all.

The training split is replicated on every device and every device gathers its own rows of
each batch from it, so no batch ever crosses a device boundary; across processes each
process computes the same global batch order from the same keys. Evaluation runs on each
process's first device on a gathered copy of the state (:func:`local_copy`).
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jaxgen import config as config_lib
from jaxgen import xla_options
from jaxgen.scale.sharding import DATA

RUNS = "runs"


def auto_runs(config, num_devices: int, data: int) -> int:
  """``mesh.runs`` = 0: the most devices the seeds split over evenly (each device row trains
  whole seeds, no communication) — within ``num_devices`` with ``data`` devices per row,
  or, with ``data`` = 0, a divisor of the devices, which then share out the rest. 1 under
  ``seed_batching='vmap'``: a vmapped seed's last bits depend on its device row's program
  (measured: 5e-6 apart after 50 ``gan_ring`` steps on 1 or 2 rows), while under ``'map'``
  every seed stays bit-identical to its single-seed run on any mesh."""
  seeds = int(config.num_seeds)
  if config.seed_batching == "vmap":
    return 1
  return max((d for d in range(1, seeds + 1) if seeds % d == 0
              and (d * data <= num_devices if data else num_devices % d == 0)), default=1)


def mesh_shape(config, num_devices: int | None = None,
               seeds_only: bool | None = None) -> tuple[int, int]:
  """(runs, data) devices of ``config.mesh`` on ``num_devices`` (default: all of JAX's).

  ``mesh.runs`` = 0 (the default) is :func:`auto_runs`; ``mesh.data`` = 0 takes every
  device the runs leave, except where the devices serve the seeds only (``seeds_only``;
  default: jaxgen's own CPU devices, one per core, in a single process,
  :func:`jaxgen.xla_options.own_cpu_devices`): there it is 1, since those devices share the
  cores that XLA already spreads one batch's operations over, and a split batch would only
  change the last bits. ConfigError (one line, the fix) if the mesh does not fit the
  devices, the batch or the seeds."""
  n = jax.device_count() if num_devices is None else num_devices
  if seeds_only is None:
    seeds_only = (xla_options.own_cpu_devices() and jax.default_backend() == "cpu"
                  and jax.process_count() == 1)
  runs, data = int(config.mesh.runs), int(config.mesh.data)
  if runs < 0 or data < 0:
    raise config_lib.ConfigError(f"config.mesh.runs and mesh.data must be >= 0 (runs 0: as many "
                                 f"devices as divide the seeds; data 0: every device the runs "
                                 f"leave), got runs={runs}, data={data}; set "
                                 f"--config.mesh.runs=0 --config.mesh.data=0")
  if data == 0 and seeds_only:
    data = 1
  if runs == 0:
    runs = auto_runs(config, n, data)
  if data == 0:
    if n % runs:
      raise config_lib.ConfigError(f"config.mesh.runs={runs} does not divide the {n} devices; "
                                   f"use --config.mesh.runs with a divisor of {n}")
    data = n // runs
  if runs * data > n:
    raise config_lib.ConfigError(f"config.mesh asks for {runs} x {data} = {runs * data} devices, "
                                 f"but there are {n}; lower --config.mesh.data / mesh.runs "
                                 f"(0: every device)")
  if jax.process_count() > 1 and runs * data != n:
    raise config_lib.ConfigError(f"with {jax.process_count()} processes the mesh must hold all "
                                 f"{n} devices, got {runs} x {data}; set --config.mesh.data=0")
  if config.batch_size % data:
    raise config_lib.ConfigError(
        f"config.batch_size={config.batch_size} does not split over the {data} devices of the "
        f"data axis; use a multiple of {data} (e.g. --config.batch_size="
        f"{-(-config.batch_size // data) * data}) or set --config.mesh.data")
  if runs > 1 and config.num_seeds % runs:
    raise config_lib.ConfigError(f"config.num_seeds={config.num_seeds} does not split over the "
                                 f"{runs} devices of the runs axis; use a multiple of {runs} "
                                 f"or set --config.mesh.runs")
  return runs, data


def build_mesh(config) -> Mesh:
  """The ``(runs, data)`` mesh of ``config`` over the first runs x data devices (in
  ``jax.devices()`` order: one process's devices are contiguous, so a runs row stays on
  as few processes as possible and ``data`` traffic stays inside them where it can)."""
  runs, data = mesh_shape(config)
  devices = np.array(jax.devices()[:runs * data]).reshape(runs, data)
  return Mesh(devices, (RUNS, DATA))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def seed_sharding(mesh: Mesh, num_seeds: int) -> NamedSharding:
  """Where a per-seed array lives: its leading seed axis over ``runs`` (several seeds), or
  replicated (one seed)."""
  return NamedSharding(mesh, P(RUNS) if num_seeds > 1 else P())


class OnMesh:
  """A jitted function traced, compiled and called inside ``jax.set_mesh(mesh)``, so that
  :func:`jaxgen.scale.sharding.batch_rows` in its body (the batch, a GAN's noise) knows the mesh.
  Called like the jitted function; ``lower`` as well."""

  def __init__(self, jitted, mesh: Mesh):
    self.jitted, self.mesh = jitted, mesh

  def __call__(self, *args):
    with jax.set_mesh(self.mesh):
      return self.jitted(*args)

  def lower(self, *args):
    with jax.set_mesh(self.mesh):
      return self.jitted.lower(*args)


def put(tree: Any, sharding: NamedSharding) -> Any:
  """``tree`` (host or single-device arrays, the same value in every process) as global
  arrays with ``sharding``. In one process a ``device_put``; across processes each process
  places only its own devices' shards (nothing crosses the network)."""
  if jax.process_count() == 1:
    return jax.device_put(tree, sharding)

  def one(x):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])
  return jax.tree.map(one, tree)


def fetch(tree: Any) -> Any:
  """``tree`` as host NumPy arrays in every process (``jax.device_get``; arrays with shards
  in other processes are gathered first: every process must call this together)."""
  if jax.process_count() == 1:
    return jax.device_get(tree)

  def one(x):
    if isinstance(x, jax.Array) and not x.is_fully_addressable and not x.is_fully_replicated:
      return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
      return np.asarray(x.addressable_data(0))
    return np.asarray(jax.device_get(x))
  return jax.tree.map(one, tree)


def local_copy(tree: Any) -> Any:
  """``tree`` on this process's first device, for evaluation, pictures and other
  single-device code: unchanged if it already lives on one device; otherwise gathered
  (every process must call this together when it spans processes)."""
  leaves = jax.tree.leaves(tree)
  if all(not isinstance(x, jax.Array) or len(x.sharding.device_set) == 1 for x in leaves):
    return tree
  if jax.process_count() == 1:
    return jax.device_put(tree, jax.local_devices()[0])
  return jax.tree.map(jnp.asarray, fetch(tree))


def for_checkpoint(tree: Any) -> Any:
  """What the trainer hands to the checkpointer: in one process the state on one device
  (orbax then writes each array once, instead of fetching every device's replica slice;
  restoring into a template on any mesh reshards it), across processes the global arrays
  (each process writes its own shards)."""
  return local_copy(tree) if jax.process_count() == 1 else tree
