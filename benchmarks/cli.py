"""What the benchmark scripts share: configs named on the command line, and a header
naming the machine (every timing is only meaningful next to it)."""
from __future__ import annotations

import ast
import importlib
import json
import os

import jax

from jaxgen.xla_options import cpu_has_avx512, cpu_info


def override(config, item: str) -> None:
  """Applies ``item`` = 'dotted.key=value' (a Python literal, or else a plain string, e.g.
  seed_batching=vmap) to ``config``."""
  key, value = item.split("=", 1)
  *path, last = key.split(".")
  target = config
  for p in path:
    target = target[p]
  try:
    value = ast.literal_eval(value)
  except (ValueError, SyntaxError):
    pass
  target[last] = value


def load_config(spec: str):
  """The config named by ``spec`` ('name,key=value,...': a file in configs/ and overrides;
  a piece without '=' continues the previous value, so ``gan.augment=color,cutout`` is one
  override)."""
  name, *pieces = spec.split(",")
  items: list[str] = []
  for piece in pieces:
    if "=" in piece or not items:
      items.append(piece)
    else:
      items[-1] += "," + piece
  config = importlib.import_module(f"configs.{name}").get_config()
  for item in items:
    override(config, item)
  return config


def machine_line() -> str:
  """One line: backend, device, CPU model and vector extensions, jax version."""
  cpu = cpu_info()
  avx512 = cpu_has_avx512()
  return (f"jax {jax.__version__}, backend {jax.default_backend()}, "
          f"{jax.devices()[0].device_kind}; CPU {cpu['model']} ({cpu['cores']} cores, "
          f"{'AVX-512' if avx512 else 'no AVX-512'})")


def write_report(report: dict, path: str) -> None:
  """Writes ``report`` as JSON to ``path`` (its folder created) and says so; nothing when
  ``path`` is empty (the ``--out`` of a benchmark left out)."""
  if not path:
    return
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  with open(path, "w") as f:
    json.dump(report, f, indent=1)
  print(f"wrote {path}")
