"""What the studio's pages compute, as plain Python over a loaded run (no web here).

One class per page, each built from a :class:`jaxgen.uses.loading.Trained` and answering
with NumPy arrays and numbers; :mod:`jaxgen.studio.server` turns them into JSON (images as
PNG data URLs). Every answer is the library's own: a decode is :meth:`Trained.decode`, a
score is :func:`jaxgen.uses.anomaly.anomaly_scores`, a label the judge classifier's, a
metric :mod:`jaxgen.evaluation.image_quality`'s — the pages add no math of their own.

* :class:`LatentView` (AE, VAE, conditional VAE): sliders over the latent, interpolation,
  attribute vectors, the 2-D code map, scoring a drawn image;
* :class:`ImageGanView` (GAN on images): sample grids and a latent walk;
* :class:`TranslationView` (pix2pix): a test input or an uploaded image beside bicubic,
  the model and the truth, with PSNR and SSIM.

The 2-D GAN's live training is :mod:`jaxgen.studio.gan_lab`; the runs table
:mod:`jaxgen.studio.runs`.
"""
from __future__ import annotations

import base64
import io
import threading
from typing import Optional

import jax
import numpy as np
from PIL import Image

from jaxgen.data.folders import decode_image
from jaxgen.data.preprocess import deterministic, preprocess
from jaxgen.evaluation import classifier as classifier_lib
from jaxgen.evaluation import image_quality as iq
from jaxgen.evaluation.sample_quality import judge_dataset
from jaxgen.evaluation.translation import baselines
from jaxgen.plotting import image_grid
from jaxgen.uses import anomaly, explore
from jaxgen.uses.loading import Trained

MAX_SLIDERS = 10          # latents up to this size get a slider per axis; larger ones PCA's top
CODEMAP_POINTS = 1000     # test codes drawn on the code map
INTERPOLATIONS = ("linear", "spherical")
MAP_METHODS = ("pca", "tsne")   # the code map of a latent with more than 2 dimensions


class StudioError(ValueError):
  """A request the studio cannot answer as asked (the message says what to send instead)."""


# ------------------------------------------------------------------------------ images
def png_data_url(image) -> str:
  """An image [H, W, C] (C = 1 or 3) in [0, 1] as a ``data:image/png;base64,...`` URL."""
  x = np.clip(np.nan_to_num(np.asarray(image, np.float32)), 0.0, 1.0)
  x = np.round(x * 255.0).astype(np.uint8)
  x = x[..., 0] if x.ndim == 3 and x.shape[-1] == 1 else x
  buf = io.BytesIO()
  Image.fromarray(x).save(buf, format="PNG")
  return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_from_data_url(url: str, size: int, channels: int) -> np.ndarray:
  """A PNG/JPEG data URL (or bare base64) decoded as an image file of a folder dataset is
  (:func:`jaxgen.data.folders.decode_image`: converted to ``channels``, 1 or 3, and resized
  to ``size`` x ``size`` with bicubic resampling): [size, size, channels] uint8."""
  try:
    raw = base64.b64decode(url.split(",", 1)[-1], validate=False)
    return decode_image(io.BytesIO(raw), channels, size)
  except Exception as e:  # noqa: BLE001 - any undecodable upload is the client's error
    raise StudioError(f"the image could not be decoded ({type(e).__name__}); send a PNG or "
                      f"JPEG as a data URL") from None


def _index(value, size: int, what: str) -> int:
  try:
    i = int(value)
  except (TypeError, ValueError):
    raise StudioError(f"{what} must be an integer, got {value!r}") from None
  if not 0 <= i < size:
    raise StudioError(f"{what}={i} is out of range: use 0..{size - 1}")
  return i


def _vector(values, size: int, what: str) -> np.ndarray:
  try:
    v = np.asarray(values, np.float64)
  except (TypeError, ValueError):
    raise StudioError(f"{what} must be a list of {size} numbers") from None
  if v.shape != (size,) or not np.all(np.isfinite(v)):
    raise StudioError(f"{what} must be a list of {size} finite numbers, got shape "
                      f"{list(v.shape)}")
  return v


def _number(value, what: str, low: float, high: float) -> float:
  try:
    v = float(value)
  except (TypeError, ValueError):
    raise StudioError(f"{what} must be a number, got {value!r}") from None
  if not (np.isfinite(v) and low <= v <= high):
    raise StudioError(f"{what}={v} is out of range: use {low}..{high}")
  return v


# ------------------------------------------------------------------------------ latent
class LatentView:
  """The latent-space page of an AE, VAE or conditional VAE.

  The sliders move a code ``z = base + (coords * scales) @ axes`` away from a base code
  (the training codes' mean, or a test example's code): the axes are the code's own when
  it has at most :data:`MAX_SLIDERS` dimensions, else the top principal directions of the
  training codes; ``scales`` are the training codes' standard deviations along them, so a
  slider counts standard deviations. Codes are posterior means (:meth:`Trained.encode`).
  """
  kind = "latent"

  def __init__(self, trained: Trained, log=print):
    self.trained = trained
    self.model = trained.model
    self.conditional = trained.model.condition == "label"
    self.likelihood = bool(getattr(trained.model, "has_likelihood", False))
    test, train = trained.test_x, trained.train_x
    self.test = np.asarray(test["x"] if self.conditional else test)
    self.test_labels = None if trained.test_labels is None else np.asarray(trained.test_labels)
    train_labels = None if trained.train_labels is None else np.asarray(trained.train_labels)
    self.codes = trained.codes(self.test, labels=self.test_labels if self.conditional else None)
    train_codes = trained.codes(np.asarray(train["x"] if self.conditional else train),
                                labels=train_labels if self.conditional else None)
    self.train_codes, self.train_labels = train_codes, train_labels
    self.mean = train_codes.mean(0)
    dim = train_codes.shape[1]
    if dim <= MAX_SLIDERS:
      self.axes_kind, self.axes = "own", np.eye(dim)
      self.scales = train_codes.std(0)
    else:
      centred = train_codes - self.mean
      _, s, vt = np.linalg.svd(centred, full_matrices=False)
      self.axes_kind, self.axes = "pca", vt[:MAX_SLIDERS]
      self.scales = s[:MAX_SLIDERS] / np.sqrt(max(len(centred) - 1, 1))
    self.scales = np.maximum(self.scales, 1e-6)
    rng = np.random.default_rng(int(trained.config.seed))
    self.map_rows = np.sort(rng.choice(len(self.codes), min(CODEMAP_POINTS, len(self.codes)),
                                       replace=False))
    self._map_pca = None
    self._map_tsne = None
    self._reference: Optional[dict] = None
    self._classifier = None
    self._lock = threading.Lock()
    self.log = log

  # -------------------------------------------------------------------- info
  def info(self) -> dict:
    t = self.trained
    num_classes = int(t.config.model.num_classes) if self.conditional else None
    return {"kind": self.kind, "model": t.config.model.name, "dataset": t.dataset.name,
            "step": t.step, "latent_dim": int(self.mean.shape[0]),
            "axes": self.axes_kind, "sliders": int(self.axes.shape[0]),
            "image_shape": list(self.test.shape[1:]), "num_test": int(len(self.test)),
            "labels": None if self.test_labels is None else self.test_labels.tolist(),
            "conditional": self.conditional, "num_classes": num_classes,
            "likelihood": self.likelihood,
            "scores": [] if self.conditional else list(anomaly.score_names(self.model))}

  # -------------------------------------------------------------------- codes
  def base_code(self, base) -> np.ndarray:
    """The code the sliders start from: 'mean' (the training codes' mean) or a test index."""
    if base is None or base == "mean":
      return self.mean
    return self.codes[_index(base, len(self.codes), "base")]

  def code(self, coords, base="mean") -> np.ndarray:
    """The code at slider positions ``coords`` (standard deviations) from ``base``."""
    c = _vector(coords, self.axes.shape[0], "coords")
    return self.base_code(base) + (c * self.scales) @ self.axes

  def _label(self, label) -> Optional[int]:
    if not self.conditional:
      return None
    return _index(0 if label is None else label, int(self.trained.config.model.num_classes),
                  "label")

  def decode(self, z, label=None) -> np.ndarray:
    """The image [H, W, C] of one code ``z`` (a conditional VAE's under ``label``)."""
    z = _vector(z, self.mean.shape[0], "z")
    label = self._label(label)
    labels = None if label is None else np.array([label])
    return np.asarray(self.trained.decode(z[None].astype(np.float32), labels))[0]

  def example(self, index) -> dict:
    """Test example ``index``: its image, label, code and the code's slider coordinates
    from the mean (its projection on the slider axes)."""
    i = _index(index, len(self.test), "index")
    return {"image": self.test[i], "code": self.codes[i],
            "coords": ((self.codes[i] - self.mean) @ self.axes.T) / self.scales,
            "label": None if self.test_labels is None else int(self.test_labels[i])}

  def interpolate(self, a, b, t, method: str = "linear", label=None) -> np.ndarray:
    """The decode of the point a fraction ``t`` of the way from test example ``a``'s code
    to ``b``'s, on the straight line or the great circle (:mod:`jaxgen.uses.explore`)."""
    za = self.codes[_index(a, len(self.codes), "a")]
    zb = self.codes[_index(b, len(self.codes), "b")]
    t = _number(t, "t", 0.0, 1.0)
    if method not in INTERPOLATIONS:
      raise StudioError(f"method must be one of {INTERPOLATIONS}, got {method!r}")
    at = explore.lerp_at if method == "linear" else explore.slerp_at
    return self.decode(at(za, zb, [t])[0], label)

  def attribute(self, index, a, b, strength, label=None) -> np.ndarray:
    """Test example ``index``'s code plus ``strength`` times the attribute vector from
    class ``a`` to class ``b`` (mean training code of b minus that of a), decoded."""
    if self.train_labels is None:
      raise StudioError(f"{self.trained.dataset.name!r} has no labels: attribute vectors "
                        f"need a labelled dataset")
    classes = np.unique(self.train_labels)
    for c in (a, b):
      if c not in classes:
        raise StudioError(f"class {c!r} is not in the training labels {classes.tolist()}")
    v = explore.attribute_vector(self.train_codes, self.train_labels, int(a), int(b))
    s = _number(strength, "strength", -3.0, 3.0)
    return self.decode(self.codes[_index(index, len(self.codes), "index")] + s * v, label)

  # -------------------------------------------------------------------- code map
  def _map_method(self, method) -> str:
    if self.mean.shape[0] == 2:
      return "latent"
    method = "pca" if method is None else method
    if method not in MAP_METHODS:
      raise StudioError(f"method must be one of {MAP_METHODS}, got {method!r}")
    return method

  def code_map(self, method: str = "pca") -> dict:
    """2-D positions of :data:`CODEMAP_POINTS` test codes: the codes themselves for a 2-D
    latent, else their projection on the two principal directions of the training codes
    (``method='pca'``) or their t-SNE embedding (``'tsne'``, :func:`explore.project_2d`
    seeded by the run's seed; computed once)."""
    method = self._map_method(method)
    codes = self.codes[self.map_rows]
    if method == "latent":
      xy = codes
    elif method == "pca":
      xy = (codes - self.mean) @ self._pca2().T
    else:
      xy = self._tsne()
    labels = None if self.test_labels is None else self.test_labels[self.map_rows].tolist()
    return {"method": method, "points": np.round(xy, 4).tolist(),
            "rows": self.map_rows.tolist(), "labels": labels}

  def _pca2(self) -> np.ndarray:
    if self._map_pca is None:
      _, _, vt = np.linalg.svd(self.train_codes - self.mean, full_matrices=False)
      self._map_pca = vt[:2]
    return self._map_pca

  def _tsne(self) -> np.ndarray:
    with self._lock:
      if self._map_tsne is None:
        self.log(f"t-SNE of {len(self.map_rows)} test codes")
        self._map_tsne = explore.project_2d(self.codes[self.map_rows], "tsne",
                                            seed=int(self.trained.config.seed))
      return self._map_tsne

  def map_code(self, x, y, method: str = "pca") -> np.ndarray:
    """The code at map position (x, y): itself for a 2-D latent; for PCA the training mean
    plus the position along the two principal directions; t-SNE has no inverse, so the
    code of the nearest test point on the map."""
    p = np.array([_number(x, "x", -1e6, 1e6), _number(y, "y", -1e6, 1e6)])
    method = self._map_method(method)
    if method == "latent":
      return p
    if method == "pca":
      return self.mean + p @ self._pca2()
    nearest = int(np.argmin(((self._tsne() - p) ** 2).sum(1)))
    return self.codes[self.map_rows[nearest]]

  # -------------------------------------------------------------------- scoring
  def reference(self) -> dict:
    """The test split's anomaly scores (computed once, :func:`anomaly.anomaly_scores` with
    the run's keys: a VAE's mean ``nll`` is ``eval.json``'s test NLL)."""
    with self._lock:
      if self._reference is None:
        t = self.trained
        self.log(f"scoring the {len(self.test)} test examples (the anomaly reference)")
        self._reference = anomaly.anomaly_scores(
            self.model, t.state, t.test_x, t.key, int(t.config.eval.nll_samples),
            batch_size=int(t.config.eval.batch_size))
      return self._reference

  def classifier(self):
    """The judge classifier of the run's dataset (None for unlabelled data)."""
    with self._lock:
      if self._classifier is None and self.test_labels is not None:
        base = judge_dataset(self.trained.dataset, self.trained.config.dataset)
        self._classifier = classifier_lib.judge_classifier(base, log=self.log)
      return self._classifier

  def prepare(self, pixels) -> np.ndarray:
    """Drawn pixels (values in [0, 1], the image's shape or flat) as the model's input:
    mapped to uint8 and preprocessed as the run's test split is (deterministically)."""
    shape = self.test.shape[1:]
    try:
      p = np.asarray(pixels, np.float64)
    except (TypeError, ValueError):
      raise StudioError("pixels must be a list of numbers in [0, 1]") from None
    if p.size != int(np.prod(shape)) or not np.all(np.isfinite(p)):
      raise StudioError(f"pixels must hold {int(np.prod(shape))} finite numbers (an image of "
                        f"shape {list(shape)}), got {p.size}")
    raw = np.round(np.clip(p, 0.0, 1.0) * 255.0).astype(np.uint8).reshape(shape)
    mode = deterministic(self.trained.config.dataset.eval_preprocess)
    return np.asarray(preprocess(raw[None], self.trained.key, mode))

  def score(self, pixels, label=None) -> dict:
    """A drawn image scored as the library scores test data: its reconstruction, its
    anomaly scores (:func:`jaxgen.uses.anomaly.anomaly_scores`: -ELBO, NLL and the
    complexity-corrected NLLs for a VAE, the reconstruction loss for an AE; the run's keys
    and sample counts) with the fraction of test examples that score lower, and the judge
    classifier's label; for a conditional VAE (no anomaly score) its style under every
    label."""
    x = self.prepare(pixels)
    t = self.trained
    label = self._label(label)
    out = {"input": x[0], "scores": {}, "percentile": {}}
    if not self.conditional:      # the library's anomaly scores are for the AE and the VAE
      scores = anomaly.anomaly_scores(self.model, t.state, x, t.key,
                                      int(t.config.eval.nll_samples), batch_size=1)
      ref = self.reference()
      out["scores"] = {k: float(v[0]) for k, v in scores.items()}
      out["percentile"] = {k: float(np.mean(ref[k] < v[0])) for k, v in scores.items()}
    labels = None if label is None else np.array([label])
    z = np.asarray(t.encode(x, labels))
    out["recon"] = np.asarray(t.decode(z, labels))[0]
    clf = self.classifier()
    if clf is not None:
      probs = clf.probs(x)[0]
      out["label"], out["probs"] = int(np.argmax(probs)), np.round(probs, 4).tolist()
    if self.conditional:
      k = int(t.config.model.num_classes)
      out["styles"] = np.asarray(t.transfer(np.repeat(x, k, 0), np.full(k, label),
                                            np.arange(k)))
    return out


# ------------------------------------------------------------------------------ GAN images
class ImageGanView:
  """The page of a GAN on images: a sample grid per seed, and a walk between two noise
  draws (spherical, as Gaussian noise is best walked)."""
  kind = "gan_images"

  def __init__(self, trained: Trained, grid: int = 64):
    self.trained, self.grid = trained, int(grid)

  def info(self) -> dict:
    t = self.trained
    return {"kind": self.kind, "model": t.config.model.name, "dataset": t.dataset.name,
            "step": t.step, "noise_dim": int(t.model.noise_dim), "grid": self.grid,
            "image_shape": list(t.dataset.example_shape)}

  def noise(self, seed) -> np.ndarray:
    """The noise of ``seed``: the model's own sampling noise drawn with key ``seed``."""
    seed = _index(seed, 2**31 - 1, "seed")
    return np.asarray(self.trained.model.sample_noise(jax.random.PRNGKey(seed), self.grid))

  def samples(self, seed) -> np.ndarray:
    """A grid of :attr:`grid` samples for ``seed`` ([H, W, C] picture)."""
    return image_grid(np.asarray(self.trained.generate_from(self.noise(seed))))

  def walk(self, seed_a, seed_b, t) -> np.ndarray:
    """The sample a fraction ``t`` of the way from the first noise of ``seed_a`` to that of
    ``seed_b`` along the great circle."""
    za, zb = self.noise(seed_a)[0], self.noise(seed_b)[0]
    z = explore.slerp_at(za, zb, [_number(t, "t", 0.0, 1.0)])
    return np.asarray(self.trained.generate_from(z.astype(np.float32)))[0]


# ------------------------------------------------------------------------------ pix2pix
class TranslationView:
  """The page of pix2pix: an input (a test example, or an uploaded image resized to the
  inputs' size) beside the bicubic upsampling (super-resolution) or the gray input
  (colorization), the model's output and the truth, with PSNR and SSIM against the truth."""
  kind = "translation"

  def __init__(self, trained: Trained):
    self.trained = trained
    d = trained.dataset
    self.task = d.info.get("task", "super_resolution")
    self.inputs = np.asarray(trained.test_x["cond"])          # as the model takes them
    self.truth = d.test.astype(np.float32) / 255.0            # images in [0, 1]
    self.low = d.test_inputs.astype(np.float32) / 255.0       # the inputs in [0, 1]

  def info(self) -> dict:
    t = self.trained
    return {"kind": self.kind, "model": t.config.model.name, "dataset": t.dataset.name,
            "step": t.step, "task": self.task, "num_test": int(len(self.inputs)),
            "input_shape": list(self.inputs.shape[1:]), "output_shape": list(self.truth.shape[1:])}

  def _baseline(self, x: np.ndarray) -> tuple[str, np.ndarray]:
    name = "gray" if self.task == "colorization" else "bicubic"
    return name, baselines(self.task, x, self.truth.shape[1:])[name]

  def _translate(self, x: np.ndarray, low: np.ndarray) -> dict:
    """``x``: the model's input (preprocessed); ``low``: the same in [0, 1]."""
    name, base = self._baseline(low)
    out = np.asarray(self.trained.translate(x))
    return {"input": low[0], "baseline_name": name, "baseline": base[0], "output": out[0]}

  def example(self, index) -> dict:
    """Test example ``index``: input, baseline, output, truth and the metrics."""
    i = _index(index, len(self.inputs), "index")
    res = self._translate(self.inputs[i:i + 1], self.low[i:i + 1])
    truth = self.truth[i:i + 1]
    res["truth"] = truth[0]
    for what in ("baseline", "output"):
      res[f"{what}_psnr"] = float(iq.psnr(truth, res[what][None])[0])
      res[f"{what}_ssim"] = float(iq.ssim(truth, res[what][None])[0])
    return res

  def upload(self, data_url: str) -> dict:
    """An uploaded image as the input (converted and resized to the inputs' shape,
    preprocessed as the test inputs): input, baseline and output (no truth)."""
    h, w, c = self.inputs.shape[1:]         # square in every paired dataset
    raw = image_from_data_url(data_url, h, c)
    mode = deterministic(self.trained.config.dataset.eval_preprocess)
    x = np.asarray(preprocess(raw[None], self.trained.key, mode))
    return self._translate(x, raw[None].astype(np.float32) / 255.0)
