"""Tests for jaxgen.evaluation.mode_collapse against hand-computed and analytic truths."""
import math

import numpy as np
import pytest
from scipy import stats

from jaxgen.data import mixtures
from jaxgen.evaluation import mode_collapse

RING = mixtures.mixture_modes("ring")
RING_STD = mixtures.mixture_std("ring")


def test_true_ring_samples_cover_all_modes():
  samples, _ = mixtures.sample_mixture("ring", 2500, seed=11)
  out = mode_collapse.mode_metrics(samples, RING, RING_STD)
  assert out["modes"] == 8
  # A 2-D isotropic Gaussian puts 1 - exp(-9/2) = 98.89% of its mass within 3 std of its
  # mean (Rayleigh CDF); 2,500 samples give a binomial standard error of 0.21 points.
  expected = 100.0 * (1.0 - math.exp(-4.5))
  assert abs(out["high_quality"] - expected) < 1.0
  assert out["high_quality"] > 97.5
  assert 0.0 <= out["reverse_kl"] < 0.01


def test_true_grid_samples_cover_all_modes():
  modes = mixtures.mixture_modes("grid")
  samples, _ = mixtures.sample_mixture("grid", 5000, seed=12)
  out = mode_collapse.mode_metrics(samples, modes, mixtures.mixture_std("grid"))
  assert out["modes"] == 25
  assert out["reverse_kl"] < 0.01


def test_collapsed_to_one_mode():
  rng = np.random.RandomState(0)
  samples = RING[3] + RING_STD * 0.5 * rng.standard_normal((1000, 2))
  out = mode_collapse.mode_metrics(samples, RING, RING_STD)
  assert out["modes"] == 1
  assert out["high_quality"] == pytest.approx(100.0)
  assert out["reverse_kl"] == pytest.approx(math.log(8), rel=1e-12)


def test_far_samples_are_not_high_quality():
  rng = np.random.RandomState(1)
  samples = 10.0 + rng.standard_normal((500, 2))
  out = mode_collapse.mode_metrics(samples, RING, RING_STD)
  assert out["modes"] == 0
  assert out["high_quality"] == 0.0
  assert out["reverse_kl"] == math.inf


def test_hand_computed_three_modes():
  modes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
  std = 0.5  # high-quality radius 1.5
  samples = np.array([
      [0.0, 0.0],      # mode 0
      [1.5, 0.0],      # mode 0, exactly on the 3-std boundary: counts
      [0.0, -1.0],     # mode 0
      [10.0, 1.2],     # mode 1
      [1.6, 0.0],      # nearest mode 0 but 3.2 std away: not high quality
      [5.0, 5.2],      # nearest mode 2, far away: not high quality
  ])
  np.testing.assert_array_equal(mode_collapse.mode_counts(samples, modes, std), [3, 1, 0])
  out = mode_collapse.mode_metrics(samples, modes, std)
  assert out["modes"] == 2
  assert out["high_quality"] == pytest.approx(100.0 * 4 / 6)
  # q = (3/4, 1/4, 0): KL(q || uniform) = 3/4 log(9/4) + 1/4 log(3/4).
  expected = 0.75 * math.log(2.25) + 0.25 * math.log(0.75)
  assert out["reverse_kl"] == pytest.approx(expected, rel=1e-12)
  assert out["reverse_kl"] == pytest.approx(stats.entropy([0.75, 0.25, 0.0], [1 / 3] * 3))


def test_nearest_modes():
  modes = np.array([[0.0, 0.0], [4.0, 0.0]])
  index, dist = mode_collapse.nearest_modes(np.array([[1.0, 0.0], [3.0, 4.0]]), modes)
  np.testing.assert_array_equal(index, [0, 1])
  np.testing.assert_allclose(dist, [1.0, math.sqrt(1.0 + 16.0)])

