"""What a run writes besides checkpoints: ``metrics.jsonl``, TensorBoard events, pictures,
``config.json`` and ``environment.json`` (what a bit-for-bit result depends on)."""
from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from typing import Optional

import jax
import matplotlib.image
import numpy as np

from jaxgen.json_output import write_json
from jaxgen.plotting import save_image_grid, scatter_plot
from jaxgen.xla_options import cpu_info  # noqa: F401  (re-exported: outputs.cpu_info)


class MetricsWriter:
  """``metrics.jsonl`` (one JSON object per line) plus TensorBoard scalars and images.
  ``enabled=False`` (processes other than the writer of a multi-process run) writes
  nothing."""

  def __init__(self, workdir: str, data_info: Optional[dict] = None, enabled: bool = True):
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.samples_dir = os.path.join(workdir, "samples")
    self.info = data_info or {}
    self.enabled = enabled
    self.tb = None
    if enabled:
      from tensorboardX import SummaryWriter  # lazy: it imports torch when installed (+3 s)
      self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))

  def scalars(self, step: int, values: dict[str, float]) -> None:
    if not self.enabled:
      return
    with open(self.path, "a") as f:
      f.write(json.dumps({"step": step, **values}) + "\n")
    for k, v in values.items():
      self.tb.add_scalar(k, v, step)

  def images(self, step: int, pictures: dict[str, np.ndarray]) -> None:
    if not self.enabled:
      return
    for name, imgs in pictures.items():
      path = os.path.join(self.samples_dir, f"{name}_{step:07d}.png")
      grid = save_picture(path, imgs, self.info, title=f"{name}, step {step}")
      self.tb.add_image(name, grid, step, dataformats="HWC")

  def close(self):
    if self.tb is not None:
      self.tb.close()


def save_picture(path: str, data: np.ndarray, info: dict, title: str = "") -> np.ndarray:
  """Images [N, H, W, C] in [0, 1] become a grid PNG; 2-D points [N, 2] a scatter plot
  over the true modes (where ``info`` has them). Returns the picture as [H, W, C]."""
  data = np.asarray(data)
  if data.ndim == 2 and data.shape[1] == 2:
    scatter_plot(path, data, info.get("modes", np.zeros((0, 2))), info.get("std", 0.0), title)
    return matplotlib.image.imread(path)[..., :3]
  # A diverging model may emit NaN/Inf pixels: draw them black/white instead of failing.
  data = np.clip(np.nan_to_num(data.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0), 0, 1)
  return save_image_grid(path, data)


def format_scalars(values: dict[str, float]) -> str:
  """``k=v k=v ...`` of the numeric entries, 4 significant digits (the log lines)."""
  return " ".join(f"{k}={v:.4g}" for k, v in values.items() if isinstance(v, (int, float)))


def environment() -> dict:
  """What a bit-for-bit result depends on besides (config, seed): package versions, the
  backend and its devices, the CPU, and the XLA flags in force."""
  versions = {}
  for pkg in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy"):
    try:
      versions[pkg] = importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
      versions[pkg] = None
  devices = jax.devices()
  xla_flags = os.environ.get("XLA_FLAGS", "")
  return {"versions": versions, "python": sys.version.split()[0], "backend": jax.default_backend(),
          "devices": [d.device_kind for d in devices], "device_count": len(devices),
          "cpu": cpu_info(), "xla_flags": xla_flags,
          "gpu_deterministic_ops": "--xla_gpu_deterministic_ops=true" in xla_flags}


def write_environment(path: str) -> None:
  """Writes :func:`environment` as JSON to ``path`` (replaced atomically)."""
  write_json(path, environment())
