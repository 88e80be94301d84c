"""Pictures: image grids and scatter plots, written with matplotlib's Agg backend."""
from __future__ import annotations

import math
import os

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402


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
  import matplotlib.pyplot as plt
  grid = image_grid(images, columns)
  big = np.kron(grid, np.ones((scale, scale, 1), np.float32))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  if big.shape[-1] == 1:
    plt.imsave(path, big[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
  else:
    plt.imsave(path, big)
  return grid
