"""tensorflow-datasets sources, under tfds' mock data (no download, no prepared files)."""
import numpy as np
import pytest
import tensorflow_datasets as tfds

from jaxgen import train
from jaxgen.config import base_config
from jaxgen.data import DataError, load_dataset


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
  vae_config.dataset.name = "fashion_mnist"
  vae_config.batch_size = 8
  vae_config.num_steps = 4
  vae_config.log_every = vae_config.eval_every = vae_config.checkpoint_every = 2
  with tfds.testing.mock_data(num_examples=16, policy=tfds.testing.MockPolicy.USE_CODE):
    state, result = train.train(vae_config, str(tmp_path), log=lambda s: None)
  assert int(state.step) == 4 and np.isfinite(result["neg_elbo"])
  assert result["num_test_examples"] == 16


def test_unprepared_tfds_dataset_says_how_to_prepare(tmp_path):
  with pytest.raises(DataError, match="tfds build mnist"):
    load_dataset(_tfds_config("mnist", data_dir=str(tmp_path)))
