"""Many processes: joining them with ``jax.distributed``, and noticing when one dies.

Every process runs the same program on its own devices; ``jax.devices()`` then lists the
devices of all processes and the training mesh (:mod:`jaxgen.scale.mesh`) spans them. The
processes find each other through a coordinator (process 0's address), given

- by :mod:`jaxgen.scale.launch` (local processes, environment variables ``JAXGEN_*``),
- by ``train.py``'s flags ``--coordinator_address --num_processes --process_id``,
- or detected by JAX from the cluster (``--distributed=auto``: SLURM, Open MPI, Kubernetes,
  Cloud TPU).

Only process 0 writes (logs, pictures, ``eval.json``; :func:`is_writer`); checkpoints are
written by all processes together through orbax. A :class:`PeerWatchdog` turns the death
of a peer into one line and a non-zero exit within ``peer_timeout`` seconds, instead of a
hang in a collective (JAX's own heartbeat check, which aborts with a C++ stack trace, is
set to fire later as the backstop).
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import time
from typing import Any, Callable, Optional, TypeVar

import jax
import numpy as np
from jax.experimental import multihost_utils

from jaxgen import xla_options

ENV_COORDINATOR = "JAXGEN_COORDINATOR_ADDRESS"
ENV_NUM_PROCESSES = "JAXGEN_NUM_PROCESSES"
ENV_PROCESS_ID = "JAXGEN_PROCESS_ID"
ENV_CPU_DEVICES = "JAXGEN_CPU_DEVICES"
ENV_PEER_TIMEOUT = "JAXGEN_PEER_TIMEOUT"
DEFAULT_PEER_TIMEOUT = 60.0
PEER_DIED_EXIT_CODE = 3

_watchdog: Optional["PeerWatchdog"] = None
_F = TypeVar("_F", bound=Callable[..., Any])


class DistributedError(RuntimeError):
  """The processes could not be joined (bad address, count or id); the message has the fix."""


def use_cpu_devices(count: int) -> None:
  """``count`` CPU devices in this process, with the gloo collectives between processes
  (for trying a multi-device or multi-process run on one machine). Call before anything
  touches a JAX device."""
  jax.config.update("jax_platforms", "cpu")
  xla_options.set_cpu_devices(count)           # the user's devices: the batch may split over them
  jax.config.update("jax_cpu_collectives_implementation", "gloo")


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, auto: bool = False,
               peer_timeout: float = DEFAULT_PEER_TIMEOUT) -> bool:
  """Joins this process to the others (``jax.distributed.initialize``) and starts the
  :class:`PeerWatchdog`. With an address, count and id: those; with ``auto``: JAX's
  cluster detection (e.g. inside ``srun``). Returns False (and does nothing) for a single
  process. Call before anything touches a JAX device. DistributedError if the arguments do
  not make sense."""
  global _watchdog
  if not auto and coordinator_address is None:
    if num_processes not in (None, 1) or process_id not in (None, 0):
      raise DistributedError("--num_processes / --process_id need --coordinator_address "
                             "(host:port of process 0), or --distributed=auto under a cluster")
    return False
  if not auto:
    if num_processes is None or process_id is None:
      raise DistributedError("--coordinator_address needs --num_processes and --process_id")
    if num_processes < 1 or not 0 <= process_id < num_processes:
      raise DistributedError(f"--process_id must be in 0..{num_processes - 1} for "
                             f"--num_processes={num_processes}, got {process_id}")
    if num_processes == 1:
      return False
  # JAX's own heartbeat check aborts the process (a C++ stack trace); let ours speak first.
  backstop = int(2 * peer_timeout + 30)
  try:
    jax.distributed.initialize(coordinator_address, num_processes, process_id,
                               heartbeat_timeout_seconds=backstop)
  except (RuntimeError, ValueError) as e:
    first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
    raise DistributedError(f"could not join the processes ({first}); check the coordinator "
                           f"address and that every process got the same --num_processes")
  # Here, in the main thread, before the watchdog's thread exists: this first look at the
  # devices creates the backend (creating it from two threads at once fails).
  count, me = jax.process_count(), jax.process_index()
  if count > 1:
    _watchdog = PeerWatchdog(peer_timeout, me, count).start()
  return True


def initialize_from_env() -> bool:
  """:func:`initialize` from the ``JAXGEN_*`` variables :mod:`jaxgen.scale.launch` sets (with its
  CPU devices); False if they are absent."""
  if os.environ.get(ENV_CPU_DEVICES):
    use_cpu_devices(int(os.environ[ENV_CPU_DEVICES]))
  if not os.environ.get(ENV_COORDINATOR):
    return False
  return initialize(os.environ[ENV_COORDINATOR], int(os.environ[ENV_NUM_PROCESSES]),
                    int(os.environ[ENV_PROCESS_ID]),
                    peer_timeout=float(os.environ.get(ENV_PEER_TIMEOUT, DEFAULT_PEER_TIMEOUT)))


def is_writer() -> bool:
  """True in the process that writes logs, pictures and results (process 0)."""
  return jax.process_index() == 0


def any_process(flag: bool) -> bool:
  """True if ``flag`` is true in any process (every process must call this together);
  ``flag`` itself in a single process."""
  if jax.process_count() == 1:
    return bool(flag)
  return bool(np.any(multihost_utils.process_allgather(np.array([int(bool(flag))]))))


def barrier(name: str, timeout: float = 3600.0) -> None:
  """Waits (up to ``timeout`` s) until every process reaches the barrier ``name``; a no-op
  in one process. It goes through the coordination service, not the devices: the trainer
  meets here before its first collective, because the gloo collectives give the processes
  only 30 s to meet at their first use (one process may still be loading or compiling)."""
  if jax.process_count() > 1:
    _client().wait_at_barrier(name, int(timeout * 1000))


def set_describe(describe: Callable[[], str]) -> None:
  """What the watchdog adds to its line when a peer dies (e.g. where the last checkpoint
  is); a no-op without a watchdog."""
  if _watchdog is not None:
    _watchdog.describe = describe


def finished() -> None:
  """Tells the other processes this one ended normally (its silence is then no death)."""
  if _watchdog is not None:
    _watchdog.stop()


def watched(fn: _F) -> _F:
  """Decorates a function whose collectives may meet a dead peer. A collective often fails
  at once when a peer's connection closes (gloo: "Connection closed by peer"), before the
  watchdog has seen the peer's silence; then, instead of this error's traceback, the
  watchdog's verdict: it waits for it (up to the peer timeout), and if a peer is dead the
  watchdog ends the process with its one line and exit code :data:`PEER_DIED_EXIT_CODE`.
  jaxgen's own errors (a bad config, a preemption, ...) and errors with every peer alive
  are raised unchanged. (The runtime's error types vary: JaxRuntimeError, or ValueError
  from inside ``jax.jit``.)"""
  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    try:
      return fn(*args, **kwargs)
    except Exception as e:
      if _watchdog is not None and not type(e).__module__.startswith("jaxgen"):
        _watchdog.await_verdict()
      raise
  return wrapper  # type: ignore[return-value]


def _client():
  # jax.distributed keeps its key-value client here; it has no public accessor.
  from jax._src import distributed as jax_distributed  # lazy: private; only with a watchdog
  return jax_distributed.global_state.client


class PeerWatchdog:
  """Every ``interval`` seconds each process bumps its own counter in the coordinator's
  key-value store and reads the others'. A peer whose counter has not moved for
  ``timeout`` seconds (or a coordinator that no longer answers) is dead: the watchdog
  prints one line and ends this process with exit code :data:`PEER_DIED_EXIT_CODE`, even
  if the main thread is blocked in a collective. Counters are compared with this host's
  clock only, so clocks need not agree."""

  def __init__(self, timeout: float, process_index: int, process_count: int,
               interval: float = 1.0):
    # The thread never calls into JAX's backend (that may be torn down or being created
    # by the main thread): the process index and count are given here.
    self.timeout, self.interval = float(timeout), float(interval)
    self.me, self.count = int(process_index), int(process_count)
    self.describe: Callable[[], str] = lambda: ""
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, name="jaxgen-peer-watchdog", daemon=True)

  def start(self) -> "PeerWatchdog":
    self._thread.start()
    return self

  def stop(self) -> None:
    """Marks this process done (peers stop watching it) and stops watching."""
    if self._stop.is_set():
      return
    self._stop.set()
    try:
      _client().key_value_set(f"jaxgen/done/{self.me}", "1", allow_overwrite=True)
    except Exception:  # noqa: BLE001 - the coordinator may already be gone
      pass

  def await_verdict(self) -> None:
    """Waits until the watchdog has had time to see a dead peer (it then ends the
    process) or has stopped; returns if every peer is still alive after that."""
    if self._thread.is_alive() and not self._stop.is_set():
      self._thread.join(self.timeout + 3 * self.interval)

  def _die(self, what: str) -> None:
    if self._stop.is_set():
      return
    extra = ""
    try:
      extra = self.describe()
    except Exception:  # noqa: BLE001
      pass
    print(f"error: process {self.me}: {what}; stopping this process too"
          + (f". {extra}" if extra else ""), file=sys.stderr, flush=True)
    os._exit(PEER_DIED_EXIT_CODE)

  def _run(self) -> None:
    me, n = self.me, self.count
    client = _client()
    seen = {p: (None, time.monotonic()) for p in range(n) if p != me}
    count = 0
    while not self._stop.wait(self.interval):
      count += 1
      try:
        client.key_value_set(f"jaxgen/alive/{me}", str(count), allow_overwrite=True)
        for p, (last, since) in list(seen.items()):
          try:
            if client.key_value_try_get(f"jaxgen/done/{p}"):
              del seen[p]
              continue
          except Exception:  # noqa: BLE001 - not done (key absent)
            pass
          try:
            value = client.key_value_try_get(f"jaxgen/alive/{p}")
          except Exception:  # noqa: BLE001 - no heartbeat yet
            value = None
          now = time.monotonic()
          if value != last:
            seen[p] = (value, now)
          elif now - since > self.timeout:
            self._die(f"process {p} of {n} stopped answering (no heartbeat for "
                      f"{now - since:.0f} s)")
      except Exception as e:  # noqa: BLE001 - the coordinator (process 0) is gone
        if self._stop.is_set():
          return
        self._die(f"lost the coordinator, process 0 ({type(e).__name__})")
