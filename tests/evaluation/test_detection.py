"""AUROC and the anomaly protocols' bookkeeping, against independent truths."""
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from jaxgen.evaluation import detection


def _pairwise_auroc(scores, is_anomaly):
  """AUROC as the Mann-Whitney statistic: P(anomaly scores higher), ties counting 1/2."""
  pos, neg = scores[is_anomaly], scores[~is_anomaly]
  greater = (pos[:, None] > neg[None, :]).sum()
  ties = (pos[:, None] == neg[None, :]).sum()
  return (greater + 0.5 * ties) / (len(pos) * len(neg))


def test_auroc_is_the_probability_an_anomaly_scores_higher():
  rng = np.random.RandomState(0)
  scores = np.round(rng.randn(300), 1)                  # rounding makes ties
  is_anomaly = rng.rand(300) < 0.3
  scores[is_anomaly] += 0.7
  got = detection.auroc(scores, is_anomaly)
  assert got == pytest.approx(_pairwise_auroc(scores, is_anomaly), abs=1e-12)
  assert got == pytest.approx(roc_auc_score(is_anomaly, scores), abs=1e-12)
  assert 0.6 < got < 0.8
  # the orientation: anomalies are the positives; flipping the labels gives 1 - AUROC
  assert detection.auroc(scores, ~is_anomaly) == pytest.approx(1 - got, abs=1e-12)


def test_auroc_of_a_perfect_separator_and_of_identical_distributions():
  is_anomaly = np.array([0, 0, 0, 1, 1], bool)
  assert detection.auroc([0.1, 0.2, 0.3, 0.9, 1.5], is_anomaly) == 1.0
  assert detection.auroc([0.9, 1.5, 1.6, 0.1, 0.2], is_anomaly) == 0.0
  assert detection.auroc(np.ones(5), is_anomaly) == 0.5
  rng = np.random.RandomState(1)
  same = detection.auroc(rng.randn(20000), rng.rand(20000) < 0.5)
  assert abs(same - 0.5) < 0.015                     # std of the estimate ~0.004


def test_auroc_refuses_what_it_cannot_measure():
  with pytest.raises(ValueError, match="both"):
    detection.auroc([1.0, 2.0], [True, True])
  with pytest.raises(ValueError, match="non-finite"):
    detection.auroc([1.0, np.nan], [True, False])
  with pytest.raises(ValueError, match="labels"):
    detection.auroc([1.0, 2.0, 3.0], [True, False])


def test_protocol_filters_and_anomaly_labels():
  assert detection.protocol_filter("one_class", 3) == {"classes": (3,), "exclude_classes": ()}
  assert detection.protocol_filter("leave_one_out", 3) == {"classes": (), "exclude_classes": (3,)}
  with pytest.raises(ValueError, match="protocol"):
    detection.protocol_filter("two_class", 3)
  labels = np.array([0, 3, 5, 3, 9])
  np.testing.assert_array_equal(detection.anomalies_among(labels, [3]), [1, 0, 1, 0, 1])
  np.testing.assert_array_equal(detection.anomalies_among(labels, [0, 5, 9]), [0, 1, 0, 1, 0])


def test_summary_means_and_stds_over_seeds():
  rows = [{"digit": d, "seed": s, "auroc": {"x": 0.5 + 0.1 * d + 0.02 * s}}
          for d in (0, 1) for s in (0, 1)]
  out = detection.summarize(rows, ["x"], digits=(0, 1))["x"]
  assert out["0"]["mean"] == pytest.approx(0.51) and out["0"]["std"] == pytest.approx(0.01)
  assert out["1"]["mean"] == pytest.approx(0.61) and out["1"]["seeds"] == 2
  # mean over digits 0.56; per-seed means 0.55 and 0.57 -> std 0.01
  assert out["mean"]["mean"] == pytest.approx(0.56) and out["mean"]["std"] == pytest.approx(0.01)
  table = detection.markdown_table({"x": out}, "t")
  assert "| x | 51.0 ± 1.0 | 61.0 ± 1.0 | 56.0 ± 1.0 |" in table


# ------------------------------------------------------------------ code lengths
BITS = 8 * np.log(2)      # nats per byte


def test_code_lengths_of_incompressible_images_by_hand():
  """Random bits cannot be compressed, so DEFLATE stores them: zlib of 28 x 28 random bits
  packed into 98 bytes is 2 (header) + 5 (stored-block header) + 98 + 4 (Adler-32) = 109
  bytes; random gray bytes, 784 + 11 = 795 bytes. A 28 x 28 binary PNG is at most its 140
  raw bytes (28 rows of 1 filter byte + 4 bytes of bits) stored, plus 8 (signature) + 25
  (IHDR) + 12 (IDAT chunk) + 6 (zlib) + 5 (block) + 12 (IEND) = 208 bytes, and never below
  the 98 bytes of entropy plus that container."""
  rng = np.random.RandomState(0)
  bits = (rng.rand(20, 28, 28, 1) > 0.5).astype(np.float32)
  np.testing.assert_allclose(detection.code_length_nats(bits, "zlib"), 109 * BITS)
  gray = rng.randint(0, 256, size=(5, 28, 28, 1)) / 255.0
  np.testing.assert_allclose(detection.code_length_nats(gray, "zlib"), 795 * BITS)
  png = detection.code_length_nats(bits, "png") / BITS
  assert np.all(png <= 208) and np.all(png >= 98 + 8 + 25 + 12 + 6 + 12)


def test_a_constant_image_costs_only_the_container():
  """A constant image is one repeated value: a few bytes of DEFLATE inside the container
  (PNG: 8 + 25 + 12 + 12 + 6 = 63 bytes before any data), far below noise."""
  black, white = np.zeros((1, 28, 28, 1)), np.ones((1, 28, 28, 1))
  for x in (black, white):
    assert detection.code_length_nats(x, "zlib")[0] <= 12 * BITS        # 98 equal bytes
    assert 63 * BITS < detection.code_length_nats(x, "png")[0] <= 80 * BITS
  noise = (np.random.RandomState(1).rand(1, 28, 28, 1) > 0.5).astype(float)
  assert detection.code_length_nats(noise, "png")[0] - detection.code_length_nats(black, "png")[0] > 90 * BITS
  with pytest.raises(ValueError, match="unknown codec"):
    detection.code_length_nats(black, "jpeg")
