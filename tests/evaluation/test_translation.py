"""The judges of conditional models: translations scored against the held-out targets
beside baselines computed from the same inputs, and style transfer over every other label."""
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.data import paired
from jaxgen.data.dataset import Dataset
from jaxgen.evaluation import image_quality as iq
from jaxgen.evaluation.translation import StyleTransferJudge, TranslationJudge


class _Ink:
  """A fake classifier: a digit is its total ink in pixels, rounded, mod 10."""
  test_accuracy = 0.5

  def predict(self, x):
    return np.round(np.asarray(x, np.float64).sum(axis=(1, 2, 3))).astype(int) % 10


def _digits(n=60, factor=4):
  from jaxgen.data import mnist_subset
  d = mnist_subset.load()
  rows = np.arange(n) * (1000 // n)                   # every label (the split is sorted)
  train, test = d.train[rows], d.test[rows]
  return Dataset("t", "image", train, test, d.train_labels[rows], d.test_labels[rows],
                 {"task": "super_resolution", "scale": factor},
                 paired.box_downsample(train, factor), paired.box_downsample(test, factor))


class _Resize:
  """A fake translator: the input, resized to the output size by ``method``."""
  data_range = (0.0, 1.0)

  def __init__(self, shape, method):
    self.shape, self.method = shape, method

  def translate(self, state, c):
    return jnp.clip(jax.image.resize(c, (c.shape[0],) + self.shape, self.method), 0, 1)


def _evaluator(model, dataset):
  return types.SimpleNamespace(model=model, test_x={
      "x": jnp.asarray(dataset.test, jnp.float32) / 255,
      "cond": jnp.asarray(dataset.test_inputs, jnp.float32) / 255})


@pytest.mark.parametrize("method", ["bicubic", "nearest"])
def test_a_model_that_upsamples_scores_as_the_baseline(method):
  data = _digits()
  judge = TranslationJudge(data, _Ink(), batch_size=25)      # 60 rows: a padded last batch
  got = judge.evaluate(_evaluator(_Resize((28, 28, 1), method), data), None, None)
  for k in ("psnr", "ssim", "sharpness", "accuracy"):
    np.testing.assert_allclose(got[k], got[f"{method}_{k}"], rtol=1e-5, err_msg=k)
  # the baselines by hand, against the targets of the test split
  truth = data.test / 255.0
  up = iq.upsample(data.test_inputs / 255.0, (28, 28), method)
  np.testing.assert_allclose(got[f"{method}_psnr"], np.mean(iq.psnr(truth, up)), rtol=1e-6)
  np.testing.assert_allclose(got[f"{method}_ssim"], np.mean(iq.ssim(truth, up)), rtol=1e-6)
  np.testing.assert_allclose(got["truth_accuracy"],
                             np.mean(_Ink().predict(truth) == data.test_labels))
  np.testing.assert_allclose(got["truth_sharpness"], np.mean(iq.sharpness(truth)), rtol=1e-6)
  other = "nearest" if method == "bicubic" else "bicubic"
  assert abs(got["psnr"] - got[f"{other}_psnr"]) > 0.1


def test_a_perfect_translation_and_no_classifier():
  data = _digits(factor=1)           # inputs equal the targets: the identity is perfect
  judge = TranslationJudge(data, None)
  got = judge.evaluate(_evaluator(_Resize((28, 28, 1), "nearest"), data), None, None)
  assert got["psnr"] > 100 and got["ssim"] == pytest.approx(1.0)     # float32 rounding only
  assert not any("accuracy" in k for k in got)


def test_colorization_is_judged_against_the_gray_image():
  rng = np.random.RandomState(0)
  rgb = rng.randint(0, 256, (12, 8, 8, 3)).astype(np.uint8)
  y = paired.luminance(rgb)
  data = Dataset("c", "image", rgb, rgb, info={"task": "colorization"}, train_inputs=y,
                 test_inputs=y)
  judge = TranslationJudge(data)
  gray = np.repeat(y / 255.0, 3, axis=-1)
  assert judge.baseline_metrics["gray_colourfulness"] == 0.0
  np.testing.assert_allclose(judge.baseline_metrics["gray_psnr"],
                             np.mean(iq.psnr(rgb / 255.0, gray)), rtol=1e-6)
  np.testing.assert_allclose(judge.reference["truth_colourfulness"],
                             np.mean(iq.colourfulness(rgb / 255.0)), rtol=1e-6)

  class Truth:
    data_range = (0.0, 1.0)

    def translate(self, state, c):                   # colours the rows it is given, in order
      return jnp.asarray(rgb[:c.shape[0]], jnp.float32) / 255
  got = judge.evaluate(_evaluator(Truth(), data), None, None)
  np.testing.assert_allclose(got["colourfulness"], got["truth_colourfulness"], rtol=1e-6)


class _Transfer:
  """A fake CVAE: the transfer of any digit to label t is an image with t pixels of ink
  (``_Ink`` reads it as t), its slant the source's ink-weighted column position."""
  data_range = (0.0, 1.0)

  def transfer(self, params, x, labels, targets):
    img = jnp.zeros((x.shape[0], 28, 28, 1))
    return img.at[:, 10, 10, 0].set(targets.astype(jnp.float32))


def test_style_transfer_covers_every_other_label_and_reads_the_targets():
  from jaxgen.data import mnist_subset
  d = mnist_subset.load()
  x = jnp.asarray(d.test[::34], jnp.float32) / 255     # the split is sorted by label
  labels = d.test_labels[::34]
  assert len(set(labels)) == 10
  judge = StyleTransferJudge(_Ink(), 10, batch_size=40)
  out, source, targets = judge.transfers(_Transfer(), types.SimpleNamespace(params=None), x,
                                         labels)
  assert out.shape == (270, 28, 28, 1)
  for i in range(30):                      # each digit once to every label but its own
    assert sorted(targets[source == i]) == sorted(set(range(10)) - {labels[i]})
  got = judge.metrics(_Transfer(), types.SimpleNamespace(params=None), x, labels)
  assert got["transfer_accuracy"] == 1.0 and got["per_target_accuracy"] == [1.0] * 10
  np.testing.assert_allclose(got["source_accuracy"], np.mean(_Ink().predict(x) == labels))
