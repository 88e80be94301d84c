"""Sample metrics of unlabelled images: a feature extractor trained to tell the training
images apart (classifier.exemplar_dataset) and the FeatureJudge on its features."""
import dataclasses

import ml_collections
import numpy as np
import pytest
from scipy import ndimage

from jaxgen.data import Dataset, load_dataset
from jaxgen.evaluation import classifier as classifier_lib
from jaxgen.evaluation import sample_quality


def test_augment_applies_each_change_and_nothing_when_all_are_off():
  rng = np.random.RandomState(0)
  x = rng.uniform(size=(64, 8, 8, 3)).astype(np.float32)
  off = classifier_lib.ClassifierConfig(shift=0)
  np.testing.assert_array_equal(classifier_lib.augment(x, off, 0), x)
  flipped = classifier_lib.augment(x, dataclasses.replace(off, flip=True), 0)
  same = (flipped == x).all(axis=(1, 2, 3))
  mirrored = (flipped == x[:, :, ::-1]).all(axis=(1, 2, 3))
  assert (same | mirrored).all() and 16 < mirrored.sum() < 48      # about half, each whole
  jittered = classifier_lib.augment(x, dataclasses.replace(off, jitter=0.2), 0)
  assert not np.allclose(jittered, x) and jittered.min() >= 0 and jittered.max() <= 1
  means = jittered.mean(axis=(1, 2, 3)) / x.mean(axis=(1, 2, 3))
  assert 0.75 < means.min() and means.max() < 1.25                  # brightness within +-20%
  shifted = classifier_lib.augment(x, dataclasses.replace(off, shift=2), 0)
  assert not np.array_equal(shifted, x)
  np.testing.assert_array_equal(classifier_lib.augment(x, dataclasses.replace(off, shift=2), 0),
                                shifted)                             # fixed by the seed


def test_exemplars_are_distinct_training_images_each_its_own_class():
  rng = np.random.RandomState(0)
  imgs = rng.randint(0, 256, size=(30, 8, 8, 1)).astype(np.uint8)
  ds = Dataset("flat", "image", imgs[:25], imgs[25:])
  config = classifier_lib.feature_config(ds.example_shape)
  ex = classifier_lib.exemplar_dataset(ds, config, num=10)
  assert ex.train.shape == (10, 8, 8, 1) and ex.train_labels.tolist() == list(range(10))
  rows = [np.flatnonzero((ds.train == e).all(axis=(1, 2, 3))) for e in ex.train]
  assert all(r.size == 1 for r in rows) and len({int(r[0]) for r in rows}) == 10
  assert ex.test.shape == ex.train.shape and not np.array_equal(ex.test, ex.train)
  np.testing.assert_array_equal(classifier_lib.exemplar_dataset(ds, config, num=10).test,
                                ex.test)                             # deterministic
  assert classifier_lib.exemplar_dataset(ds, config).train.shape[0] == 25   # fewer than num


class _Fixed:
  """A stand-in classifier whose features are the images' first three pixels."""
  def features(self, x):
    return np.asarray(x).reshape(len(x), -1)[:, :3]


def test_the_feature_judge_measures_distance_and_quality_on_the_features():
  rng = np.random.RandomState(0)
  ref = rng.uniform(size=(300, 2, 2, 1)).astype(np.float32)
  judge = sample_quality.FeatureJudge(_Fixed(), ref)
  same = judge(ref)
  assert same["fd"] < 1e-9 and same["precision"] == 1.0 and same["coverage"] == 1.0
  far = judge(ref + 3.0)
  assert 26 < far["fd"] < 28 and far["precision"] == 0.0 and far["coverage"] == 0.0
  assert set(far) == {"fd", "precision", "recall", "density", "coverage"}


@pytest.mark.slow  # reason: trains a (tiny) extractor and compiles it twice, 9 s
def test_an_unlabelled_dataset_gets_the_feature_judge(monkeypatch, tmp_path):
  full = classifier_lib.feature_config
  small = lambda shape: dataclasses.replace(full(shape), channels=(4,), hidden=8,   # noqa: E731
                                            epochs=1)
  monkeypatch.setattr(classifier_lib, "feature_config", small)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  rng = np.random.RandomState(0)
  imgs = rng.randint(0, 256, size=(120, 8, 8, 3)).astype(np.uint8)
  ds = Dataset("image_folder", "image", imgs[:100], imgs[100:])
  evaluation = ml_collections.ConfigDict({"sample_metrics": True})
  logs = []
  judge = sample_quality.make_judge(ds, ml_collections.ConfigDict(), evaluation, logs.append)
  assert isinstance(judge, sample_quality.FeatureJudge)
  assert judge.classifier.info["num_classes"] == 100 and judge.classifier.info["num_train"] == 100
  assert judge.reference_features.shape == (20, 8)
  wide = Dataset("image_folder", "image", imgs[:100, :, :6], imgs[100:, :, :6])
  assert isinstance(sample_quality.make_judge(wide, ml_collections.ConfigDict(), evaluation,
                                              logs.append), sample_quality.FeatureJudge)


@pytest.mark.slow  # reason: trains the feature extractor on 1,000 digits, ~35 s
def test_the_feature_extractor_of_unlabelled_digits_is_a_usable_yardstick(tmp_path, monkeypatch):
  """Unlabelled mnist_subset: the Frechet distance of training digits to the test split is
  small, that of the same digits blurred or with shuffled pixels large (measured 64, 2,660,
  11,500: benchmarks/feature_yardstick.py)."""
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  digits = load_dataset(ml_collections.ConfigDict({"name": "mnist_subset", "classes": (),
                                                   "exclude_classes": ()}))
  ds = Dataset("unlabelled_digits", "image", digits.train, digits.test)
  evaluation = ml_collections.ConfigDict({"sample_metrics": True})
  judge = sample_quality.make_judge(ds, ml_collections.ConfigDict(), evaluation, print)
  assert judge.classifier.test_accuracy > 0.5       # it tells 1,000 digits apart
  pick = np.random.RandomState(1).permutation(ds.train.shape[0])[:1000]   # stored by label
  held = ds.train[pick].astype(np.float32) / 255.0
  blurred = ndimage.gaussian_filter(held, sigma=(0, 1.5, 1.5, 0))
  rng = np.random.RandomState(0)
  flat = held.reshape(1000, -1)
  shuffled = flat[:, rng.permutation(flat.shape[1])].reshape(held.shape)
  fd = {name: judge(x)["fd"] for name, x in
        (("held", held), ("blurred", blurred), ("shuffled", shuffled))}
  assert fd["blurred"] > 10 * fd["held"] and fd["shuffled"] > 10 * fd["held"], fd
