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
