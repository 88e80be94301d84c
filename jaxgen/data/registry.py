"""Datasets found by name.

A built-in dataset is a module of :mod:`jaxgen.data` with a function
``load(name, dataset_config) -> Dataset``; :data:`BUILTIN` names the module of each, and
:func:`load_dataset` imports it only when that dataset is asked for (as big_vision finds
its input pipelines), so the modules need not register themselves and nothing here
imports them up front. Every other name is read through tensorflow-datasets.
"""
from __future__ import annotations

import importlib

from jaxgen.data.dataset import Dataset, select_classes

# name -> module that loads it
BUILTIN = {
    "mnist_subset": "jaxgen.data.mnist_subset",
    "stacked_mnist_subset": "jaxgen.data.stacked_mnist",
    "ring": "jaxgen.data.mixtures",
    "grid": "jaxgen.data.mixtures",
    "mnist_sr2": "jaxgen.data.paired",
    "mnist_sr4": "jaxgen.data.paired",
    "photos_sr4": "jaxgen.data.paired",
    "photos_color": "jaxgen.data.paired",
    "image_folder": "jaxgen.data.folders",
    "arrays": "jaxgen.data.folders",
    "paired_folder": "jaxgen.data.folders",
}
TFDS_MODULE = "jaxgen.data.tfds_source"


def available_datasets() -> list[str]:
  """Names of the built-in datasets (any tensorflow-datasets name works as well)."""
  return sorted(BUILTIN)


def load_dataset(dataset_config) -> Dataset:
  """Loads ``dataset_config.name``: a built-in dataset, else a tensorflow-datasets name;
  then keeps the training classes that ``dataset_config.classes`` / ``exclude_classes``
  select (:func:`jaxgen.data.dataset.select_classes`)."""
  name = dataset_config.name
  module = importlib.import_module(BUILTIN.get(name, TFDS_MODULE))
  dataset = module.load(name, dataset_config)
  return select_classes(dataset, dataset_config.get("classes", ()),
                        dataset_config.get("exclude_classes", ()))
