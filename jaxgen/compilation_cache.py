"""XLA's persistent compilation cache, on by default for the driver and ``jaxgen.load``.

A process that compiles a program (a training chunk, ``model.init``, a decoder) writes it to
the cache directory; a later process with the same program, shapes, jax version and
processor loads it instead of compiling. The loaded program is the one compiled before, so
results are bit-identical with and without the cache.

Where it lives: ``$JAXGEN_COMPILATION_CACHE`` if set (``off``, ``0``, ``false``, ``none`` or
an empty value turn it off), else ``$XDG_CACHE_HOME/jaxgen/xla`` (``~/.cache/jaxgen/xla``).
"""
from __future__ import annotations

import os
from typing import Optional

import jax

ENV = "JAXGEN_COMPILATION_CACHE"
OFF = ("", "0", "off", "false", "none", "no")


def default_directory() -> Optional[str]:
  """The cache directory jaxgen uses unless told otherwise (None: the cache is off)."""
  if ENV in os.environ:
    value = os.environ[ENV].strip()
    return None if value.lower() in OFF else os.path.expanduser(value)
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, "jaxgen", "xla")


def use_compilation_cache(directory: Optional[str] = None) -> bool:
  """Keeps XLA's compiled programs in ``directory`` (default: :func:`default_directory`),
  every program however small. ``''`` leaves JAX's setting alone. Returns whether the cache
  is on (False if it is off or ``directory`` cannot be created)."""
  directory = default_directory() if directory is None else os.path.expanduser(directory)
  if not directory:
    return False
  try:
    os.makedirs(directory, exist_ok=True)
  except OSError:
    return False
  jax.config.update("jax_compilation_cache_dir", directory)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return True


def use_default_cache() -> bool:
  """Turns the default cache on unless the process already has one (a directory set in
  ``jax.config``, e.g. by the user or ``JAX_COMPILATION_CACHE_DIR``): what ``jaxgen.load``
  calls. Returns whether a cache is on."""
  if jax.config.jax_compilation_cache_dir:
    return True
  return use_compilation_cache()
