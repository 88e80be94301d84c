"""Datasets found by name: the built-in ones (imported only when asked for), and every
other name through tensorflow-datasets."""
import importlib

import pytest

from jaxgen.config import base_config
from jaxgen.data import DataError, load_dataset
from jaxgen.data.registry import BUILTIN, available_datasets


def _dataset_config(name):
  c = base_config().dataset
  c.name = name
  return c


def test_registered():
  names = available_datasets()
  assert "ring" in names and "grid" in names


def test_every_builtin_module_loads_by_name():
  assert set(available_datasets()) == set(BUILTIN) >= {"mnist_subset", "ring", "grid"}
  for module in set(BUILTIN.values()):
    assert callable(importlib.import_module(module).load)


def test_unknown_dataset_is_named():
  with pytest.raises(DataError, match="unknown dataset 'no_such_data'"):
    load_dataset(_dataset_config("no_such_data"))
