"""The judge classifier: a small CNN that jaxgen trains itself on a dataset's training
split and then uses as the yardstick of generated and edited images (which digit is this?
how sure? its penultimate-layer features for distances between image sets).

Training is deterministic (a pure function of the dataset and :class:`ClassifierConfig`:
init and data order from ``seed``, the whole run jitted), and the result is cached in
``~/.cache/jaxgen/classifiers`` under a key made of the dataset's name, a hash of its
training images and labels, and the config; a later call loads it instead of training.

Inputs are images in [0, 1] (what decoders produce: grey means, or binary digits); the
classifier trains on the grey images with random shifts of up to ``shift`` pixels and, for
half of each batch, a random binarization, so that it reads both forms.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from typing import Callable, Optional

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxgen.data import Dataset
from jaxgen.nets.layers import Conv, Dense

# The accuracy on the test split below which the classifier is not fit to be a yardstick
# on mnist_subset (issue "Using trained models").
REQUIRED_ACCURACY = {"mnist_subset": 0.97}


@dataclasses.dataclass(frozen=True)
class ClassifierConfig:
  """How the judge classifier is built and trained (part of its cache key)."""
  channels: tuple[int, ...] = (32, 64)   # a 4x4 stride-2 convolution per entry
  hidden: int = 128                      # the penultimate layer: the feature dimension
  epochs: int = 30
  batch_size: int = 128
  learning_rate: float = 1e-3
  shift: int = 2                         # random translation, pixels (0: off)
  seed: int = 0
  binarize: bool = True                  # half of each batch binarized (digits read both ways)
  flip: bool = False                     # each image flipped left-right with probability 1/2
  jitter: float = 0.0                    # > 0: brightness and contrast each scaled by a
                                         # factor in [1 - jitter, 1 + jitter] per image


# Fields added after judges were first cached, with the value they had implicitly before:
# left out of the cache key at that value, so the judges cached then are still found.
_LATER_FIELDS = {"binarize": True, "flip": False, "jitter": 0.0}

# The feature extractor of an unlabelled image dataset: the same CNN, with a third conv
# level, trained to tell up to EXEMPLARS of its training images apart, each seen in a new
# random shift, left-right flip and brightness / contrast change every epoch (Exemplar-CNN,
# Dosovitskiy et al. 2014: :func:`exemplar_dataset`). Its features must separate images
# and ignore those small changes; nothing about a class, orientation or content is assumed.
EXEMPLARS = 1000


def feature_config(example_shape) -> ClassifierConfig:
  """The :class:`ClassifierConfig` of the feature extractor of images of ``example_shape``
  (the shift a sixteenth of the height, at least a pixel)."""
  return ClassifierConfig(channels=(32, 64, 128), hidden=128, epochs=60, binarize=False,
                          shift=max(1, int(example_shape[0]) // 16), flip=True, jitter=0.2)


class CNN(nn.Module):
  """A 4x4 stride-2 ReLU convolution per entry of ``channels``, Dense(hidden) + ReLU (the
  features), Dense(num_classes) (the logits). jaxgen's own layers (fast gradients on CPU)."""
  channels: tuple[int, ...]
  hidden: int
  num_classes: int

  @nn.compact
  def __call__(self, x):
    for c in self.channels:
      x = nn.relu(Conv(c, (4, 4), strides=(2, 2), padding="SAME")(x))
    h = nn.relu(Dense(self.hidden)(x.reshape(x.shape[0], -1)))
    return Dense(self.num_classes)(h), h


def _shift(x: jax.Array, key: jax.Array, pixels: int) -> jax.Array:
  """Each image moved by its own random offset in [-pixels, pixels]^2 (zero fill)."""
  n, h, w, _ = x.shape
  padded = jnp.pad(x, ((0, 0), (pixels, pixels), (pixels, pixels), (0, 0)))
  offsets = jax.random.randint(key, (n, 2), 0, 2 * pixels + 1)
  return jax.vmap(lambda im, o: jax.lax.dynamic_slice(im, (o[0], o[1], 0), (h, w, im.shape[-1])))(
      padded, offsets)


class Classifier:
  """A trained judge classifier: ``logits``, ``probs``, ``predict``, ``features``
  (penultimate layer) and ``accuracy`` on images [N, H, W, C] in [0, 1], in batches."""

  def __init__(self, module: CNN, params, info: dict):
    self.module, self.params, self.info = module, params, info
    self._apply = jax.jit(lambda p, x: module.apply({"params": p}, x))

  @property
  def test_accuracy(self) -> float:
    return float(self.info["test_accuracy"])

  def outputs(self, x, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(logits [N, classes], features [N, hidden]) of images [N, H, W, C] in [0, 1], in
    one pass through the network, in batches of ``batch_size``."""
    x = np.asarray(x, np.float32)
    if x.ndim == 3:
      x = x[..., None]
    logits, feats = [], []
    for i in range(0, x.shape[0], batch_size):
      xb = x[i:i + batch_size]
      pad = batch_size - xb.shape[0] if x.shape[0] > batch_size else 0
      if pad:
        xb = np.concatenate([xb, np.zeros((pad,) + xb.shape[1:], np.float32)])
      lo, h = self._apply(self.params, xb)
      logits.append(np.asarray(lo)[:batch_size - pad])
      feats.append(np.asarray(h)[:batch_size - pad])
    return np.concatenate(logits), np.concatenate(feats)

  def logits(self, x) -> np.ndarray:
    return self.outputs(x)[0]

  def probs(self, x) -> np.ndarray:
    return np.asarray(jax.nn.softmax(self.logits(x), axis=-1))

  def predict(self, x) -> np.ndarray:
    return self.logits(x).argmax(-1)

  def features(self, x) -> np.ndarray:
    """The penultimate layer's activations [N, hidden]."""
    return self.outputs(x)[1]

  def accuracy(self, x, labels) -> float:
    return float(np.mean(self.predict(x) == np.asarray(labels)))


def _fingerprint(dataset: Dataset, config: ClassifierConfig) -> str:
  h = hashlib.sha256()
  h.update(dataset.name.encode())
  h.update(np.ascontiguousarray(dataset.train).tobytes())
  h.update(np.ascontiguousarray(dataset.train_labels).tobytes())
  fields = {k: v for k, v in dataclasses.asdict(config).items()
            if k not in _LATER_FIELDS or v != _LATER_FIELDS[k]}
  h.update(json.dumps(fields, sort_keys=True).encode())
  return h.hexdigest()[:16]


def augment(images: np.ndarray, config: ClassifierConfig, seed: int) -> np.ndarray:
  """``images`` [N, H, W, C] in [0, 1] each changed once as :func:`train_classifier` changes
  its batches (shift, flip, jitter of ``config``), drawn from ``seed``: what an exemplar's
  test view is."""
  x = jnp.asarray(images, jnp.float32)
  return np.asarray(_augment(x, jax.random.PRNGKey(seed), config))


def _augment(x: jax.Array, key: jax.Array, config: ClassifierConfig) -> jax.Array:
  k_shift, k_flip, k_jitter = jax.random.split(key, 3)
  if config.shift:
    x = _shift(x, k_shift, config.shift)
  if config.flip:
    flip = jax.random.bernoulli(k_flip, 0.5, (x.shape[0], 1, 1, 1))
    x = jnp.where(flip, x[:, :, ::-1], x)
  if config.jitter:
    b, c = jax.random.uniform(k_jitter, (2, x.shape[0], 1, 1, 1), minval=1 - config.jitter,
                              maxval=1 + config.jitter)
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    x = jnp.clip((x - mean) * c + mean * b, 0.0, 1.0)
  return x


def exemplar_dataset(dataset: Dataset, config: ClassifierConfig,
                     num: int = EXEMPLARS) -> Dataset:
  """The labelled dataset the feature extractor of the unlabelled image ``dataset`` trains
  on: ``num`` of its training images (all if fewer; chosen by a fixed seed), each its own
  class; the test split is every exemplar changed once more (:func:`augment`)."""
  n = dataset.train.shape[0]
  pick = np.sort(np.random.RandomState(0).permutation(n)[:min(num, n)])
  train = dataset.train[pick]
  test = np.round(augment(train / 255.0, config, seed=1) * 255).astype(np.uint8)
  labels = np.arange(pick.size, dtype=np.int32)
  return Dataset(f"{dataset.name}-exemplars", "image", train, test, labels, labels,
                 info={"exemplars_of": dataset.name, "num_train": int(n)})


def default_cache_dir() -> str:
  root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(root, "jaxgen", "classifiers")


def train_classifier(dataset: Dataset, config: ClassifierConfig = ClassifierConfig(),
                     log: Callable[[str], None] = print) -> Classifier:
  """Trains the CNN on ``dataset``'s training split (deterministic for ``config.seed``)
  and measures its accuracy on the test split."""
  if dataset.kind != "image" or dataset.train_labels is None or dataset.test_labels is None:
    raise ValueError(f"the judge classifier needs a labelled image dataset; "
                     f"{dataset.name!r} has none")
  num_classes = int(max(dataset.train_labels.max(), dataset.test_labels.max())) + 1
  module = CNN(tuple(config.channels), config.hidden, num_classes)
  x = jnp.asarray(dataset.train, jnp.float32) / 255.0
  y = jnp.asarray(dataset.train_labels, jnp.int32)
  n, b = x.shape[0], min(config.batch_size, x.shape[0])
  steps = n // b
  key = jax.random.PRNGKey(config.seed)
  k_init, k_data = jax.random.split(key)
  params = module.init(k_init, x[:1])["params"]
  tx = optax.adam(config.learning_rate)
  opt_state = tx.init(params)

  def loss_fn(p, xb, yb):
    logits, _ = module.apply({"params": p}, xb)
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, yb))

  def epoch(carry, e):
    p, o = carry
    ke = jax.random.fold_in(k_data, e)
    perm = jax.random.permutation(jax.random.fold_in(ke, 0), n)

    def step(carry, i):
      p, o = carry
      idx = jax.lax.dynamic_slice_in_dim(perm, i * b, b)
      xb, yb = x[idx], y[idx]
      ks = jax.random.split(jax.random.fold_in(ke, i + 1), 2)
      if config.shift:
        xb = _shift(xb, ks[0], config.shift)
      if config.flip or config.jitter:
        xb = _augment(xb, jax.random.fold_in(ks[1], 1),
                      dataclasses.replace(config, shift=0))
      if config.binarize:
        binary = jax.random.bernoulli(ks[1], xb).astype(jnp.float32)
        half = (jnp.arange(b) % 2 == 1)[:, None, None, None]
        xb = jnp.where(half, binary, xb)
      loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
      u, o = tx.update(g, o, p)
      return (optax.apply_updates(p, u), o), loss

    (p, o), losses = jax.lax.scan(step, (p, o), jnp.arange(steps))
    return (p, o), jnp.mean(losses)

  run_epochs = jax.jit(lambda p, o, es: jax.lax.scan(epoch, (p, o), es))
  t0 = time.perf_counter()
  for start in range(0, config.epochs, 10):
    es = jnp.arange(start, min(start + 10, config.epochs))
    (params, opt_state), losses = run_epochs(params, opt_state, es)
    log(f"  judge classifier on {dataset.name}: epoch {int(es[-1]) + 1}/{config.epochs}, "
        f"loss {float(losses[-1]):.4f} ({time.perf_counter() - t0:.0f} s)")
  clf = Classifier(module, params, {})
  test = dataset.test.astype(np.float32) / 255.0
  clf.info = {"dataset": dataset.name, "config": dataclasses.asdict(config),
              "num_classes": num_classes, "num_train": int(n),
              "test_accuracy": clf.accuracy(test, dataset.test_labels),
              "test_accuracy_thresholded": clf.accuracy((test > 0.5).astype(np.float32),
                                                        dataset.test_labels),
              "train_seconds": time.perf_counter() - t0}
  return clf


def judge_classifier(dataset: Dataset, config: ClassifierConfig = ClassifierConfig(),
                         cache_dir: Optional[str] = None, log: Callable[[str], None] = print,
                         check_accuracy: bool = True) -> Classifier:
  """The judge classifier of ``dataset``: loaded from the cache, else trained and
  cached. Raises RuntimeError if its test accuracy is below the required one
  (:data:`REQUIRED_ACCURACY`) and ``check_accuracy``."""
  cache_dir = default_cache_dir() if cache_dir is None else cache_dir
  name = f"{dataset.name}-{_fingerprint(dataset, config)}"
  path = os.path.join(cache_dir, name)
  num_classes = int(max(dataset.train_labels.max(), dataset.test_labels.max())) + 1
  module = CNN(tuple(config.channels), config.hidden, num_classes)
  clf = None
  if os.path.exists(path + ".msgpack") and os.path.exists(path + ".json"):
    try:
      with open(path + ".json") as f:
        info = json.load(f)
      template = module.init(jax.random.PRNGKey(0), jnp.zeros((1,) + dataset.example_shape))
      with open(path + ".msgpack", "rb") as f:
        params = flax.serialization.from_bytes(template["params"], f.read())
      clf = Classifier(module, params, info)
      log(f"judge classifier loaded from {path}.msgpack (test accuracy "
          f"{clf.test_accuracy:.4f})")
    except Exception as e:  # noqa: BLE001 - a damaged cache entry is retrained
      log(f"judge classifier cache {path} unreadable ({type(e).__name__}); retraining")
      clf = None
  if clf is None:
    log(f"training the judge classifier on {dataset.name} ({config.epochs} epochs)")
    clf = train_classifier(dataset, config, log)
    log(f"judge classifier: test accuracy {clf.test_accuracy:.4f}" + (
        f" ({clf.info['test_accuracy_thresholded']:.4f} on thresholded digits)"
        if config.binarize else ""))
    try:
      os.makedirs(cache_dir, exist_ok=True)
      tmp = f".tmp{os.getpid()}"     # processes of one run may write at the same time
      with open(path + ".msgpack" + tmp, "wb") as f:
        f.write(flax.serialization.to_bytes(clf.params))
      with open(path + ".json" + tmp, "w") as f:
        json.dump(clf.info, f, indent=2)
      os.replace(path + ".msgpack" + tmp, path + ".msgpack")
      os.replace(path + ".json" + tmp, path + ".json")
    except OSError as e:
      log(f"could not cache the judge classifier in {cache_dir} ({e.strerror})")
  need = REQUIRED_ACCURACY.get(dataset.name)
  if check_accuracy and need is not None and clf.test_accuracy < need:
    raise RuntimeError(f"the judge classifier reaches {clf.test_accuracy:.4f} test accuracy "
                       f"on {dataset.name}, below the required {need}: it cannot be the yardstick")
  return clf
