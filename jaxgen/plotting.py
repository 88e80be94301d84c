"""Pictures: image grids and scatter plots, written with matplotlib's Agg backend."""
from __future__ import annotations

import math
import os
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402   (not pyplot: its import costs ~1 s of every start)
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from jaxgen.evaluation.mode_collapse import HIGH_QUALITY_STDS  # noqa: E402


def image_grid(images, columns: int = 8, pad: int = 1) -> np.ndarray:
  """Tiles images [N, H, W, C] in [0, 1] into one [H', W', C] array (C = 1 or 3)."""
  images = np.asarray(images, np.float32)
  if images.ndim == 3:
    images = images[..., None]
  n, h, w, c = images.shape
  columns = max(1, min(columns, n))
  rows = math.ceil(n / columns)
  grid = np.ones((rows * (h + pad) + pad, columns * (w + pad) + pad, c), np.float32)
  for i in range(n):
    r, k = divmod(i, columns)
    grid[pad + r * (h + pad): pad + r * (h + pad) + h,
         pad + k * (w + pad): pad + k * (w + pad) + w] = images[i]
  return np.clip(grid, 0.0, 1.0)


def save_image_grid(path: str, images, columns: int = 8, scale: int = 3) -> np.ndarray:
  """Saves :func:`image_grid` of ``images`` as a PNG (each pixel ``scale`` x ``scale``)."""
  grid = image_grid(images, columns)
  big = np.kron(grid, np.ones((scale, scale, 1), np.float32))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if big.shape[-1] == 1:
    matplotlib.image.imsave(path, big[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
  else:
    matplotlib.image.imsave(path, big)
  return grid


def scatter_plot(path: str, samples, modes, std: float, title: Optional[str] = None) -> str:
  """Writes a PNG of ``samples`` (dots) over the true ``modes`` (crosses, each inside a
  circle of radius ``3 * std``, the high-quality region). Returns ``path``."""
  samples = np.asarray(samples, np.float64).reshape(-1, 2)
  modes = np.asarray(modes, np.float64).reshape(-1, 2)
  fig = Figure(figsize=(5, 5), dpi=100)
  ax = fig.add_subplot(1, 1, 1)
  # Modes underneath, small, so that samples landing on them stay visible.
  ax.scatter(modes[:, 0], modes[:, 1], s=10, marker="x", color="tab:red", linewidths=0.6,
             label="modes", zorder=1)
  for m in modes:
    ax.add_patch(Circle(tuple(m), HIGH_QUALITY_STDS * std, fill=False, color="tab:red",
                        linewidth=0.6, zorder=1))
  ax.scatter(samples[:, 0], samples[:, 1], s=3, alpha=0.5, color="tab:blue",
             linewidths=0, label="samples", zorder=2)
  # Frame the true modes with a margin; far-off samples are clipped, not zoomed out to.
  lo, hi = modes.min(0), modes.max(0)
  margin = 0.25 * max(float((hi - lo).max()), 1e-6) + HIGH_QUALITY_STDS * std
  ax.set_xlim(lo[0] - margin, hi[0] + margin)
  ax.set_ylim(lo[1] - margin, hi[1] + margin)
  ax.set_aspect("equal")
  if title:
    ax.set_title(title)
  ax.legend(loc="upper right", fontsize=7, markerscale=2)
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fig.savefig(path, format="png")
  return path
