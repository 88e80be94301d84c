"""The judge classifier: deterministic, cached and reused, and held to its accuracy."""
import dataclasses

import chex
import ml_collections
import numpy as np
import pytest

from jaxgen.data import Dataset, load_dataset
from jaxgen.evaluation import classifier as clf_lib

SMALL = clf_lib.ClassifierConfig(channels=(8, 8), hidden=16, epochs=4, batch_size=50,
                                  learning_rate=3e-3)


@pytest.fixture(scope="module")
def small_data():
  """600 training and 200 test digits of mnist_subset (every class)."""
  d = load_dataset(ml_collections.ConfigDict({"name": "mnist_subset"}))
  return Dataset("mnist_small", "image", d.train[::6], d.test[::5], d.train_labels[::6],
                 d.test_labels[::5])


def test_training_is_deterministic_for_a_seed(small_data):
  a = clf_lib.train_classifier(small_data, SMALL, log=lambda s: None)
  b = clf_lib.train_classifier(small_data, SMALL, log=lambda s: None)
  chex.assert_trees_all_equal(a.params, b.params)
  c = clf_lib.train_classifier(small_data, dataclasses.replace(SMALL, seed=1), log=lambda s: None)
  assert not np.array_equal(np.asarray(a.params["Dense_1"]["kernel"]),
                            np.asarray(c.params["Dense_1"]["kernel"]))
  assert a.info["test_accuracy"] == b.info["test_accuracy"]
  # it learned something in four epochs of 600 digits (chance: 0.1)
  assert a.info["test_accuracy"] > 0.5
  x = small_data.test[:7].astype(np.float32) / 255
  assert a.features(x).shape == (7, 16) and a.probs(x).shape == (7, 10)
  np.testing.assert_allclose(a.probs(x).sum(1), 1.0, rtol=1e-5)
  np.testing.assert_array_equal(a.predict(x), a.logits(x).argmax(1))
  # batching does not change the answer (600 > one batch of 500)
  many = small_data.train[:600].astype(np.float32) / 255
  np.testing.assert_allclose(a.logits(many)[:5], a.logits(many[:5]), rtol=1e-5, atol=1e-5)


def test_cache_is_reused_and_keyed_by_data_and_config(small_data, tmp_path, monkeypatch):
  logs = []
  first = clf_lib.judge_classifier(small_data, SMALL, cache_dir=str(tmp_path),
                                       log=logs.append)
  assert any("training" in m for m in logs)

  def no_training(*a, **k):
    raise AssertionError("trained again instead of loading the cache")
  monkeypatch.setattr(clf_lib, "train_classifier", no_training)
  again = clf_lib.judge_classifier(small_data, SMALL, cache_dir=str(tmp_path),
                                       log=logs.append)
  chex.assert_trees_all_equal(first.params, again.params)
  assert again.test_accuracy == first.test_accuracy
  # another config or other data is another cache entry: it would train
  with pytest.raises(AssertionError, match="trained again"):
    clf_lib.judge_classifier(small_data, dataclasses.replace(SMALL, epochs=3),
                                 cache_dir=str(tmp_path), log=logs.append)
  other = dataclasses.replace(small_data, train=small_data.train[::-1].copy())
  with pytest.raises(AssertionError, match="trained again"):
    clf_lib.judge_classifier(other, SMALL, cache_dir=str(tmp_path), log=logs.append)


def test_required_accuracy_is_enforced(small_data, tmp_path, monkeypatch):
  monkeypatch.setitem(clf_lib.REQUIRED_ACCURACY, "mnist_small", 0.999)
  with pytest.raises(RuntimeError, match="below the required 0.999"):
    clf_lib.judge_classifier(small_data, SMALL, cache_dir=str(tmp_path), log=lambda s: None)
  ok = clf_lib.judge_classifier(small_data, SMALL, cache_dir=str(tmp_path),
                                    log=lambda s: None, check_accuracy=False)
  assert ok.test_accuracy < 0.999
