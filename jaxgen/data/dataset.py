"""A dataset as host arrays, checked when it is built."""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np


class DataError(ValueError):
  """A dataset cannot be found, prepared or read; the message says how to fix it."""


@dataclasses.dataclass(frozen=True)
class Dataset:
  """Host-side arrays of one dataset.

  ``train``/``test`` hold uint8 NHWC images (``kind == "image"``) or float32 points of
  shape [N, dim] (``kind == "points"``). Labels are int32 or None. A *paired* dataset
  (image-to-image: super-resolution, colorization) also holds ``train_inputs`` /
  ``test_inputs``: uint8 NHWC condition images, one per example (row i of ``train_inputs``
  is the input whose wanted output is row i of ``train``; they may differ in size and
  channels, e.g. 7x7 low-resolution or 1-channel luminance inputs). A dataset may also hold
  a *validation* split, ``val`` (with ``val_labels`` / ``val_inputs`` where the other splits
  have them), disjoint from both: what model selection (``eval.select_on``) scores, so that
  the test split is never used to choose a step. The arrays are checked when the dataset is
  built; a wrong shape or dtype raises :class:`DataError`.
  """
  name: str
  kind: str
  train: np.ndarray
  test: np.ndarray
  train_labels: Optional[np.ndarray] = None
  test_labels: Optional[np.ndarray] = None
  info: dict = dataclasses.field(default_factory=dict)
  train_inputs: Optional[np.ndarray] = None
  test_inputs: Optional[np.ndarray] = None
  val: Optional[np.ndarray] = None
  val_labels: Optional[np.ndarray] = None
  val_inputs: Optional[np.ndarray] = None

  def __post_init__(self):
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
    if (self.train_inputs is None) != (self.test_inputs is None):
      raise DataError(f"dataset {self.name!r}: a paired dataset needs both train_inputs and "
                      f"test_inputs (or neither)")
    if self.train_inputs is not None:
      for split in ("train", "test"):
        inputs = getattr(self, f"{split}_inputs")
        check_split(inputs, "image", self.name, f"the {split} inputs")
        n = getattr(self, split).shape[0]
        if inputs.shape[0] != n:
          raise DataError(f"dataset {self.name!r}: {split}_inputs holds {inputs.shape[0]} "
                          f"images for {n} examples; a paired dataset needs one input per "
                          f"example")
      if self.train_inputs.shape[1:] != self.test_inputs.shape[1:]:
        raise DataError(f"dataset {self.name!r}: train inputs have shape "
                        f"{list(self.train_inputs.shape[1:])} but test inputs "
                        f"{list(self.test_inputs.shape[1:])}; both need the same shape")
    if self.val is not None:
      self._check_validation()
    elif self.val_labels is not None or self.val_inputs is not None:
      raise DataError(f"dataset {self.name!r}: val_labels / val_inputs given without a "
                      f"validation split val")

  def _check_validation(self) -> None:
    check_split(self.val, self.kind, self.name, "the validation split")
    if self.val.shape[1:] != self.train.shape[1:]:
      raise DataError(f"dataset {self.name!r}: validation examples have shape "
                      f"{list(self.val.shape[1:])} but training examples "
                      f"{list(self.train.shape[1:])}; all splits need the same example shape")
    n = self.val.shape[0]
    for what, mine, train in (("val_labels", self.val_labels, self.train_labels),
                              ("val_inputs", self.val_inputs, self.train_inputs)):
      if (mine is None) != (train is None):
        raise DataError(f"dataset {self.name!r}: {what} must be given exactly when the "
                        f"training split has {what.replace('val_', '')}")
      if mine is not None and np.shape(mine)[:1] != (n,):
        raise DataError(f"dataset {self.name!r}: {what} has {np.shape(mine)[0]} rows for "
                        f"{n} validation examples; one per example")
    if self.val_inputs is not None and self.val_inputs.shape[1:] != self.train_inputs.shape[1:]:
      raise DataError(f"dataset {self.name!r}: validation inputs have shape "
                      f"{list(self.val_inputs.shape[1:])} but training inputs "
                      f"{list(self.train_inputs.shape[1:])}; both need the same shape")

  @property
  def has_validation(self) -> bool:
    """True where the dataset holds a validation split (``val``)."""
    return self.val is not None

  def validation_view(self) -> "Dataset":
    """This dataset with its validation split in the place of the test split (and no
    validation split): what an evaluator built for a test split scores to select a model.
    DataError if there is none."""
    if self.val is None:
      raise DataError(f"dataset {self.name!r} has no validation split")
    return dataclasses.replace(self, test=self.val, test_labels=self.val_labels,
                               test_inputs=self.val_inputs, val=None, val_labels=None,
                               val_inputs=None, info={**self.info, "split_scored": "validation"})

  @property
  def example_shape(self) -> tuple[int, ...]:
    return tuple(self.train.shape[1:])

  @property
  def paired(self) -> bool:
    """True for an image-to-image dataset (it holds condition images ``*_inputs``)."""
    return self.train_inputs is not None

  @property
  def input_shape(self) -> Optional[tuple[int, ...]]:
    """The shape of one condition image of a paired dataset, else None."""
    return None if self.train_inputs is None else tuple(self.train_inputs.shape[1:])


def _shape(shape) -> str:
  return "[" + ", ".join(str(s) for s in shape) + "]"


def check_split(x, kind: str, name: str, what: str) -> None:
  """Checks one raw dataset split: uint8 [N, H, W, C] images or float [N, dim] points."""
  if not isinstance(x, np.ndarray):
    raise DataError(f"dataset {name!r}: {what} must be a NumPy array, got {type(x).__name__}; "
                    f"wrap it with np.asarray")
  if x.shape[0:1] == (0,) or x.ndim == 0:
    raise DataError(f"dataset {name!r}: {what} is empty (shape {_shape(x.shape)}); it needs "
                    f"at least one example")
  if kind == "image":
    if x.ndim == 3:
      raise DataError(f"dataset {name!r}: {what} has shape {_shape(x.shape)}, images must be "
                      f"[N, H, W, C]; add a channel axis with x[..., None]")
    if x.ndim != 4:
      raise DataError(f"dataset {name!r}: {what} has shape {_shape(x.shape)}, images must be "
                      f"[N, H, W, C] (NHWC)")
    if x.dtype != np.uint8:
      raise DataError(f"dataset {name!r}: {what} has dtype {x.dtype}, images must be uint8 in "
                      f"[0, 255]; convert with np.round(x * 255).astype(np.uint8) for data in "
                      f"[0, 1]")
  elif kind == "points":
    if x.ndim != 2:
      raise DataError(f"dataset {name!r}: {what} has shape {_shape(x.shape)}, points must be "
                      f"[N, dim]")
    if not np.issubdtype(x.dtype, np.floating):
      raise DataError(f"dataset {name!r}: {what} has dtype {x.dtype}, points must be float; "
                      f"convert with x.astype(np.float32)")
  else:
    raise DataError(f"dataset {name!r}: kind must be 'image' or 'points', got {kind!r}")


def select_classes(dataset: Dataset, classes=(), exclude=()) -> Dataset:
  """``dataset`` with its *training* split restricted to the labels in ``classes`` (all if
  empty) minus those in ``exclude``; the test split stays whole (anomaly detection scores
  it all). ``info['train_classes']`` records the labels kept. DataError if the dataset has
  no labels, a label does not occur, or nothing is left."""
  classes, exclude = tuple(int(c) for c in classes), tuple(int(c) for c in exclude)
  if not classes and not exclude:
    return dataset
  if dataset.train_labels is None:
    raise DataError(f"dataset {dataset.name!r} has no labels, so config.dataset.classes / "
                    f"exclude_classes cannot select from it; leave them empty")
  present = sorted(int(c) for c in np.unique(dataset.train_labels))
  missing = [c for c in classes + exclude if c not in present]
  if missing:
    raise DataError(f"dataset {dataset.name!r} has no training examples with label(s) "
                    f"{missing}; its labels are {present}")
  keep = [c for c in (classes or present) if c not in exclude]
  if not keep:
    raise DataError(f"config.dataset.exclude_classes {list(exclude)} leaves no training "
                    f"examples of {dataset.name!r}; keep at least one label")
  mask = np.isin(dataset.train_labels, keep)
  info = {**dataset.info, "train_classes": keep}
  inputs = None if dataset.train_inputs is None else dataset.train_inputs[mask]
  return dataclasses.replace(dataset, train=dataset.train[mask],
                             train_labels=dataset.train_labels[mask], info=info,
                             train_inputs=inputs)
