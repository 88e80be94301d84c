"""How good and how varied are generated images? Metrics on a classifier's outputs.

All functions take NumPy arrays (samples from anywhere) and compute on the host in float64:

* :func:`frechet_distance` — the Fréchet distance between Gaussians fitted to two sets of
  features (FID's formula; on the judge classifier's penultimate layer it is the MNIST
  analogue of FID, not comparable in absolute value with FID or TF-GAN's figures);
* :func:`classifier_score` — exp E_x KL(p(y|x) || p(y)) (the Inception-score analogue,
  TF-GAN's ``mnist_score``): 1 when every sample gets the same label, the number of classes
  for confident, evenly spread labels; :func:`label_histogram` and :func:`kl_to_uniform`;
* :func:`precision_recall` (Kynkäänniemi et al. 2019, k = 3) and :func:`density_coverage`
  (Naeem et al. 2020, k = 5) — manifolds as unions of k-nearest-neighbour balls, with the
  strict ``<`` of the reference implementation ``clovaai/generative-evaluation-prdc``;
* :func:`stacked_modes` — Stacked MNIST's mode count and KL (PacGAN's protocol) from the
  digit read in each channel.

:class:`SampleJudge` bundles them for one judge classifier and one reference set (the
test split); :func:`make_judge` builds the judge a run's dataset calls for.
"""
from __future__ import annotations

from typing import Callable, Optional

import ml_collections
import numpy as np

from jaxgen.data import load_dataset
from jaxgen.evaluation import translation
from jaxgen.evaluation import classifier as classifier_lib

PR_K = 3   # Kynkäänniemi et al.: k of the k-NN radius of precision and recall
DC_K = 5   # Naeem et al.: k of density and coverage


# ------------------------------------------------------------------ Fréchet distance
def _sqrtm_psd(c: np.ndarray) -> np.ndarray:
  """The symmetric square root of a positive semi-definite matrix (eigen-decomposition;
  negative rounding noise in the eigenvalues is clipped to 0)."""
  w, v = np.linalg.eigh(c)
  return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def gaussian_frechet(mu1, cov1, mu2, cov2) -> float:
  """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1 C2)^{1/2}) for two Gaussians, in float64.

  tr (C1 C2)^{1/2} = tr (C1^{1/2} C2 C1^{1/2})^{1/2}: the eigenvalues of the symmetric PSD
  matrix inside are real and >= 0, so no complex square root (scipy's ``sqrtm``) is needed."""
  mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
  cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
  s1 = _sqrtm_psd(cov1)
  inner = s1 @ cov2 @ s1
  eig = np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)
  value = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * np.sum(np.sqrt(eig))
  return float(max(value, 0.0))


def frechet_distance(features_a, features_b) -> float:
  """Fréchet distance between Gaussians fitted (mean, unbiased covariance) to two feature
  sets [N, D] and [M, D]."""
  a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
    raise ValueError(f"frechet_distance needs two feature sets [N, D] with the same D, got "
                     f"{list(a.shape)} and {list(b.shape)}")
  if min(a.shape[0], b.shape[0]) < 2:
    raise ValueError("frechet_distance needs at least 2 examples per set to fit a covariance")
  return gaussian_frechet(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


# ------------------------------------------------------------------ label statistics
def classifier_score(probs) -> float:
  """exp( mean_i KL(p(y|x_i) || p(y)) ), p(y) the mean of the rows of ``probs`` [N, K]."""
  p = np.asarray(probs, np.float64)
  marginal = p.mean(0, keepdims=True)
  with np.errstate(divide="ignore", invalid="ignore"):
    terms = np.where(p > 0, p * (np.log(p) - np.log(marginal)), 0.0)
  return float(np.exp(terms.sum(1).mean()))


def score_parts(probs) -> dict[str, float]:
  """The two entropies (nats) whose difference is the log of :func:`classifier_score`:
  ``marginal_entropy`` H(p(y)) of the mean prediction (log K at best: every class equally
  often) and ``label_entropy`` E_x H(p(y|x)) (0 at best: every sample read with certainty);
  log score = marginal_entropy - label_entropy. They tell a score lost to unbalanced
  classes from one lost to samples the classifier cannot read."""
  p = np.asarray(probs, np.float64)
  marginal = p.mean(0)
  with np.errstate(divide="ignore", invalid="ignore"):
    h_cond = -np.where(p > 0, p * np.log(p), 0.0).sum(1)
    h_marg = -np.where(marginal > 0, marginal * np.log(marginal), 0.0).sum()
  return {"marginal_entropy": float(h_marg), "label_entropy": float(h_cond.mean())}


def label_histogram(labels, num_classes: int) -> np.ndarray:
  """The share of each label 0..num_classes-1 among ``labels`` [N] (sums to 1)."""
  labels = np.asarray(labels).reshape(-1)
  return np.bincount(labels, minlength=num_classes)[:num_classes] / max(labels.size, 1)


def kl_to_uniform(histogram) -> float:
  """KL(q || uniform) = sum_{q_m > 0} q_m log(q_m M) in nats, for a histogram q over M bins
  (0 for uniform, log M when everything falls in one bin)."""
  q = np.asarray(histogram, np.float64)
  q = q / q.sum()
  nz = q[q > 0]
  return float(max(np.sum(nz * np.log(nz * q.size)), 0.0))


# ------------------------------------------------------------------ k-NN manifolds
def pairwise_distances(a, b, block: int = 2048) -> np.ndarray:
  """Euclidean distances [N, M] between the rows of ``a`` and ``b`` (float64, in row blocks
  so that the squared-norm expansion never holds more than ``block`` x M entries at once)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  b2 = np.sum(b * b, axis=1)
  out = np.empty((a.shape[0], b.shape[0]))
  for i in range(0, a.shape[0], block):
    ab = a[i:i + block]
    sq = np.sum(ab * ab, axis=1)[:, None] + b2[None, :] - 2.0 * ab @ b.T
    out[i:i + block] = np.sqrt(np.clip(sq, 0.0, None))
  return out


def knn_radii(x, k: int) -> np.ndarray:
  """Distance of each row of ``x`` to its k-th nearest neighbour among the *other* rows."""
  x = np.asarray(x, np.float64)
  if not 1 <= k < x.shape[0]:
    raise ValueError(f"k-nearest-neighbour radii need 1 <= k < N, got k={k} for N={x.shape[0]}")
  d = pairwise_distances(x, x)
  # the k+1-th smallest entry of each row: the 1st is the row's zero distance to itself
  return np.partition(d, k, axis=1)[:, k]


def precision_recall(real, fake, k: int = PR_K) -> dict[str, float]:
  """Improved precision and recall (Kynkäänniemi et al. 2019) of feature sets [N, D], [M, D].

  precision: share of fake points inside the real manifold (some real ball B(r_i, NN_k(r_i)));
  recall: share of real points inside the fake manifold (balls around the fake points)."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  d = pairwise_distances(real, fake)                      # [N, M]
  r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
  precision = np.mean(np.any(d < r_real[:, None], axis=0))
  recall = np.mean(np.any(d < r_fake[None, :], axis=1))
  return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real, fake, k: int = DC_K) -> dict[str, float]:
  """Density and coverage (Naeem et al. 2020) of feature sets [N, D] (real), [M, D] (fake).

  density = (1 / kM) sum_j #{i : d(f_j, r_i) < NN_k(r_i)} (about 1 for matching
  distributions, > 1 where fakes crowd dense regions); coverage = share of real points
  whose ball holds at least one fake point."""
  real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
  d = pairwise_distances(real, fake)
  inside = d < knn_radii(real, k)[:, None]                 # [N, M]
  return {"density": float(inside.sum() / (k * fake.shape[0])),
          "coverage": float(np.mean(inside.any(axis=1)))}


# ------------------------------------------------------------------ Stacked MNIST
def stacked_mode_index(channel_digits, num_classes: int = 10) -> np.ndarray:
  """The mode [N] of per-channel digits [N, C]: ``sum_c digit_c * num_classes^(C-1-c)``
  (100 a + 10 b + c for three channels: the labels of ``stacked_mnist_subset``)."""
  digits = np.asarray(channel_digits)
  weights = num_classes ** np.arange(digits.shape[1] - 1, -1, -1)
  return digits @ weights


def stacked_modes(channel_digits, num_channels: int = 3, num_classes: int = 10) -> dict:
  """Mode coverage of Stacked MNIST samples from the digit [N, C] read in each channel.

  Mode ``sum_c digit_c * num_classes^(C-1-c)`` (100 a + 10 b + c for three channels);
  ``modes``: how many of the num_classes^C modes occur; ``reverse_kl``: KL(mode histogram
  || uniform) in nats (PacGAN's reverse KL; 0 for uniform coverage, log 1000 = 6.91 for one
  mode)."""
  digits = np.asarray(channel_digits).reshape(-1, num_channels)
  modes = stacked_mode_index(digits, num_classes)
  hist = np.bincount(modes, minlength=num_classes ** num_channels)
  return {"modes": int(np.count_nonzero(hist)), "reverse_kl": kl_to_uniform(hist),
          "num_samples": int(digits.shape[0])}


# ------------------------------------------------------------------ judges
class SampleJudge:
  """Sample metrics of images [N, H, W, C] in [0, 1] against a reference set (the test
  split), in the feature space of one judge classifier.

  ``judge(samples)`` returns ``fd`` (Fréchet distance), ``classifier_score``,
  ``label_kl`` (KL of the predicted-label histogram to uniform), ``precision``,
  ``recall``, ``density``, ``coverage``, the score's two parts (:func:`score_parts`:
  ``marginal_entropy``, ``label_entropy``) and ``confident`` (the percentage of samples the
  classifier reads with probability >= :attr:`confidence`); :meth:`label_histogram` the
  histogram itself."""

  confidence = 0.9

  def __init__(self, classifier, reference, num_classes: Optional[int] = None):
    self.classifier = classifier
    self.reference = np.asarray(reference, np.float32)
    self.reference_features = classifier.features(self.reference)
    self.num_classes = int(num_classes or classifier.info.get("num_classes", 10))

  def label_histogram(self, samples) -> np.ndarray:
    return label_histogram(self.classifier.predict(samples), self.num_classes)

  def __call__(self, samples) -> dict[str, float]:
    samples = np.asarray(samples, np.float32)
    logits, feats = self.classifier.outputs(samples)      # one pass: labels and features
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    out = {"fd": frechet_distance(feats, self.reference_features),
           "classifier_score": classifier_score(probs),
           "label_kl": kl_to_uniform(label_histogram(logits.argmax(1), self.num_classes))}
    out.update(score_parts(probs))
    out["confident"] = float(100.0 * np.mean(probs.max(1) >= self.confidence))
    out.update(precision_recall(self.reference_features, feats))
    out.update(density_coverage(self.reference_features, feats))
    return out


class FeatureJudge:
  """The sample metrics of an unlabelled image dataset, on the features of a classifier
  trained to tell its training images apart (:func:`jaxgen.evaluation.classifier.
  exemplar_dataset`), against a reference set (the test split) in [0, 1]:
  ``judge(samples)`` returns ``fd``, ``precision``, ``recall``, ``density`` and
  ``coverage``."""

  def __init__(self, classifier, reference):
    self.classifier = classifier
    self.reference = np.asarray(reference, np.float32)
    self.reference_features = classifier.features(self.reference)

  def __call__(self, samples) -> dict[str, float]:
    feats = self.classifier.features(np.asarray(samples, np.float32))
    out = {"fd": frechet_distance(feats, self.reference_features)}
    out.update(precision_recall(self.reference_features, feats))
    out.update(density_coverage(self.reference_features, feats))
    return out


class StackedModeJudge:
  """Stacked MNIST's metric: each channel of images [N, H, W, C] in [0, 1] read by a digit
  classifier; returns :func:`stacked_modes` (``modes``, ``reverse_kl``) of the samples and
  ``confident``: the percentage of samples whose every channel the classifier reads with
  probability >= :attr:`confidence` (the classifier names a digit for any blot, so mode
  counts alone cannot tell digits from noise)."""

  counts_modes = True     # the evaluator draws eval.num_mode_samples for it
  confidence = 0.9

  def __init__(self, classifier, num_channels: int = 3):
    self.classifier, self.num_channels = classifier, int(num_channels)

  def _per_channel(self, samples) -> np.ndarray:
    x = np.asarray(samples, np.float32)
    n, c = x.shape[0], x.shape[-1]
    return np.moveaxis(x, -1, 1).reshape((n * c,) + x.shape[1:-1] + (1,))

  def channel_digits(self, samples) -> np.ndarray:
    """The digit read in each channel, [N, C]."""
    n = np.asarray(samples).shape[0]
    return self.classifier.predict(self._per_channel(samples)).reshape(n, -1)

  def __call__(self, samples) -> dict:
    n = np.asarray(samples).shape[0]
    probs = np.asarray(self.classifier.probs(self._per_channel(samples)))
    digits = probs.argmax(-1).reshape(n, -1)
    sure = (probs.max(-1) >= self.confidence).reshape(n, -1).all(axis=1)
    out = stacked_modes(digits, self.num_channels, probs.shape[-1])
    out["confident"] = float(100.0 * sure.mean())
    return out


def base_dataset_config(dataset_config) -> ml_collections.ConfigDict:
  """``dataset_config`` without the class filters (the judge classifier reads every
  class, whatever subset a model was trained on)."""
  c = ml_collections.ConfigDict(dataset_config.to_dict())
  c.classes, c.exclude_classes = (), ()
  return c


def judge_dataset(dataset, dataset_config):
  """The dataset a judge classifier of ``dataset`` trains on: ``dataset`` itself, or, where
  the config kept only some classes (``info['train_classes']``), the same dataset with all."""
  return load_dataset(base_dataset_config(dataset_config)) if "train_classes" in dataset.info \
      else dataset


def make_judge(dataset, dataset_config, evaluation, log: Callable[[str], None] = print,
               model=None, num_classes: int = 10):
  """The sample judge a run's data (and model) calls for, or None. Settings: the config's
  ``dataset`` group (``dataset_config``: which dataset, to reload it without class filters),
  its ``eval`` group (``evaluation``: ``sample_metrics``, ``batch_size``) and a
  label-conditioned model's ``num_classes``. The judge:

  * a conditional ``model`` (pix2pix on a paired dataset, the conditional VAE): the judge
    of :func:`jaxgen.evaluation.translation.make_translation_judge` (PSNR/SSIM against
    baselines; style transfer plus this function's :class:`SampleJudge`);
  * Stacked MNIST (``info['channel_dataset']``): :class:`StackedModeJudge` with that
    dataset's judge classifier, on ``eval.num_mode_samples`` samples;
  * a labelled image dataset with ``eval.sample_metrics``: :class:`SampleJudge`
    with its judge classifier against the preprocessed-to-[0, 1] test split;
  * an unlabelled image dataset with ``eval.sample_metrics`` (a folder of your own
    images): :class:`FeatureJudge`, with a feature extractor trained to tell its training
    images apart (:func:`~jaxgen.evaluation.classifier.exemplar_dataset`,
    :func:`~jaxgen.evaluation.classifier.feature_config`; cached like the judge classifier);
  * anything else (points, ``sample_metrics`` off): None."""
  if getattr(model, "condition", "none") != "none":
    def classifier_for(name):
      base = load_dataset(ml_collections.ConfigDict({"name": name, "classes": (),
                                                     "exclude_classes": ()})) if name else (
          judge_dataset(dataset, dataset_config))
      return classifier_lib.judge_classifier(base, log=log)

    samples = None
    if model.condition == "label" and evaluation.sample_metrics:
      samples = SampleJudge(classifier_for(None), dataset.test.astype(np.float32) / 255.0)
    return translation.make_translation_judge(dataset, model, classifier_for, samples,
                                              evaluation, num_classes)
  if dataset.kind != "image" or not evaluation.sample_metrics:
    return None
  channel = dataset.info.get("channel_dataset")
  if channel:
    base = load_dataset(ml_collections.ConfigDict({"name": channel, "classes": (),
                                                   "exclude_classes": ()}))
    return StackedModeJudge(classifier_lib.judge_classifier(base, log=log),
                            dataset.example_shape[-1])
  if dataset.test_labels is None or dataset.train_labels is None:
    config = classifier_lib.feature_config(dataset.example_shape)
    clf = classifier_lib.judge_classifier(classifier_lib.exemplar_dataset(dataset, config),
                                          config, log=log)
    return FeatureJudge(clf, dataset.test.astype(np.float32) / 255.0)
  clf = classifier_lib.judge_classifier(judge_dataset(dataset, dataset_config), log=log)
  return SampleJudge(clf, dataset.test.astype(np.float32) / 255.0)
