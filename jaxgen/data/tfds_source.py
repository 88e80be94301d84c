"""Any tensorflow-datasets image dataset (``mnist``, ``fashion_mnist``, ``binarized_mnist``,
``cifar10``, ...), read into host memory.

Reading uses ``tfds.data_source`` (random access over prepared array_record files, no
TensorFlow needed). Where TensorFlow is installed and ``tfds.data_source`` cannot read the
prepared files, ``tfds.load`` is tried. Nothing is downloaded unless
``config.dataset.download`` is True.
"""
from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from jaxgen.data.dataset import DataError, Dataset
from jaxgen.data.registry import available_datasets


def _prepare_hint(name: str, data_dir) -> str:
  where = data_dir or "~/tensorflow_datasets"
  return (f"prepare it on a machine with internet: pip install 'jaxgen[tfds]' && "
          f"tfds build {name} --data_dir {where} --file_format array_record "
          f"(then copy that folder here and pass --config.dataset.data_dir), "
          f"or pass --config.dataset.download=True where downloads work")


def _read_split(name: str, split: str, data_dir, download: bool):
  try:
    source = tfds.data_source(name, split=split, data_dir=data_dir or None, download=download)
    return [source[i] for i in range(len(source))]
  except tfds.core.registered.DatasetNotFoundError as e:
    raise DataError(f"unknown dataset {name!r}: it is neither built in "
                    f"({', '.join(available_datasets())}) nor a tensorflow-datasets name") from e
  except Exception as first_error:  # not prepared, or prepared as TFRecord
    try:
      import tensorflow  # noqa: F401  (lazy: optional; only tfds.load needs TensorFlow)
    except ImportError:
      raise DataError(f"tfds dataset {name!r} (split {split!r}) is not prepared as "
                      f"array_record under {data_dir or '~/tensorflow_datasets'}: "
                      f"{_prepare_hint(name, data_dir)}") from first_error
    try:
      ds = tfds.load(name, split=split, data_dir=data_dir or None, download=download)
      return list(tfds.as_numpy(ds))
    except Exception as e:
      raise DataError(f"tfds dataset {name!r} (split {split!r}) could not be read: "
                      f"{_prepare_hint(name, data_dir)}") from e


def _to_arrays(name: str, examples, image_key: str, label_key: str):
  if not examples:
    raise DataError(f"tfds dataset {name!r} has an empty split")
  if image_key not in examples[0]:
    raise DataError(f"tfds dataset {name!r} has no feature {image_key!r} (it has "
                    f"{sorted(examples[0])}); set --config.dataset.image_key")
  images = np.stack([np.asarray(ex[image_key]) for ex in examples])
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4:
    raise DataError(f"tfds dataset {name!r}: feature {image_key!r} has shape "
                    f"{images.shape[1:]}, expected images (H, W, C)")
  if images.dtype != np.uint8:
    images = images.astype(np.float64)
  if images.max() <= 1:          # binarized datasets store 0/1: put them on the 0..255 scale
    images = images * 255
  images = np.asarray(images).clip(0, 255).astype(np.uint8)
  labels = None
  if label_key and label_key in examples[0]:
    labels = np.asarray([ex[label_key] for ex in examples], np.int32)
  return images, labels


def load(name: str, dataset_config) -> Dataset:
  """Reads ``dataset_config.train_split`` and ``.test_split`` of tfds dataset ``name``."""
  data_dir = dataset_config.get("data_dir") or None
  download = bool(dataset_config.get("download", False))
  image_key = dataset_config.get("image_key", "image")
  label_key = dataset_config.get("label_key", "label")
  out = {}
  for which in ("train", "test"):
    split = dataset_config.get(f"{which}_split", which)
    out[which] = _to_arrays(name, _read_split(name, split, data_dir, download), image_key, label_key)
  (xtr, ytr), (xte, yte) = out["train"], out["test"]
  if xtr.shape[1:] != xte.shape[1:]:
    raise DataError(f"tfds dataset {name!r}: train images {xtr.shape[1:]} and test images "
                    f"{xte.shape[1:]} differ in shape")
  return Dataset(name, "image", xtr, xte, ytr, yte, info={"source": "tensorflow_datasets"})
