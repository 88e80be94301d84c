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


def flags_to_add(xla_flags: str, environ=None) -> list[str]:
  """The ``--name=value`` flags of :data:`DEFAULTS` that ``xla_flags`` does not set already
  (none when ``JAXGEN_XLA_DEFAULTS=off`` in ``environ``)."""
  environ = os.environ if environ is None else environ
  if environ.get(SWITCH, "").strip().lower() in ("off", "0", "false", "no"):
    return []
  return [f"--{name}={value}" for name, value in DEFAULTS.items() if f"--{name}" not in xla_flags]


def apply(environ=None) -> list[str]:
  """Adds jaxgen's XLA defaults to ``environ['XLA_FLAGS']`` (``os.environ`` by default)
  where missing; returns the flags added. Warns if JAX's backend already started, when
  they can no longer apply."""
  environ = os.environ if environ is None else environ
  current = environ.get("XLA_FLAGS", "")
  added = flags_to_add(current, environ)
  if not added:
    return []
  environ["XLA_FLAGS"] = " ".join([current.strip()] + added).strip()
  if environ is os.environ and _backend_started():
    warnings.warn(f"jaxgen's XLA defaults ({' '.join(added)}) cannot apply: JAX's backend "
                  "started before jaxgen was imported; import jaxgen first for results "
                  "identical to train.py's", RuntimeWarning, stacklevel=3)
  return added


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
