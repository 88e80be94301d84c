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


def _random_spd(rng, d):
  m = rng.normal(size=(d, d))
  return m @ m.T + 0.1 * np.eye(d)


def test_gaussian_transport_sends_one_gaussian_exactly_to_the_other():
  """A C_a A = C_b and T(mean_a) = mean_b (exactly, in float64); A symmetric positive
  definite (the optimal map, not any matrix that colours); in 1-D the map is
  mean_b + (sd_b / sd_a)(z - mean_a); samples of a are sent to b's moments."""
  rng = np.random.RandomState(0)
  ca, cb = _random_spd(rng, 4), _random_spd(rng, 4)
  ma, mb = rng.normal(size=4), rng.normal(size=4)
  a, shift = explore.gaussian_transport(ma, ca, mb, cb)
  np.testing.assert_allclose(a @ ca @ a, cb, atol=1e-10)
  np.testing.assert_allclose(ma @ a + shift, mb, atol=1e-12)
  np.testing.assert_allclose(a, a.T, atol=1e-12)
  assert np.linalg.eigvalsh(a).min() > 0
  a1, s1 = explore.gaussian_transport([1.0], [[4.0]], [-2.0], [[9.0]])
  np.testing.assert_allclose(np.array([[3.0]]) @ a1 + s1, [[-2.0 + 1.5 * 2.0]])
  z = rng.multivariate_normal(ma, ca, size=200_000)
  t = z @ a + shift
  np.testing.assert_allclose(t.mean(0), mb, atol=0.03)
  np.testing.assert_allclose(np.cov(t, rowvar=False), cb, atol=0.1 * np.abs(cb).max())
  # among maps that colour (A C_a A^T = C_b), the optimal one moves points least
  whiten_colour = np.linalg.cholesky(cb) @ np.linalg.inv(np.linalg.cholesky(ca))
  moved = lambda m: np.mean(np.sum((z @ m.T + (mb - ma @ m.T) - z) ** 2, axis=1))
  assert moved(a) < moved(whiten_colour)


def test_class_gaussians_fit_each_class_with_a_ridge():
  rng = np.random.RandomState(1)
  labels = np.repeat([0, 1], 500)
  codes = rng.normal(size=(1000, 3)) * np.where(labels[:, None] == 0, 1.0, 2.0) + labels[:, None]
  g = explore.class_gaussians(codes, labels, [0, 1], ridge=0.0)
  np.testing.assert_allclose(g[1][0], codes[labels == 1].mean(0))
  np.testing.assert_allclose(g[1][1], np.cov(codes[labels == 1], rowvar=False))
  ridged = explore.class_gaussians(codes, labels, [0, 1], ridge=0.1)[0][1]
  c0 = np.cov(codes[labels == 0], rowvar=False)
  np.testing.assert_allclose(ridged, c0 + 0.1 * np.trace(c0) / 3 * np.eye(3))
  with pytest.raises(ValueError, match="at least 2 codes"):
    explore.class_gaussians(codes, labels, [0, 7])


def test_transport_edits_keep_the_codes_place_where_the_vector_does_not():
  """Class 0 wide (sd 3) around 0, classes 1 and 2 narrow (sd 0.3) around (10, 0) and
  (0, 10); a classifier that accepts b only within 1.2 of b's mean. The mean-difference
  vector carries the 0s' wide spread into b (few land inside), the transport map shrinks
  it (all land inside); at strength 0 nothing moves."""
  means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
  sds = np.array([3.0, 0.3, 0.3])
  rng = np.random.RandomState(0)
  labels = np.repeat([0, 1, 2], 400)
  codes = means[labels] + rng.randn(1200, 2) * sds[labels, None]
  test_labels = np.repeat([0, 1, 2], 100)
  test_codes = means[test_labels] + rng.randn(300, 2) * sds[test_labels, None]

  class Near:
    def predict(self, x):
      d = np.sqrt(((np.asarray(x)[:, None] - means[None]) ** 2).sum(-1))
      return np.where(d[:, 1:].min(1) < 1.2, 1 + d[:, 1:].argmin(1), 0)

  kw = dict(strengths=(0.0, 1.0))
  vec = explore.domain_change(lambda z: z, Near(), codes, labels, test_codes, test_labels, **kw)
  tra = explore.domain_change(lambda z: z, Near(), codes, labels, test_codes, test_labels,
                              method="transport", **kw)
  assert tra["method"] == "transport" and vec["method"] == "vector"
  v1, t1 = np.asarray(vec["to_b"][1]), np.asarray(tra["to_b"][1])
  assert t1[0, 1] > 0.97 and t1[0, 2] > 0.97
  assert v1[0, 1] < 0.3 and v1[0, 2] < 0.3
  np.testing.assert_array_equal(tra["to_b"][0], vec["to_b"][0])
  with pytest.raises(ValueError, match="unknown edit method"):
    explore.domain_change(lambda z: z, Near(), codes, labels, test_codes, test_labels,
                          method="optimal")
