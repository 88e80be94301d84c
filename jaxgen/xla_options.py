"""jaxgen's defaults for XLA's own options, applied when jaxgen is imported, and the
processor facts jaxgen's choices depend on (:func:`cpu_info`).

XLA reads ``XLA_FLAGS`` once, when JAX starts its backend (at the first computation), so
``import jaxgen`` adds these to the environment variable before that, unless the variable
already names the option (yours wins) or ``JAXGEN_XLA_DEFAULTS=off``:

* ``--xla_cpu_experimental_ynn_fusion_type=reduce``: of the work XLA:CPU hands to
  YNNPACK by default (single matrix products, "individual dot", and reductions), only the
  reductions stay there; matrix products run on XLA's own Eigen-based kernels. Measured on
  a 2-core AMD EPYC with AVX-512 (family 25, model 17), jax 0.10.2, three rounds
  alternating with XLA's default: ms per step of ``dcgan_mnist`` 1.26x faster, the 64x64
  DCGAN at batch 64 1.23x, ``gan_grid_mbd_b256`` 1.08x, ``vae_mnist`` equal, the small
  ``gan_ring`` MLPs 7% slower (results record, Speed). The previous default, the empty
  list, also took the reductions off YNNPACK: XLA then runs a large reduction (BatchNorm's
  statistics over an image batch) as a reduce-window loop, 5-30x slower (13.2 against
  0.42 ms for a 64x32x32x64 batch) and less accurate (relative error 8e-6 against 1e-7),
  136 ms of a 1.10 s 64x64 DCGAN step. Results stay bit-identical run to run with it, as
  with XLA's default (the test suite's reproducibility tests run under it), but differ in
  the last bits from runs made under another setting — the runs recorded before this
  default among them (their ``environment.json`` lists the flag they ran under, or none).
  ``JAXGEN_XLA_DEFAULTS=off`` restores XLA's own default.

And one JAX option, set the same way (not when ``XLA_FLAGS`` names
``--xla_force_host_platform_device_count``, ``JAX_NUM_CPU_DEVICES`` is set, or
``JAXGEN_XLA_DEFAULTS=off``):

* ``jax_num_cpu_devices`` = the usable cores (:func:`usable_cores`, when more than one): one
  CPU device per core, so that the seeds of a multi-seed run train concurrently, a group
  per core (:func:`jaxgen.scale.mesh.mesh_shape` lays them over these devices; it never
  splits a batch over them: :func:`own_cpu_devices`). XLA:CPU runs one small model's step on
  one core however many it has: on a 2-core AMD EPYC the 10-seed ``gan_ring`` took 8.7 ms
  per step on one device, 8.0 pinned to one core, 4.1 over two devices (results record,
  Speed). A single-seed run, and so every figure of a single-seed config, is unchanged;
  each seed of a multi-seed run (``seed_batching='map'``) stays bit-identical to its
  single-seed run.

If JAX's backend is already running when jaxgen is imported (a computation ran first), the
defaults cannot take effect; jaxgen warns once, since results then differ in the last bits
from ``train.py``'s.
"""
from __future__ import annotations

import os
import platform
import warnings

# option name -> value; each measured (module docstring, results record "Speed")
DEFAULTS: dict[str, str] = {"xla_cpu_experimental_ynn_fusion_type": "reduce"}
SWITCH = "JAXGEN_XLA_DEFAULTS"
HOST_DEVICES_FLAG = "--xla_force_host_platform_device_count"
_own_cpu_devices: int | None = None   # the CPU device count jaxgen set (not the user)


def _switched_off(environ) -> bool:
  return environ.get(SWITCH, "").strip().lower() in ("off", "0", "false", "no")


def flags_to_add(xla_flags: str, environ=None) -> list[str]:
  """The ``--name=value`` flags of :data:`DEFAULTS` that ``xla_flags`` does not set already
  (none when ``JAXGEN_XLA_DEFAULTS=off`` in ``environ``)."""
  environ = os.environ if environ is None else environ
  if _switched_off(environ):
    return []
  return [f"--{name}={value}" for name, value in DEFAULTS.items() if f"--{name}" not in xla_flags]


def apply(environ=None) -> list[str]:
  """Adds jaxgen's XLA defaults to ``environ['XLA_FLAGS']`` (``os.environ`` by default)
  where missing and, for this process (``os.environ`` only), its CPU device count
  (:func:`cpu_devices_to_set`); returns the flags added. Warns if JAX's backend already
  started, when they can no longer apply."""
  environ = os.environ if environ is None else environ
  current = environ.get("XLA_FLAGS", "")
  added = flags_to_add(current, environ)
  if added:
    environ["XLA_FLAGS"] = " ".join([current.strip()] + added).strip()
  devices = cpu_devices_to_set(current, environ) if environ is os.environ else None
  if not (added or devices):
    return []
  if environ is os.environ and _backend_started():
    what = " ".join(added + ([f"jax_num_cpu_devices={devices}"] if devices else []))
    warnings.warn(f"jaxgen's XLA defaults ({what}) cannot apply: JAX's backend "
                  "started before jaxgen was imported; import jaxgen first for results "
                  "identical to train.py's", RuntimeWarning, stacklevel=3)
  elif devices:
    set_cpu_devices(devices, own=True)
  return added


def usable_cores() -> int:
  """The cores this process may run on (its CPU affinity where the system tells it)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:   # not Linux
    return os.cpu_count() or 1


def cpu_devices_to_set(xla_flags: str, environ=None) -> int | None:
  """The CPU device count jaxgen gives JAX (``jax_num_cpu_devices``): one per usable core,
  or None where the user chose (``XLA_FLAGS`` names ``--xla_force_host_platform_device_count``,
  or ``JAX_NUM_CPU_DEVICES`` is set), the defaults are off, or there is one core."""
  environ = os.environ if environ is None else environ
  if _switched_off(environ) or HOST_DEVICES_FLAG in xla_flags or environ.get("JAX_NUM_CPU_DEVICES"):
    return None
  cores = usable_cores()
  return cores if cores > 1 else None


def set_cpu_devices(count: int, own: bool = False) -> None:
  """Gives JAX ``count`` CPU devices (``jax_num_cpu_devices``; before its backend starts).
  ``own``: jaxgen's per-core default (:func:`own_cpu_devices`), not devices a user asked
  for (``train.py --cpu_devices``, the launcher), over which the batch may be split."""
  global _own_cpu_devices
  import jax  # lazy: XLA_FLAGS must be set before jax is imported by anything jaxgen imports
  jax.config.update("jax_num_cpu_devices", int(count))
  _own_cpu_devices = int(count) if own else None


def own_cpu_devices() -> bool:
  """Whether this process's CPU devices are jaxgen's default, one per core (set at import,
  not by the user since): they serve the seeds of a multi-seed run, never a split batch
  (:func:`jaxgen.scale.mesh.mesh_shape`)."""
  if _own_cpu_devices is None:
    return False
  import jax  # lazy: as in set_cpu_devices
  return jax.config.jax_num_cpu_devices == _own_cpu_devices


def _backend_started() -> bool:
  try:
    from jax._src import xla_bridge  # lazy: a private module, only to ask whether JAX started
  except ImportError:                # pragma: no cover - another JAX layout: cannot tell
    return False
  started = getattr(xla_bridge, "backends_are_initialized", None)
  return bool(started and started())


def cpu_info() -> dict:
  """The processor's model name, family and model numbers (x86 Linux) and its vector
  extensions (AVX, AVX2, AVX-512, FMA, ...).

  XLA:CPU compiles for the instructions it finds, so CPU results are bit-identical for
  the same processor family, not across families (README, "Reproducibility").
  """
  model, flags, ids = platform.processor() or platform.machine(), [], {}
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name":
          model = value.strip()
        elif key in ("flags", "Features"):
          flags = value.split()
        elif key in ("cpu family", "model") and value.strip().isdigit():
          ids.setdefault("family" if key == "cpu family" else "model_number", int(value))
        elif not line.strip() and flags:    # the end of the first processor's block
          break
  except OSError:          # not Linux: the model name from platform only
    pass
  vector = sorted({f for f in flags if f.startswith(("avx", "fma", "sse4", "amx", "asimd", "sve"))})
  return {"model": model, **ids, "vector_extensions": vector, "cores": os.cpu_count()}


def cpu_has_avx512() -> bool:
  """Whether this machine's processor has AVX-512 (``avx512f``)."""
  return "avx512f" in cpu_info()["vector_extensions"]
