"""The dataset registry: built-in datasets by name, everything else through tfds."""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np


class DataError(ValueError):
  """A dataset cannot be found, prepared or read; the message says how to fix it."""


@dataclasses.dataclass(frozen=True)
class Dataset:
  """Host-side arrays of one dataset.

  ``train``/``test`` hold uint8 NHWC images (``kind == "image"``) or float32 points of
  shape [N, dim] (``kind == "points"``). Labels are int32 or None. The arrays are checked
  when the dataset is built; a wrong shape or dtype raises :class:`DataError`.
  """
  name: str
  kind: str
  train: np.ndarray
  test: np.ndarray
  train_labels: Optional[np.ndarray] = None
  test_labels: Optional[np.ndarray] = None
  info: dict = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    from jaxgen.data.checks import check_split
    check_split(self.train, self.kind, self.name, "the train split")
    check_split(self.test, self.kind, self.name, "the test split")
    if self.train.shape[1:] != self.test.shape[1:]:
      raise DataError(f"dataset {self.name!r}: train examples have shape "
                      f"{list(self.train.shape[1:])} but test examples "
                      f"{list(self.test.shape[1:])}; both splits need the same example shape")
    for split, labels in (("train", self.train_labels), ("test", self.test_labels)):
      n = getattr(self, split).shape[0]
      if labels is not None and np.shape(labels)[:1] != (n,):
        raise DataError(f"dataset {self.name!r}: {split}_labels has shape "
                        f"{list(np.shape(labels))}, expected [{n}] (one label per example) "
                        f"or None")

  @property
  def example_shape(self) -> tuple[int, ...]:
    return tuple(self.train.shape[1:])


_BUILTIN: dict[str, Callable[..., Dataset]] = {}


def register(name: str):
  """Decorator: registers ``fn(dataset_config) -> Dataset`` under ``name``."""
  def wrap(fn):
    _BUILTIN[name] = fn
    return fn
  return wrap


def available_datasets() -> list[str]:
  """Names of the built-in datasets (any tensorflow-datasets name works as well)."""
  _import_builtins()
  return sorted(_BUILTIN)


def _import_builtins():
  # Importing the modules registers their datasets.
  from jaxgen.data import mixtures, mnist_subset  # noqa: F401


def load_dataset(dataset_config) -> Dataset:
  """Loads ``dataset_config.name``: a built-in dataset, else a tensorflow-datasets name."""
  _import_builtins()
  name = dataset_config.name
  if name in _BUILTIN:
    return _BUILTIN[name](dataset_config)
  from jaxgen.data import tfds_source
  return tfds_source.load(dataset_config)
