"""Dataset: bad arrays are refused when a dataset is built, in one line that names the
problem and the fix."""
import numpy as np
import pytest

from jaxgen import data
from jaxgen.data.dataset import DataError, Dataset, check_split


@pytest.mark.parametrize("kind, train, test, words", [
    ("image", np.zeros((4, 28, 28), np.uint8), None, "add a channel axis"),
    ("image", np.zeros((4, 28, 28, 1), np.float32), None, "must be uint8"),
    ("image", np.zeros((4, 8, 8, 1), np.uint8), np.zeros((4, 9, 9, 1), np.uint8), "same example shape"),
    ("points", np.zeros((4, 2), np.int64), None, "points must be float"),
    ("points", np.zeros((4,), np.float32), None, "points must be [N, dim]"),
    ("points", np.zeros((0, 2), np.float32), None, "is empty"),
    ("images", np.zeros((4, 2), np.float32), None, "kind must be 'image' or 'points'"),
    ("image", [[1]], None, "must be a NumPy array"),
])
def test_dataset_rejects_bad_arrays(kind, train, test, words):
  test = train if test is None else test
  with pytest.raises(DataError) as e:
    Dataset("mine", kind, train, test)
  assert words in str(e.value) and "\n" not in str(e.value)


def test_dataset_rejects_mismatched_labels():
  x = np.zeros((4, 2), np.float32)
  with pytest.raises(DataError, match="train_labels has shape \\[3\\], expected \\[4\\]"):
    Dataset("mine", "points", x, x, train_labels=np.zeros(3, np.int32))


def test_good_splits_and_the_example_shape():
  images = np.zeros((3, 8, 8, 1), np.uint8)
  points = np.zeros((5, 2), np.float32)
  check_split(images, "image", "mine", "the train split")
  check_split(points, "points", "mine", "the train split")
  with pytest.raises(DataError, match="^dataset 'mine': the test split has dtype float32"):
    check_split(images.astype(np.float32), "image", "mine", "the test split")
  assert Dataset("mine", "image", images, images[:1]).example_shape == (8, 8, 1)
  assert Dataset("mine", "points", points, points).example_shape == (2,)
  assert data.Dataset is Dataset and data.DataError is DataError       # re-exported


def test_validation_split_is_checked_and_viewed_as_the_test_split():
  img = lambda n, c=1: np.full((n, 4, 4, c), 7, np.uint8)   # noqa: E731
  labels = lambda n: np.arange(n, dtype=np.int32) % 2       # noqa: E731
  ds = Dataset("d", "image", img(6), img(3), labels(6), labels(3), val=img(2), val_labels=labels(2))
  assert ds.has_validation and not Dataset("d", "image", img(6), img(3)).has_validation
  view = ds.validation_view()
  assert view.test.shape[0] == 2 and view.val is None and view.info["split_scored"] == "validation"
  np.testing.assert_array_equal(view.test_labels, ds.val_labels)
  assert view.train is ds.train
  with pytest.raises(DataError, match="has no validation split"):
    Dataset("d", "image", img(6), img(3)).validation_view()
  with pytest.raises(DataError, match="validation examples have shape"):
    Dataset("d", "image", img(6), img(3), val=img(2, c=3))
  with pytest.raises(DataError, match="val_labels must be given exactly when"):
    Dataset("d", "image", img(6), img(3), labels(6), labels(3), val=img(2))
  with pytest.raises(DataError, match="val_labels has 3 rows for 2 validation examples"):
    Dataset("d", "image", img(6), img(3), labels(6), labels(3), val=img(2), val_labels=labels(3))
  with pytest.raises(DataError, match="without a validation split"):
    Dataset("d", "image", img(6), img(3), val_labels=labels(2))
  paired = dict(train_inputs=img(6), test_inputs=img(3))
  with pytest.raises(DataError, match="val_inputs must be given exactly when"):
    Dataset("d", "image", img(6), img(3), val=img(2), **paired)
  with pytest.raises(DataError, match="validation inputs have shape"):
    Dataset("d", "image", img(6), img(3), val=img(2), val_inputs=img(2, c=3), **paired)
