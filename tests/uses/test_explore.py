"""Latent exploration: paths in code space, grids, attribute vectors and the domain-change
measurement, against hand-computed answers."""
import numpy as np
import pytest
from scipy.stats import norm

from jaxgen.uses import explore


def test_lerp_runs_from_one_endpoint_to_the_other_evenly():
  z = explore.lerp([0.0, 2.0], [4.0, -2.0], 5)
  np.testing.assert_allclose(z, [[0, 2], [1, 1], [2, 0], [3, -1], [4, -2]])


def test_slerp_endpoints_midpoint_and_norms():
  u0, u1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
  z = explore.slerp(u0, u1, 3)
  np.testing.assert_allclose(z[0], u0, atol=1e-12)
  np.testing.assert_allclose(z[-1], u1, atol=1e-12)
  np.testing.assert_allclose(z[1], (u0 + u1) / np.sqrt(2), atol=1e-12)   # on the great circle
  # unequal norms: every point's norm lies between the endpoints' norms (here: linearly)
  rng = np.random.RandomState(0)
  a, b = rng.randn(20) * 0.5, rng.randn(20) * 3.0
  path = explore.slerp(a, b, 11)
  norms = np.linalg.norm(path, axis=1)
  np.testing.assert_allclose(path[0], a, atol=1e-12)
  np.testing.assert_allclose(path[-1], b, atol=1e-12)
  assert np.all(norms >= min(np.linalg.norm(a), np.linalg.norm(b)) - 1e-9)
  assert np.all(norms <= max(np.linalg.norm(a), np.linalg.norm(b)) + 1e-9)
  np.testing.assert_allclose(norms, np.linspace(norms[0], norms[-1], 11), rtol=1e-9)
  # whereas the straight line dips towards the origin
  assert np.linalg.norm(explore.lerp(u0, u1, 3)[1]) < 0.8
  # the angle to the start grows evenly (constant angular speed)
  cos = path @ a / (norms * np.linalg.norm(a))
  angles = np.arccos(np.clip(cos, -1, 1))
  np.testing.assert_allclose(np.diff(angles), np.diff(angles)[0], rtol=1e-6)


def test_slerp_of_parallel_or_zero_codes_is_the_line():
  np.testing.assert_allclose(explore.slerp([1.0, 1.0], [2.0, 2.0], 4),
                             explore.lerp([1.0, 1.0], [2.0, 2.0], 4))
  np.testing.assert_allclose(explore.slerp([0.0, 0.0], [2.0, 1.0], 3),
                             explore.lerp([0.0, 0.0], [2.0, 1.0], 3))


def test_traversal_changes_one_coordinate_per_row():
  z = np.array([1.0, 2.0, 3.0])
  g = explore.traversal(z, [-1.0, 0.0, 5.0])
  assert g.shape == (3, 3, 3)
  np.testing.assert_allclose(g[1], [[1, -1, 3], [1, 0, 3], [1, 5, 3]])
  per_dim = explore.traversal(z, [[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]])
  np.testing.assert_allclose(per_dim[2], [[1, 2, 20], [1, 2, 21]])


def test_manifold_grid_is_the_inverse_gaussian_cdf_of_an_even_grid():
  g = explore.manifold_grid(5)
  assert g.shape == (5, 5, 2)
  q = norm.ppf(np.linspace(0.05, 0.95, 5))
  np.testing.assert_allclose(g[0, :, 0], q, atol=1e-6)          # x along a row
  np.testing.assert_allclose(g[:, 0, 1], q[::-1], atol=1e-6)    # y from top (high) to bottom
  np.testing.assert_allclose(g[2, 2], [0.0, 0.0], atol=1e-6)


def test_project_2d():
  rng = np.random.RandomState(0)
  codes2 = rng.randn(50, 2)
  np.testing.assert_array_equal(explore.project_2d(codes2), codes2)   # a 2-D latent as is
  # PCA keeps the two directions of largest variance
  codes = np.zeros((200, 5))
  codes[:, 3] = rng.randn(200) * 10
  codes[:, 1] = rng.randn(200) * 3
  codes[:, [0, 2, 4]] = rng.randn(200, 3) * 0.01
  p = explore.project_2d(codes, "pca")
  assert abs(np.corrcoef(p[:, 0], codes[:, 3])[0, 1]) > 0.999
  assert abs(np.corrcoef(p[:, 1], codes[:, 1])[0, 1]) > 0.99
  with pytest.raises(ValueError, match="projection"):
    explore.project_2d(codes, "umap")


def test_attribute_vector():
  codes = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 4.0], [12.0, 6.0]])
  labels = np.array([0, 0, 1, 1])
  np.testing.assert_allclose(explore.attribute_vector(codes, labels, 0, 1), [10.0, 5.0])
  np.testing.assert_allclose(explore.attribute_vector(codes, labels, 1, 0), [-10.0, -5.0])
  np.testing.assert_array_equal(explore.attribute_vector(codes, labels, 1, 1), [0.0, 0.0])
  with pytest.raises(ValueError, match="label 7"):
    explore.attribute_vector(codes, labels, 0, 7)


class _NearestMean:
  """A classifier of 'images' that are codes: the class whose mean is nearest."""
  def __init__(self, means):
    self.means = np.asarray(means)

  def predict(self, x):
    x = np.asarray(x).reshape(len(x), -1)
    return np.argmin(((x[:, None] - self.means[None]) ** 2).sum(-1), axis=1)


def test_domain_change_counts_edits_classified_as_the_target():
  """Three classes at known means, codes spread around them: an edit of strength 1 moves
  a code by exactly the difference of the means (so it lands on b's cluster), strength 0
  leaves it (still a), strength 0.25 does not reach the midpoint (still a)."""
  means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
  rng = np.random.RandomState(0)
  labels = np.repeat([0, 1, 2], 50)
  codes = means[labels] + rng.randn(150, 2)
  test_labels = np.repeat([0, 1, 2], 20)
  test_codes = means[test_labels] + rng.randn(60, 2)
  out = explore.domain_change(lambda z: z, _NearestMean(means), codes, labels, test_codes,
                              test_labels, strengths=(0.0, 0.25, 1.0))
  to_b, still_a = np.asarray(out["to_b"]), np.asarray(out["still_a"])
  assert out["classes"] == [0, 1, 2] and to_b.shape == (3, 3, 3)
  assert np.all(np.isnan(np.diagonal(to_b, axis1=1, axis2=2)))
  off = ~np.eye(3, dtype=bool)
  assert np.all(to_b[0][off] == 0.0) and np.all(still_a[0][off] == 1.0)
  assert np.all(to_b[1][off] == 0.0)
  assert np.all(to_b[2][off] == 1.0) and np.all(still_a[2][off] == 0.0)
  assert out["mean_to_b"] == [0.0, 0.0, 1.0]
  md = explore.domain_change_markdown(out, 1.0)
  assert "| 0 | – | 100 | 100 |" in md
