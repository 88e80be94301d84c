"""The sample judges wired into runs: eval.json of image models, Stacked MNIST's modes,
``--mode judge`` on a trained workdir, and the weaker-discriminator option."""
import json
import os

import jax
import ml_collections
import numpy as np
import pytest

import jaxgen
from jaxgen import train
from jaxgen.config import ConfigError
from jaxgen.data import Dataset, load_dataset
from jaxgen.data import stacked_mnist
from jaxgen.evaluation import classifier as clf_lib
from jaxgen.evaluation import sample_quality as sq
from jaxgen.train import evaluator as evaluator_lib
from jaxgen.train import steps
from jaxgen.uses import judge as judge_lib

SMALL = clf_lib.ClassifierConfig(channels=(8, 8), hidden=16, epochs=3, batch_size=50,
                                  learning_rate=3e-3)


@pytest.fixture(scope="module")
def small_classifier():
  """A small classifier of mnist_subset digits (trained in seconds on 800 of them)."""
  d = load_dataset(ml_collections.ConfigDict({"name": "mnist_subset"}))
  small = Dataset("mnist_small", "image", d.train[::5], d.test[::5], d.train_labels[::5],
                  d.test_labels[::5])
  return clf_lib.train_classifier(small, SMALL, log=lambda s: None)


@pytest.fixture
def use_small_classifier(monkeypatch, small_classifier):
  """Runs get ``small_classifier`` as their judge classifier; records the datasets asked."""
  asked = []

  def fake(dataset, *a, **k):
    asked.append(dataset)
    return small_classifier
  monkeypatch.setattr(clf_lib, "judge_classifier", fake)
  return asked


class _Recorder:
  """A judge that records the samples it is given."""
  counts_modes = False

  def __init__(self):
    self.seen = []

  def __call__(self, samples):
    self.seen.append(np.asarray(samples))
    return {"mean_pixel": float(np.mean(samples))}


def _gan_mnist(tiny, load_config, **kw):
  c = tiny(load_config("gan_mnist"), **kw)
  c.gan.d_hidden = (32,)
  return c


def test_eval_json_holds_the_sample_metrics_of_image_models(
    tiny, load_config, tmp_path, use_small_classifier, small_classifier):
  c = _gan_mnist(tiny, load_config, **{"eval.sample_metrics": True,
                                       "eval.num_metric_samples": 120, "eval.batch_size": 50})
  state, result = train.train(c, str(tmp_path), log=lambda s: None)
  with open(tmp_path / "eval.json") as f:
    saved = json.load(f)
  for k in ("fd", "classifier_score", "label_kl", "precision", "recall", "density", "coverage"):
    assert k in saved and saved[k] == result[k]
  # the classifier of the full dataset; by hand: the judge of 120 samples of the eval key
  assert use_small_classifier[-1].name == "mnist_subset"
  run = train.build_run(c)
  judge = sq.SampleJudge(small_classifier, run.dataset.test / 255.0)
  ev = run.evaluator(log=lambda s: None)
  samples = ev.samples(state, 120)
  assert samples.shape == (120, 28, 28, 1) and samples.min() >= 0 and samples.max() <= 1
  want = judge(samples)
  assert {k: result[k] for k in want} == pytest.approx(want)
  # off: no judge, no classifier
  c.eval.sample_metrics = False
  asked = len(use_small_classifier)
  assert train.build_run(c).evaluator(log=lambda s: None).judge is None
  assert len(use_small_classifier) == asked


def test_evaluator_draws_num_metric_samples_in_batches_with_the_seeds_key(tiny, load_config):
  c = _gan_mnist(tiny, load_config, **{"eval.num_metric_samples": 70, "eval.batch_size": 30})
  run = train.build_run(c)
  state = run.init_state()
  rec = _Recorder()
  ev = evaluator_lib.Evaluator(run.model, c, run.test_x, run.keys[0]["eval"], run.dataset.info, rec)
  summary = ev.summary(state)
  assert rec.seen[-1].shape == (70, 28, 28, 1) and "mean_pixel" in summary
  # three batches of 30 (the last cut to 10), each its own key: no batch repeats another
  x = rec.seen[-1]
  assert not np.array_equal(x[:10], x[30:40]) and not np.array_equal(x[:10], x[60:70])
  # another seed's key draws other samples; the same key the same ones
  ev.summary(state, steps.run_keys(5)["eval"])
  assert not np.array_equal(rec.seen[-1], x)
  ev.summary(state)
  np.testing.assert_array_equal(rec.seen[-1], x)
  # a judge of modes gets eval.num_mode_samples samples
  rec.counts_modes = True
  c.eval.num_mode_samples = 45
  ev.summary(state)
  assert rec.seen[-1].shape[0] == 45


def test_stacked_mnist_dataset_is_triples_of_its_own_split():
  d = load_dataset(ml_collections.ConfigDict({"name": "stacked_mnist_subset"}))
  base = load_dataset(ml_collections.ConfigDict({"name": "mnist_subset"}))
  assert d.train.shape == (stacked_mnist.NUM_TRAIN, 28, 28, 3) and d.train.dtype == np.uint8
  assert d.test.shape == (stacked_mnist.NUM_TEST, 28, 28, 3)
  assert d.info["channel_dataset"] == "mnist_subset" and d.info["num_classes"] == 1000
  train_label = {im.tobytes(): int(y) for im, y in zip(base.train, base.train_labels)}
  test_label = {im.tobytes(): int(y) for im, y in zip(base.test, base.test_labels)}
  for split, labels, own, other in ((d.train[:300], d.train_labels[:300], train_label, test_label),
                                    (d.test[:300], d.test_labels[:300], test_label, train_label)):
    for im, mode in zip(split, labels):
      digits = [own[np.ascontiguousarray(im[..., c:c + 1]).tobytes()] for c in range(3)]
      assert 100 * digits[0] + 10 * digits[1] + digits[2] == mode
      assert all(np.ascontiguousarray(im[..., c:c + 1]).tobytes() not in other for c in range(3))
  # the training triples hold every mode about equally often
  counts = np.bincount(d.train_labels, minlength=1000)
  assert counts.min() > 0 and sq.kl_to_uniform(counts) < 0.03


def test_stacked_mnist_runs_are_judged_by_modes(tiny, load_config, use_small_classifier):
  c = tiny(load_config("dcgan_stacked"), **{"gan.features": 4, "num_seeds": 1,
                                             "eval.num_mode_samples": 300,
                                             "eval.batch_size": 100, "batch_size": 16})
  c.eval.sample_metrics = True
  run = train.build_run(c)
  ev = run.evaluator(log=lambda s: None)
  assert isinstance(ev.judge, sq.StackedModeJudge)
  assert use_small_classifier[-1].name == "mnist_subset"      # reads one channel at a time
  state = run.init_state()
  summary = ev.summary(state)
  want = ev.judge(ev.samples(state, 300))
  assert want["num_samples"] == 300
  assert summary["modes"] == want["modes"] and summary["reverse_kl"] == want["reverse_kl"]


def test_weaker_discriminator_has_d_features_channels(tiny, load_config):
  c = tiny(load_config("dcgan_stacked_weak"), **{"num_seeds": 1})
  state = train.build_run(c).init_state()
  d_conv = state.discriminator.params["Conv_0"]["kernel"]
  g_last = state.generator.params["ConvTranspose_2"]["kernel"]
  assert d_conv.shape[-1] == c.gan.d_features == 8
  assert g_last.shape[-2] == 2 * c.gan.features == 32        # G keeps gan.features
  c.gan.d_features = 0                            # 0: D as wide as G
  state = train.build_run(c).init_state()
  assert state.discriminator.params["Conv_0"]["kernel"].shape[-1] == 16


@pytest.mark.slow  # reason: fits every latent sampler and judges each, 13 s
def test_judge_workdir_scores_every_source(trained_tiny, tmp_path, small_classifier,
                                           monkeypatch):
  from jaxgen.uses import samplers
  monkeypatch.setattr(samplers, "VAE2_STEPS", 100)
  monkeypatch.setattr(samplers, "GMM_COMPONENTS", (1, 2))
  config, workdir, _, _ = trained_tiny("ae_mnist")
  wd = str(tmp_path / "ae")
  import shutil
  shutil.copytree(workdir, wd)
  t = jaxgen.load(wd)
  judge = sq.SampleJudge(small_classifier, t.dataset.test / 255.0)
  report = judge_lib.judge_workdir(wd, num_samples=100, log=lambda s: None, judge=judge)
  names = [r["source"] for r in report["rows"]]
  assert names == ["test split", "training split", "AE decodes of N(0, I) codes",
                   "AE decodes of a Gaussian fitted to training codes",
                   "AE decodes of a Gaussian mixture fitted to training codes",
                   "AE decodes of a second-stage VAE fitted to training codes"]
  rows = {r["source"]: r for r in report["rows"]}
  assert rows["test split"]["fd"] == pytest.approx(0.0, abs=1e-6)
  assert rows["test split"]["precision"] == rows["test split"]["coverage"] == 1.0
  assert rows["training split"]["num_images"] == 100
  # the model row is the judge of the model's own samples with the judge key
  key = jax.random.fold_in(jax.random.fold_in(t.key, 6), 0)
  want = judge(np.asarray(t.generate(100, key)))
  assert {k: rows["AE decodes of N(0, I) codes"][k] for k in want} == pytest.approx(want)
  # each fitted sampler's row: its own key, its decodes; the sampler saved beside the run
  t2 = jaxgen.load(wd)
  for i, (name, source) in enumerate([("gmm", "AE decodes of a Gaussian mixture fitted to training codes"),
                                      ("vae2", "AE decodes of a second-stage VAE fitted to training codes")]):
    assert os.path.exists(os.path.join(wd, "samplers", f"{name}.npz"))
    k = jax.random.fold_in(jax.random.fold_in(t.key, 6), 2 + i)
    images = np.asarray(t2.generate(100, k, sampler=name))       # restored, not refitted
    np.testing.assert_allclose(images, np.asarray(t2.decode(t2.sampler(name).sample(k, 100))))
    assert {m: rows[source][m] for m in want} == pytest.approx(judge(images))
  for name in ("judge.json", "judge.md", "judge.png"):
    assert os.path.getsize(os.path.join(wd, name)) > 0
  assert "| AE decodes of N(0, I) codes | 100 |" in open(os.path.join(wd, "judge.md")).read()


def test_fitted_gaussian_codes_have_the_codes_mean_and_covariance():
  rng = np.random.RandomState(0)
  codes = rng.normal(size=(500, 3)) @ np.array([[2.0, 0, 0], [1.0, 0.5, 0], [0, 0, 0.1]]) + 4.0
  z = judge_lib.fitted_gaussian_codes(codes, jax.random.PRNGKey(0), 200_000)
  np.testing.assert_allclose(z.mean(0), codes.mean(0), atol=0.02)
  np.testing.assert_allclose(np.cov(z, rowvar=False), np.cov(codes, rowvar=False), atol=0.03)
  # another key, other codes
  assert not np.allclose(judge_lib.fitted_gaussian_codes(codes, jax.random.PRNGKey(1), 5), z[:5])


def test_a_class_filtered_run_is_judged_by_the_classifier_of_every_class(
    tiny, load_config, use_small_classifier):
  c = tiny(load_config("ae_mnist"), **{"dataset.classes": (0, 1), "eval.sample_metrics": True})
  run = train.build_run(c)
  assert sorted(np.unique(run.dataset.train_labels)) == [0, 1]
  judge = run.evaluator(log=lambda s: None).judge
  asked = use_small_classifier[-1]
  assert sorted(np.unique(asked.train_labels)) == list(range(10))
  assert asked.train.shape[0] == 4000
  # against the whole test split
  assert judge.reference.shape[0] == 1000


@pytest.mark.slow       # a run loaded and judged at two thresholds: 5 s
def test_truncation_curve_judges_the_truncated_samples_and_chooses_on_training_data(
    trained_tiny, small_classifier):
  _, workdir, _, _ = trained_tiny("gan_mnist")
  t = jaxgen.load(workdir)
  judge = sq.SampleJudge(small_classifier, t.dataset.test / 255.0)
  rows = judge_lib.truncation_curve(workdir, (0.0, 0.5), num_samples=60, judge=judge,
                                    log=lambda s: None)
  assert [r["truncation"] for r in rows] == [0.0, 0.5]
  key = jax.random.fold_in(jax.random.fold_in(t.key, 6), 0)
  assert rows[0]["test"] == pytest.approx(judge(np.asarray(t.generate(60, key))))
  c = t.config.copy_and_resolve_references()
  c.gan.truncation = 0.5
  truncated = np.asarray(jaxgen.load(workdir, c).generate(60, key))
  assert rows[1]["test"] == pytest.approx(judge(truncated))
  assert rows[1]["test"]["fd"] != rows[0]["test"]["fd"]
  idx = np.random.RandomState(0).choice(t.dataset.train.shape[0], 60, replace=False)
  ref = small_classifier.features(t.dataset.train[idx].astype(np.float32) / 255.0)
  assert rows[1]["train"] == pytest.approx(
      sq.precision_recall(ref, small_classifier.outputs(truncated)[1]))
  with pytest.raises(ConfigError, match="samples a GAN's prior"):
    judge_lib.truncation_curve(trained_tiny("ae_mnist")[1], (1.0,), judge=judge)


def test_choose_truncation_takes_the_most_precise_threshold_with_enough_recall():
  def row(t, p, r):
    return {"truncation": t, "test": {}, "train": {"precision": p, "recall": r}}
  rows = [row(0.0, 0.70, 0.90), row(2.0, 0.75, 0.88), row(1.0, 0.90, 0.60)]
  assert judge_lib.choose_truncation(rows) == 2.0          # 1.0 is more precise, recall too low
  assert judge_lib.choose_truncation(rows, min_recall=0.5) == 1.0
  assert judge_lib.choose_truncation(rows, min_recall=0.95) == 0.0


@pytest.mark.slow       # an evaluation with three fitted samplers, then the judge: 11 s
def test_evaluate_adds_each_fitted_samplers_metrics_to_eval_json(
    trained_tiny, tmp_path, use_small_classifier, small_classifier, monkeypatch):
  import shutil
  from jaxgen import modes
  from jaxgen.uses import samplers
  monkeypatch.setattr(samplers, "VAE2_STEPS", 50)
  monkeypatch.setattr(samplers, "GMM_COMPONENTS", (1, 2))
  config, workdir, _, _ = trained_tiny("ae_mnist")
  wd = str(tmp_path / "ae")
  shutil.copytree(workdir, wd)
  c = config.copy_and_resolve_references()
  c.eval.sample_metrics, c.eval.num_metric_samples = True, 60
  result = modes.evaluate(c, wd, log=lambda s: None, density_ks=())
  with open(os.path.join(wd, "eval.json")) as f:
    saved = json.load(f)
  assert sorted(saved["samplers"]) == ["gaussian", "gmm", "vae2"]
  for name in saved["samplers"]:
    assert saved["samplers"][name] == pytest.approx(result["samplers"][name])
  assert "fd" in saved and "fd" in saved["samplers"]["gmm"]
  # the figures of the judge's rows for the same samplers
  judge = sq.SampleJudge(small_classifier, jaxgen.load(wd).dataset.test / 255.0)
  report = judge_lib.judge_trained(jaxgen.load(wd, c), 60, judge, log=lambda s: None)
  row = {r["source"]: r for r in report["rows"]}[
      "AE decodes of a Gaussian mixture fitted to training codes"]
  assert {k: row[k] for k in saved["samplers"]["gmm"]} == pytest.approx(saved["samplers"]["gmm"])
