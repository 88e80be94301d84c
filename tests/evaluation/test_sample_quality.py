"""Sample metrics against known answers: closed forms, hand-worked examples, sklearn/scipy."""
import math

import numpy as np
import pytest
import scipy.linalg
from sklearn.neighbors import NearestNeighbors

from jaxgen.evaluation import sample_quality as sq


# ------------------------------------------------------------------ Fréchet distance
def test_frechet_of_diagonal_gaussians_is_the_closed_form():
  # commuting (diagonal) covariances: tr(C1 + C2 - 2 sqrt(C1 C2)) = sum (s1 - s2)^2
  mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
  s1, s2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 1.5])
  want = 1.0 + 0.0 + 4.0 + (1 - 3) ** 2 + 0 + (0.5 - 1.5) ** 2
  got = sq.gaussian_frechet(mu1, np.diag(s1 ** 2), mu2, np.diag(s2 ** 2))
  assert got == pytest.approx(want, rel=1e-12)


def test_frechet_of_general_gaussians_matches_scipy_sqrtm():
  rng = np.random.RandomState(0)
  a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
  c1, c2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)   # do not commute
  mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
  root = scipy.linalg.sqrtm(c1 @ c2).real
  want = np.sum((mu1 - mu2) ** 2) + np.trace(c1 + c2 - 2 * root)
  assert sq.gaussian_frechet(mu1, c1, mu2, c2) == pytest.approx(want, rel=1e-9)
  # symmetric in its arguments, zero for the same Gaussian
  assert sq.gaussian_frechet(mu2, c2, mu1, c1) == pytest.approx(want, rel=1e-9)
  assert sq.gaussian_frechet(mu1, c1, mu1, c1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_of_samples_estimates_the_gaussians_distance():
  rng = np.random.RandomState(1)
  a = rng.normal(size=(200_000, 2)) * [1.0, 2.0]
  b = rng.normal(size=(200_000, 2)) * [2.0, 2.0] + [3.0, 0.0]
  want = 9.0 + (1 - 2) ** 2            # |mu|^2 + sum (s1 - s2)^2
  assert sq.frechet_distance(a, b) == pytest.approx(want, rel=0.01)
  assert sq.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
  with pytest.raises(ValueError, match="same D"):
    sq.frechet_distance(a, b[:, :1])


# ------------------------------------------------------------------ labels
def test_classifier_score_known_values():
  one_label = np.tile([[0.0, 1.0, 0.0]], (50, 1))
  assert sq.classifier_score(one_label) == pytest.approx(1.0)
  confident_uniform = np.eye(10)[np.arange(1000) % 10]
  assert sq.classifier_score(confident_uniform) == pytest.approx(10.0)
  # by hand: p1 = (1, 0), p2 = (1/2, 1/2), marginal (3/4, 1/4)
  kl1 = math.log(1 / 0.75)
  kl2 = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)
  got = sq.classifier_score(np.array([[1.0, 0.0], [0.5, 0.5]]))
  assert got == pytest.approx(math.exp((kl1 + kl2) / 2), rel=1e-12)


def test_score_parts_by_hand_and_their_difference_is_the_log_score():
  # p1 = (1, 0), p2 = (1/2, 1/2): H(p1) = 0, H(p2) = log 2; marginal (3/4, 1/4)
  parts = sq.score_parts(np.array([[1.0, 0.0], [0.5, 0.5]]))
  assert parts["label_entropy"] == pytest.approx(math.log(2) / 2, rel=1e-12)
  assert parts["marginal_entropy"] == pytest.approx(
      -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)), rel=1e-12)
  # confident, even labels: H(marginal) = log 10, no label entropy
  parts = sq.score_parts(np.eye(10)[np.arange(1000) % 10])
  assert parts == pytest.approx({"marginal_entropy": math.log(10), "label_entropy": 0.0})
  p = np.random.RandomState(0).dirichlet(np.full(10, 0.3), size=200)
  parts = sq.score_parts(p)
  assert math.log(sq.classifier_score(p)) == pytest.approx(
      parts["marginal_entropy"] - parts["label_entropy"], rel=1e-10)


class _LogitClassifier:
  """A stand-in judge classifier: the images' first pixels are its logits and features."""

  def features(self, x):
    return np.asarray(x, np.float64).reshape(len(x), -1)[:, :3]

  def outputs(self, x):
    f = self.features(x)
    return f, f


def test_sample_judge_reports_the_score_parts_and_the_confident_share():
  rng = np.random.RandomState(1)
  ref = rng.normal(size=(40, 1, 3, 1))
  judge = sq.SampleJudge(_LogitClassifier(), ref, num_classes=3)
  # logits (10, 0, 0): p = 0.99991, confident; (1, 0, 0): p = e / (e + 2) = 0.58, not
  x = np.zeros((4, 1, 3, 1))
  x[:3, 0, 0, 0] = 10.0
  x[3, 0, 0, 0] = 1.0
  x[:, 0, 1, 0] += rng.normal(scale=1e-3, size=4)     # distinct features for the k-NN radii
  out = judge(x)
  assert out["confident"] == pytest.approx(75.0)
  probs = np.exp(x.reshape(4, 3)) / np.exp(x.reshape(4, 3)).sum(1, keepdims=True)
  assert out["label_entropy"] == pytest.approx(sq.score_parts(probs)["label_entropy"])
  assert math.log(out["classifier_score"]) == pytest.approx(
      out["marginal_entropy"] - out["label_entropy"])


def test_label_histogram_and_kl_to_uniform():
  np.testing.assert_allclose(sq.label_histogram([0, 0, 2, 3], 4), [0.5, 0, 0.25, 0.25])
  assert sq.kl_to_uniform(np.ones(7)) == pytest.approx(0.0)
  assert sq.kl_to_uniform(np.eye(10)[3]) == pytest.approx(math.log(10))
  q = np.array([0.5, 0.25, 0.25, 0.0])
  assert sq.kl_to_uniform(q) == pytest.approx(np.sum(q[:3] * np.log(q[:3] * 4)))


# ------------------------------------------------------------------ k-NN manifolds
def test_knn_radii_match_sklearn():
  x = np.random.RandomState(2).normal(size=(300, 5))
  dist, _ = NearestNeighbors(n_neighbors=4).fit(x).kneighbors(x)   # column 0: the point itself
  np.testing.assert_allclose(sq.knn_radii(x, 3), dist[:, 3], rtol=1e-9)
  np.testing.assert_allclose(sq.pairwise_distances(x[:7], x, block=3),
                             np.linalg.norm(x[:7, None] - x[None], axis=-1), atol=1e-12)


def test_prdc_on_identical_and_on_disjoint_sets():
  x = np.random.RandomState(3).normal(size=(200, 4))
  assert sq.precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
  # each point lies strictly inside its own ball and those of its k - 1 nearer neighbours
  assert sq.density_coverage(x, x) == {"density": pytest.approx(1.0), "coverage": 1.0}
  far = x + 100.0
  assert sq.precision_recall(x, far) == {"precision": 0.0, "recall": 0.0}
  assert sq.density_coverage(x, far) == {"density": 0.0, "coverage": 0.0}


def test_prdc_hand_worked_2d_example():
  # real on a line at 0, 1, 3 (k = 1 radii 1, 1, 2); fake at -1, 2.5, 10 (radii 3.5, 3.5, 7.5)
  real = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
  fake = np.array([[-1.0, 0.0], [2.5, 0.0], [10.0, 0.0]])
  # precision: -1 is exactly at distance 1 = r(0) from 0: outside (strict <); 2.5 is inside
  # the ball of 3; 10 is in none
  assert sq.precision_recall(real, fake, k=1) == {"precision": pytest.approx(1 / 3),
                                                  "recall": 1.0}
  # density: only (real 3, fake 2.5) counts, 1 / (k M) = 1/3; coverage: only real 3 covered
  dc = sq.density_coverage(real, fake, k=1)
  assert dc == {"density": pytest.approx(1 / 3), "coverage": pytest.approx(1 / 3)}
  # recall swaps the roles: fakes' balls hold the real points
  assert sq.precision_recall(fake, real, k=1)["precision"] == 1.0


def test_coverage_falls_when_fakes_keep_to_one_region():
  # fakes drawn from one half of the real distribution: precise, but half the real
  # points have no fake nearby
  rng = np.random.RandomState(4)
  real = rng.normal(size=(1000, 2))
  fake = rng.normal(size=(1000, 2))
  fake[:, 0] = np.abs(fake[:, 0])
  pr, dc = sq.precision_recall(real, fake), sq.density_coverage(real, fake)
  assert pr["precision"] > 0.9 and pr["recall"] < 0.7
  assert dc["coverage"] < 0.7 and dc["density"] > 0.8


# ------------------------------------------------------------------ Stacked MNIST
def test_stacked_modes_of_uniform_and_collapsed_digits():
  rng = np.random.RandomState(5)
  digits = rng.randint(0, 10, size=(26_000, 3))
  out = sq.stacked_modes(digits)
  assert out["modes"] == 1000 and out["num_samples"] == 26_000
  # a finite sample of a uniform law: KL ~ (M - 1) / 2N = 0.019
  assert 0.0 < out["reverse_kl"] < 0.03
  one = sq.stacked_modes(np.tile([[4, 0, 7]], (26_000, 1)))
  assert one["modes"] == 1 and one["reverse_kl"] == pytest.approx(math.log(1000))
  # the mode of (a, b, c) is 100 a + 10 b + c: two modes equally often
  two = sq.stacked_modes(np.array([[1, 2, 3], [3, 2, 1]] * 5))
  assert two["modes"] == 2 and two["reverse_kl"] == pytest.approx(math.log(500))


class _IntensityClassifier:
  """Reads digit d from an image whose pixels all equal d / 10, with probability 0.95 when
  the pixels are exactly d / 10 and 0.5 when they are off by 0.02 or more."""
  info = {"num_classes": 10}

  def probs(self, x):
    x = np.asarray(x)
    assert x.ndim == 4 and x.shape[-1] == 1, x.shape
    m = x.mean(axis=(1, 2, 3)) * 10
    d = np.rint(m).astype(int)
    p_top = np.where(np.abs(m - d) < 0.2, 0.95, 0.5)
    p = np.tile(((1 - p_top) / 9)[:, None], (1, 10))
    p[np.arange(len(d)), d] = p_top
    return p

  def predict(self, x):
    return self.probs(x).argmax(-1)


def test_stacked_judge_reads_each_channel_in_order():
  digits = np.array([[1, 2, 3], [9, 0, 5], [1, 2, 3], [7, 7, 7]])
  images = np.broadcast_to((digits / 10.0)[:, None, None, :], (4, 8, 8, 3)).copy()
  judge = sq.StackedModeJudge(_IntensityClassifier())
  np.testing.assert_array_equal(judge.channel_digits(images), digits)
  # the mode index is the dataset's label 100 a + 10 b + c
  np.testing.assert_array_equal(sq.stacked_mode_index(judge.channel_digits(images)),
                                [123, 905, 123, 777])
  out = judge(images)
  assert {k: out[k] for k in ("modes", "reverse_kl", "num_samples")} == sq.stacked_modes(digits)
  assert out["modes"] == 3 and out["confident"] == 100.0
  # one unsure channel makes its sample not confident
  images[1, ..., 2] += 0.03
  out = judge(images)
  assert out["confident"] == 75.0 and out["modes"] == 3
