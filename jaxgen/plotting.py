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


def _save(fig: Figure, path: str) -> str:
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  fig.savefig(path, format="png", bbox_inches="tight")
  return path


def line_plot(path: str, x, ys: dict, xlabel: str = "", ylabel: str = "", logx: bool = False,
              title: Optional[str] = None) -> str:
  """One line (with markers) per entry of ``ys`` ({label: values at ``x``})."""
  fig = Figure(figsize=(5, 3.5), dpi=100)
  ax = fig.add_subplot(1, 1, 1)
  for label, y in ys.items():
    ax.plot(list(x), list(y), marker="o", label=label)
  if logx:
    ax.set_xscale("log")
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  if title:
    ax.set_title(title)
  if len(ys) > 1:
    ax.legend(fontsize=8)
  return _save(fig, path)


def bar_chart(path: str, categories, bars: dict, errors: Optional[dict] = None,
              ylabel: str = "", title: Optional[str] = None, ylim=None,
              reference: Optional[float] = None) -> str:
  """Grouped bars: for each label of ``bars`` ({label: value per category}) one bar per
  category, with ``errors`` ({label: std per category}) as error bars and an optional
  horizontal ``reference`` line."""
  fig = Figure(figsize=(max(5.0, 0.6 * len(categories) * max(1, len(bars))), 3.5), dpi=100)
  ax = fig.add_subplot(1, 1, 1)
  width = 0.8 / max(1, len(bars))
  pos = np.arange(len(categories), dtype=np.float64)
  for i, (label, values) in enumerate(bars.items()):
    err = None if errors is None else errors.get(label)
    ax.bar(pos + (i - (len(bars) - 1) / 2) * width, values, width, yerr=err, label=label,
           capsize=2)
  ax.set_xticks(pos)
  ax.set_xticklabels([str(c) for c in categories])
  if reference is not None:
    ax.axhline(reference, color="gray", linestyle="--", linewidth=0.8)
  if ylim is not None:
    ax.set_ylim(*ylim)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title)
  ax.legend(fontsize=7, loc="lower right")
  return _save(fig, path)


def histogram_grid(path: str, panels: list, columns: int = 5, bins: int = 40,
                   title: Optional[str] = None) -> str:
  """Small overlaid histograms: ``panels`` is a list of (panel title, {label: values})."""
  rows = math.ceil(len(panels) / columns)
  fig = Figure(figsize=(2.6 * columns, 2.0 * rows), dpi=100)
  for i, (name, groups) in enumerate(panels):
    ax = fig.add_subplot(rows, columns, i + 1)
    values = [np.asarray(v, np.float64) for v in groups.values()]
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(1)
    edges = np.histogram_bin_edges(finite, bins=bins) if finite.size else bins
    for label, v in groups.items():
      ax.hist(np.asarray(v)[np.isfinite(v)], bins=edges, alpha=0.5, density=True, label=label)
    ax.set_title(name, fontsize=8)
    ax.tick_params(labelsize=6)
    if i == 0:
      ax.legend(fontsize=6)
  if title:
    fig.suptitle(title, fontsize=9)
  fig.tight_layout()
  return _save(fig, path)


def labelled_scatter(path: str, points, labels, title: Optional[str] = None,
                     xlabel: str = "", ylabel: str = "") -> str:
  """2-D points coloured by integer label, with a legend of the labels."""
  points = np.asarray(points, np.float64).reshape(-1, 2)
  labels = np.asarray(labels)
  fig = Figure(figsize=(5.5, 5), dpi=100)
  ax = fig.add_subplot(1, 1, 1)
  cmap = matplotlib.colormaps["tab10"]
  for i, c in enumerate(np.unique(labels)):
    m = labels == c
    ax.scatter(points[m, 0], points[m, 1], s=4, color=cmap(i % 10), label=str(c), linewidths=0)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title)
  ax.legend(fontsize=7, markerscale=3, loc="best")
  return _save(fig, path)


def image_table(path: str, rows, row_labels=(), column_labels=(), scale: int = 2,
                title: Optional[str] = None) -> str:
  """Images [R, C, H, W, ch] in [0, 1] as an R x C grid with row and column labels."""
  rows = np.asarray(rows, np.float32)
  r, c = rows.shape[:2]
  grid = image_grid(rows.reshape((r * c,) + rows.shape[2:]), columns=c)
  fig = Figure(figsize=(max(2.0, 0.35 * c * scale) + 0.6, max(1.0, 0.35 * r * scale) + 0.4),
               dpi=100)
  ax = fig.add_subplot(1, 1, 1)
  ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1,
            interpolation="nearest")
  h, w = rows.shape[2] + 1, rows.shape[3] + 1
  ax.set_yticks([1 + h * i + h / 2 - 1 for i in range(r)] if len(row_labels) else [])
  ax.set_yticklabels([str(s) for s in row_labels], fontsize=7)
  ax.set_xticks([1 + w * i + w / 2 - 1 for i in range(c)] if len(column_labels) else [])
  ax.set_xticklabels([str(s) for s in column_labels], fontsize=7)
  ax.tick_params(length=0)
  if title:
    ax.set_title(title, fontsize=9)
  return _save(fig, path)


def heatmap(path: str, matrix, row_labels, column_labels, xlabel: str = "", ylabel: str = "",
            title: Optional[str] = None, percent: bool = True) -> str:
  """A matrix of shares in [0, 1] as a coloured table with the values written in (NaN
  cells, e.g. the diagonal of a pair table, stay blank)."""
  m = np.asarray(matrix, np.float64)
  fig = Figure(figsize=(0.45 * m.shape[1] + 1.8, 0.45 * m.shape[0] + 1.2), dpi=100)
  ax = fig.add_subplot(1, 1, 1)
  im = ax.imshow(np.ma.masked_invalid(m), vmin=0, vmax=1, cmap="viridis")
  for i in range(m.shape[0]):
    for j in range(m.shape[1]):
      if np.isfinite(m[i, j]):
        ax.text(j, i, f"{100 * m[i, j]:.0f}" if percent else f"{m[i, j]:.2f}", ha="center",
                va="center", fontsize=6, color="white" if m[i, j] < 0.6 else "black")
  ax.set_xticks(range(m.shape[1]))
  ax.set_xticklabels([str(c) for c in column_labels], fontsize=7)
  ax.set_yticks(range(m.shape[0]))
  ax.set_yticklabels([str(r) for r in row_labels], fontsize=7)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title, fontsize=8)
  fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
  return _save(fig, path)
