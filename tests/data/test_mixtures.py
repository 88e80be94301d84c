"""Tests for jaxgen.data.mixtures: the ring and grid 2-D Gaussian mixtures."""
import ml_collections
import numpy as np
import pytest
from scipy import stats

from jaxgen.data import load_dataset
from jaxgen.data import mixtures
from jaxgen.data.dataset import DataError


def _config(name: str, seed: int = 0):
  config = ml_collections.ConfigDict()
  config.name = name
  config.seed = seed
  return config


def test_ring_modes_and_std():
  modes = mixtures.mixture_modes("ring")
  assert modes.shape == (8, 2)
  np.testing.assert_allclose(np.linalg.norm(modes, axis=1), 1.0, atol=1e-12)
  np.testing.assert_allclose(modes[0], [1.0, 0.0], atol=1e-12)
  np.testing.assert_allclose(modes[2], [0.0, 1.0], atol=1e-12)
  np.testing.assert_allclose(modes[1], [np.sqrt(0.5), np.sqrt(0.5)], atol=1e-12)
  assert mixtures.mixture_std("ring") == 0.01


def test_grid_modes_and_std():
  modes = mixtures.mixture_modes("grid")
  assert modes.shape == (25, 2)
  expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
  assert {tuple(int(v) for v in m) for m in modes} == expected
  np.testing.assert_array_equal(modes, np.round(modes))
  assert mixtures.mixture_std("grid") == 0.05


def test_unknown_mixture_raises():
  with pytest.raises(DataError, match="unknown mixture"):
    mixtures.mixture_modes("spiral")


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_sample_mixture_per_mode_statistics(name):
  n = 50_000
  points, index = mixtures.sample_mixture(name, n, seed=3)
  modes = mixtures.mixture_modes(name)
  std = mixtures.mixture_std(name)
  assert points.shape == (n, 2) and points.dtype == np.float32
  assert index.shape == (n,) and index.dtype == np.int32
  assert index.min() >= 0 and index.max() < len(modes)
  for m in range(len(modes)):
    p = points[index == m].astype(np.float64)
    k = len(p)
    # Mean within 5 standard errors; std within 5 standard errors of a sample std.
    np.testing.assert_allclose(p.mean(0), modes[m], atol=5 * std / np.sqrt(k))
    np.testing.assert_allclose(p.std(0), std, rtol=5 / np.sqrt(2 * k))
  # Points really belong to the mode they are labelled with.
  nearest = np.argmin(((points[:, None, :] - modes[None]) ** 2).sum(-1), axis=1)
  np.testing.assert_array_equal(nearest, index)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_sample_mixture_modes_uniform(name):
  _, index = mixtures.sample_mixture(name, 40_000, seed=7)
  m = len(mixtures.mixture_modes(name))
  counts = np.bincount(index, minlength=m)
  _, p_value = stats.chisquare(counts)
  assert p_value > 1e-4
  # A skewed choice would be caught: the same test rejects 30% extra mass on mode 0.
  skewed = counts.copy()
  skewed[0] = int(skewed[0] * 1.3)
  assert stats.chisquare(skewed)[1] < 1e-4


def test_sample_mixture_deterministic_by_seed():
  a, ia = mixtures.sample_mixture("ring", 100, seed=5)
  b, ib = mixtures.sample_mixture("ring", 100, seed=5)
  c, _ = mixtures.sample_mixture("ring", 100, seed=6)
  np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(ia, ib)
  assert not np.array_equal(a, c)


@pytest.mark.parametrize("name,num_modes,std", [("ring", 8, 0.01), ("grid", 25, 0.05)])
def test_load_dataset(name, num_modes, std):
  ds = load_dataset(_config(name))
  assert ds.name == name and ds.kind == "points"
  assert ds.train.shape == (100_000, 2) and ds.train.dtype == np.float32
  assert ds.test.shape == (10_000, 2) and ds.test.dtype == np.float32
  assert ds.train_labels.shape == (100_000,) and ds.train_labels.dtype == np.int32
  assert ds.test_labels.shape == (10_000,) and ds.test_labels.dtype == np.int32
  assert ds.example_shape == (2,)
  assert ds.info["modes"].shape == (num_modes, 2)
  assert ds.info["std"] == std
  # Train and test come from the fixed seeds 0 and 1.
  train, train_labels = mixtures.sample_mixture(name, 100_000, 0)
  test, _ = mixtures.sample_mixture(name, 10_000, 1)
  np.testing.assert_array_equal(ds.train, train)
  np.testing.assert_array_equal(ds.train_labels, train_labels)
  np.testing.assert_array_equal(ds.test, test)
  assert not np.array_equal(ds.train[:10_000], ds.test)


def test_load_dataset_ignores_experiment_seed():
  a = load_dataset(_config("ring", seed=0))
  b = load_dataset(_config("ring", seed=123))
  np.testing.assert_array_equal(a.train, b.train)
  np.testing.assert_array_equal(a.test, b.test)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_load_by_module_equals_load_by_name(name):
  ds = mixtures.load(name, _config(name))
  by_name = load_dataset(_config(name))
  assert ds.name == name and ds.kind == "points"
  np.testing.assert_array_equal(ds.train, by_name.train)
  np.testing.assert_array_equal(ds.test, by_name.test)
  np.testing.assert_array_equal(ds.info["modes"], mixtures.mixture_modes(name))
