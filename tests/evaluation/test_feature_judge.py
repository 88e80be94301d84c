"""Sample metrics of unlabelled images: a feature extractor trained on the quarter turns of
the training split (classifier.rotation_dataset) and the FeatureJudge on its features."""
import dataclasses

import ml_collections
import numpy as np
import pytest
from scipy import ndimage

from jaxgen.data import Dataset, load_dataset
from jaxgen.evaluation import classifier as classifier_lib
from jaxgen.evaluation import sample_quality


def test_rotations_are_the_four_quarter_turns_labelled_by_the_turn():
  x = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3, 1)
  turned, labels = classifier_lib.rotations(x)
  assert turned.shape == (8, 3, 3, 1) and labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
  np.testing.assert_array_equal(turned[:2], x)
  # label 1: a quarter turn counter-clockwise (the top row becomes the left column)
  np.testing.assert_array_equal(turned[2, :, 0, 0], x[0, 0, ::-1, 0])
  np.testing.assert_array_equal(turned[4], x[0, ::-1, ::-1])      # label 2: half a turn
  with pytest.raises(ValueError, match="square"):
    classifier_lib.rotations(np.zeros((1, 3, 4, 1), np.uint8))


class _Fixed:
  """A stand-in classifier: features are the images' first pixels; logits say 'upright'
  exactly for images whose first pixel is > 0.5."""
  def outputs(self, x):
    x = np.asarray(x).reshape(len(x), -1)
    logits = np.stack([x[:, 0], 1 - x[:, 0], 0 * x[:, 0], 0 * x[:, 0]], 1)
    return logits, x[:, :3]

  def features(self, x):
    return self.outputs(x)[1]


def test_the_feature_judge_measures_distance_quality_and_uprightness():
  rng = np.random.RandomState(0)
  ref = rng.uniform(size=(300, 2, 2, 1)).astype(np.float32)
  judge = sample_quality.FeatureJudge(_Fixed(), ref)
  same = judge(ref)
  assert same["fd"] < 1e-9 and same["precision"] == 1.0 and same["coverage"] == 1.0
  assert abs(same["upright"] - 100 * np.mean(ref.reshape(300, -1)[:, 0] > 0.5)) < 1e-9
  far = judge(ref + 3.0)
  assert far["fd"] > 26 and far["precision"] == 0.0 and far["upright"] == 100.0


def test_an_unlabelled_square_dataset_gets_the_feature_judge(monkeypatch, tmp_path):
  monkeypatch.setattr(classifier_lib, "ROTATION_CONFIG", dataclasses.replace(
      classifier_lib.ROTATION_CONFIG, channels=(4,), hidden=8, epochs=1))
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  rng = np.random.RandomState(0)
  imgs = rng.randint(0, 256, size=(120, 8, 8, 3)).astype(np.uint8)
  ds = Dataset("image_folder", "image", imgs[:100], imgs[100:])
  evaluation = ml_collections.ConfigDict({"sample_metrics": True})
  logs = []
  judge = sample_quality.make_judge(ds, ml_collections.ConfigDict(), evaluation, logs.append)
  assert isinstance(judge, sample_quality.FeatureJudge)
  assert judge.classifier.info["num_classes"] == 4 and judge.classifier.info["num_train"] == 400
  assert set(judge(imgs[100:] / 255.0)) == {"fd", "upright", "precision", "recall", "density",
                                            "coverage"}
  wide = Dataset("image_folder", "image", imgs[:100, :, :6], imgs[100:, :, :6])
  assert sample_quality.make_judge(wide, ml_collections.ConfigDict(), evaluation,
                                   logs.append) is None
  assert "not square" in logs[-1]


@pytest.mark.slow  # reason: trains the feature extractor on 16,000 turned digits, ~40 s
def test_the_feature_extractor_of_unlabelled_digits_is_a_usable_yardstick(tmp_path, monkeypatch):
  """Unlabelled mnist_subset: the Frechet distance of held-out digits to the test split is
  small, that of the same digits blurred or with shuffled pixels large; held-out digits
  read as upright."""
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  digits = load_dataset(ml_collections.ConfigDict({"name": "mnist_subset", "classes": (),
                                                   "exclude_classes": ()}))
  ds = Dataset("unlabelled_digits", "image", digits.train, digits.test)
  evaluation = ml_collections.ConfigDict({"sample_metrics": True})
  judge = sample_quality.make_judge(ds, ml_collections.ConfigDict(), evaluation, print)
  assert judge.classifier.test_accuracy > 0.9       # it learned the turns
  held = ds.train[:1000].astype(np.float32) / 255.0
  blurred = ndimage.gaussian_filter(held, sigma=(0, 1.5, 1.5, 0))
  rng = np.random.RandomState(0)
  flat = held.reshape(1000, -1)
  shuffled = flat[:, rng.permutation(flat.shape[1])].reshape(held.shape)
  fd = {name: judge(x)["fd"] for name, x in
        (("held", held), ("blurred", blurred), ("shuffled", shuffled))}
  assert fd["blurred"] > 10 * fd["held"] and fd["shuffled"] > 10 * fd["held"], fd
  assert judge(held)["upright"] > 90
