"""Synthetic 2-D Gaussian mixtures: the ``ring`` and ``grid`` mode-collapse benchmarks.

``ring``: 8 Gaussians with means (cos 2*pi*i/8, sin 2*pi*i/8) and std 0.01.
``grid``: 25 Gaussians with means on {-4, -2, 0, 2, 4}^2 and std 0.05.

Every component has the same isotropic standard deviation and the same weight. The
registered datasets follow the PacGAN protocol: 100,000 training and 10,000 test points,
drawn from fixed seeds (train 0, test 1) that do not depend on the experiment seed.
"""
from __future__ import annotations

import numpy as np

from jaxgen.data.dataset import DataError, Dataset

NUM_TRAIN = 100_000
NUM_TEST = 10_000
TRAIN_SEED = 0
TEST_SEED = 1


def _ring_modes() -> np.ndarray:
  angles = 2.0 * np.pi * np.arange(8) / 8
  return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _grid_modes() -> np.ndarray:
  axis = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
  xs, ys = np.meshgrid(axis, axis, indexing="ij")
  return np.stack([xs.ravel(), ys.ravel()], axis=1)


# name -> (function returning the [M, 2] means, isotropic standard deviation)
_MIXTURES = {
    "ring": (_ring_modes, 0.01),
    "grid": (_grid_modes, 0.05),
}


def _lookup(name: str):
  try:
    return _MIXTURES[name]
  except KeyError:
    raise DataError(f"unknown mixture {name!r}; choose one of {sorted(_MIXTURES)}") from None


def mixture_modes(name: str) -> np.ndarray:
  """The component means of mixture ``name`` as a float64 array [M, 2]."""
  modes_fn, _ = _lookup(name)
  return modes_fn()


def mixture_std(name: str) -> float:
  """The (shared, isotropic) standard deviation of every component of mixture ``name``."""
  _, std = _lookup(name)
  return float(std)


def sample_mixture(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """Draws ``n`` points from mixture ``name`` with ``np.random.RandomState(seed)``.

  Each point picks its component uniformly at random. Returns ``(points, mode_index)``:
  float32 [n, 2] and int32 [n].
  """
  modes = mixture_modes(name)
  std = mixture_std(name)
  rng = np.random.RandomState(seed)
  index = rng.randint(0, modes.shape[0], size=n)
  points = modes[index] + std * rng.standard_normal((n, 2))
  return points.astype(np.float32), index.astype(np.int32)


def _load(name: str) -> Dataset:
  train, train_labels = sample_mixture(name, NUM_TRAIN, TRAIN_SEED)
  test, test_labels = sample_mixture(name, NUM_TEST, TEST_SEED)
  return Dataset(name, "points", train, test, train_labels, test_labels,
                 info={"modes": mixture_modes(name), "std": mixture_std(name)})


def load(name: str, dataset_config=None) -> Dataset:
  """Mixture ``name`` ('ring' or 'grid'): 100,000 train / 10,000 test float32 points [N, 2]."""
  del dataset_config
  return _load(name)
