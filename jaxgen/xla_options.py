"""jaxgen's defaults for XLA's own options, applied when jaxgen is imported.

XLA reads ``XLA_FLAGS`` once, when JAX starts its backend (at the first computation), so
``import jaxgen`` adds these to the environment variable before that, unless the variable
already names the option (yours wins) or ``JAXGEN_XLA_DEFAULTS=off``:

* ``--xla_cpu_experimental_ynn_fusion_type=`` (an empty list): XLA:CPU's matrix products
  run on its own Eigen-based kernels instead of YNNPACK's, which XLA uses by default for a
  single dot ("individual dot"). Measured on a 2-core AMD EPYC with AVX-512 (family 25,
  model 17), jax 0.10.2: ``vae_mnist`` 11% more examples/s, ``dcgan_mnist`` 23%, the 64×64
  DCGAN 7%, ``gan_grid_mbd_b256`` 19% (results record, Speed). Results stay bit-identical
  run to run with it, as with XLA's default (the test suite's reproducibility tests run
  under it), but differ in the last bits from runs made without it — the runs recorded
  before this default among them (their ``environment.json`` lists no such flag). ``XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=individual_dot``
  or ``JAXGEN_XLA_DEFAULTS=off`` restores XLA's own default.

If JAX's backend is already running when jaxgen is imported (a computation ran first), the
defaults cannot take effect; jaxgen warns once, since results then differ in the last bits
from ``train.py``'s.
"""
from __future__ import annotations

import os
import warnings

# option name -> value; each measured (module docstring, results record "Speed")
DEFAULTS: dict[str, str] = {"xla_cpu_experimental_ynn_fusion_type": ""}
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
