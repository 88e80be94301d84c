"""The training-set class filters (config.dataset.classes / exclude_classes)."""
import numpy as np
import pytest

from jaxgen.config import ConfigError, base_config, validate
from jaxgen.data import DataError, Dataset, load_dataset
from jaxgen.data.dataset import select_classes


def _data(labels=True):
  x = np.arange(12, dtype=np.uint8).reshape(12, 1, 1, 1)
  y = np.array([0, 1, 2, 3] * 3, np.int32)
  return Dataset("toy", "image", x, x[:4].copy(), y if labels else None,
                 y[:4].copy() if labels else None)


def test_classes_keep_exactly_the_requested_labels_and_their_rows():
  d = select_classes(_data(), classes=(1, 3))
  assert sorted(set(d.train_labels.tolist())) == [1, 3] and d.train.shape[0] == 6
  np.testing.assert_array_equal(d.train[:, 0, 0, 0], [1, 3, 5, 7, 9, 11])  # rows follow labels
  assert d.info["train_classes"] == [1, 3]
  assert d.test.shape[0] == 4                            # the test split stays whole


def test_exclude_classes_drop_exactly_those_labels():
  d = select_classes(_data(), exclude=(2,))
  assert sorted(set(d.train_labels.tolist())) == [0, 1, 3] and d.train.shape[0] == 9
  assert d.info["train_classes"] == [0, 1, 3]
  both = select_classes(_data(), classes=(0, 1, 2), exclude=(1,))
  assert both.info["train_classes"] == [0, 2]
  assert select_classes(_data()) is not None and "train_classes" not in select_classes(_data()).info


def test_filters_say_what_is_wrong():
  with pytest.raises(DataError, match=r"no training examples with label\(s\) \[7\]"):
    select_classes(_data(), classes=(7,))
  with pytest.raises(DataError, match="no labels"):
    select_classes(_data(labels=False), classes=(1,))
  with pytest.raises(DataError, match="leaves no training examples"):
    select_classes(_data(), exclude=(0, 1, 2, 3))


def test_mnist_subset_filters_through_the_config():
  c = base_config()
  c.dataset.classes = (4,)
  d = load_dataset(c.dataset)
  assert set(d.train_labels.tolist()) == {4} and d.train.shape[0] == 400
  assert d.test.shape[0] == 1000
  c = base_config()
  c.dataset.exclude_classes = (4,)
  d = load_dataset(c.dataset)
  assert 4 not in set(d.train_labels.tolist()) and d.train.shape[0] == 3600


@pytest.mark.parametrize("key,value,match", [
    ("classes", (1, -1), "tuple of labels"),
    ("exclude_classes", (1.5,), "tuple of labels"),
])
def test_config_validation_of_the_filters(key, value, match):
  c = base_config()
  c.dataset[key] = value
  with pytest.raises(ConfigError, match=match):
    validate(c)


def test_a_label_cannot_be_kept_and_excluded():
  c = base_config()
  c.dataset.classes = (1, 2)
  c.dataset.exclude_classes = (2,)
  with pytest.raises(ConfigError, match="share labels"):
    validate(c)
