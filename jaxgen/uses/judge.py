"""Judging a trained model's samples against real data, beside the real data's own scores.

:func:`judge_trained` scores, with one :class:`~jaxgen.evaluation.sample_quality.SampleJudge`
(the judge classifier against the test split), each *source* of images:

* ``test split``: the test split itself (Fréchet distance 0, precision = recall = 1 by
  definition; its classifier score is the one real data gets);
* ``training split``: as many training images as samples — real digits the metrics have not
  seen, the floor a perfect generator would reach;
* ``model``: the model's own samples (``model.generate``: VAE prior samples, AE decodes of
  N(0, I) codes, GAN samples);
* fitted samplers (AE and VAE; :mod:`jaxgen.uses.samplers`): decodes of codes drawn from a
  Gaussian fitted (mean, full covariance) to the codes of the training split — the
  simplest way to make an autoencoder's decoder generate — from a Gaussian mixture (its
  size chosen by BIC) and from a second-stage VAE on the codes; each fitted once per
  checkpoint and saved in ``workdir/samplers/``.

:func:`judge_workdir` does this for a trained workdir (``train.py --mode judge``) and
writes ``judge.json``, ``judge.md`` and ``judge.png`` (sample rows per source).
"""
from __future__ import annotations

import os
from typing import Callable, Optional

import jax
import numpy as np

from jaxgen import plotting
from jaxgen.config import ConfigError
from jaxgen.evaluation import sample_quality
from jaxgen.json_output import write_json
from jaxgen.uses import samplers
from jaxgen.uses.loading import load, read_config

SAMPLER_SOURCES = ("gaussian", "gmm", "vae2")   # the fitted samplers judged for an AE or VAE
METRICS = ("fd", "classifier_score", "label_kl", "precision", "recall", "density", "coverage")
LOWER_IS_BETTER = ("fd", "label_kl")


def fitted_gaussian_codes(codes, key: jax.Array, n: int) -> np.ndarray:
  """``n`` codes from N(mean, covariance) of ``codes`` [N, D] (float64 fit): the
  ``gaussian`` sampler of :mod:`jaxgen.uses.samplers`."""
  return samplers.fit_gaussian(codes).sample(key, n)


def model_source_name(config) -> str:
  return {"vae": "VAE prior samples", "ae": "AE decodes of N(0, I) codes",
          "gan": "GAN samples", "cvae": "CVAE prior samples (labels 0-9 in turn)"}.get(config.model.name, f"{config.model.name} samples")


def judge_trained(trained, num_samples: Optional[int] = None, judge=None,
                  log: Callable[[str], None] = print) -> dict:
  """Sample metrics (:data:`METRICS`) of each source (see the module docstring) of a
  :class:`~jaxgen.uses.loading.Trained` image model; returns ``{"rows": [...], "images":
  {source: [8, H, W, C]}, ...}``. ``judge`` defaults to the run's own
  (:func:`~jaxgen.evaluation.sample_quality.make_judge`, which may train the judge
  classifier once)."""
  config, dataset = trained.config, trained.dataset
  if trained.model.condition == "image":
    raise ConfigError(f"--mode judge judges samples; {config.model.name!r} translates input "
                      f"images, and its PSNR, SSIM, sharpness and accuracy against the baselines "
                      f"are in eval.json (--mode evaluate)")
  if dataset.kind != "image" or dataset.test_labels is None:
    raise ValueError(f"judging samples needs a labelled image dataset; {dataset.name!r} is not")
  n = int(num_samples or config.eval.num_metric_samples)
  if judge is None:
    evaluation = config.eval.copy_and_resolve_references()
    evaluation.sample_metrics = True
    judge = sample_quality.make_judge(dataset, config.dataset, evaluation, log)
  if not isinstance(judge, sample_quality.SampleJudge):
    raise ValueError(f"{dataset.name!r} is judged by modes (eval.json), not by sample metrics")
  key = jax.random.fold_in(trained.key, 6)
  rng = np.random.RandomState(0)
  sources = {"test split": dataset.test.astype(np.float32) / 255.0,
             "training split": dataset.train[rng.choice(dataset.train.shape[0],
                                                        min(n, dataset.train.shape[0]),
                                                        replace=False)].astype(np.float32) / 255.0,
             model_source_name(config): np.asarray(trained.generate(n, jax.random.fold_in(key, 0)))}
  if config.model.name in ("ae", "vae"):
    what = {"gaussian": "a Gaussian", "gmm": "a Gaussian mixture",
            "vae2": "a second-stage VAE"}
    for name, images in _sampler_images(trained, n):
      sources[f"{config.model.name.upper()} decodes of {what[name]} fitted to training codes"] = (
          images)
  rows = []
  for name, images in sources.items():
    row = {"source": name, "num_images": int(images.shape[0]), **judge(images)}
    log(f"  {name}: " + ", ".join(f"{k} {row[k]:.4g}" for k in METRICS))
    rows.append(row)
  return {"dataset": dataset.name, "model": config.model.name, "step": trained.step,
          "num_reference": int(judge.reference.shape[0]),
          "classifier_test_accuracy": float(judge.classifier.test_accuracy),
          "rows": rows,
          "images": {k: v[np.sort(rng.choice(v.shape[0], 8, replace=False))]
                     for k, v in sources.items()}}


def _sampler_images(trained, n: int):
  """(name, n decoded images) for each fitted sampler of :data:`SAMPLER_SOURCES`, each drawn
  with its own key of the judge (``fold_in(fold_in(key, 6), 1 + i)``)."""
  key = jax.random.fold_in(trained.key, 6)
  for i, name in enumerate(SAMPLER_SOURCES):
    yield name, np.asarray(trained.generate(n, jax.random.fold_in(key, 1 + i), sampler=name))


def sampler_metrics(trained, judge, num_samples: Optional[int] = None,
                    log: Callable[[str], None] = print) -> dict:
  """``{sampler: sample metrics}`` for each fitted sampler of :data:`SAMPLER_SOURCES` of a
  trained AE or VAE: its decodes drawn with the keys of :func:`judge_trained`'s rows, so
  the figures are those rows'."""
  n = int(num_samples or trained.config.eval.num_metric_samples)
  out = {}
  for name, images in _sampler_images(trained, n):
    out[name] = judge(images)
    log(f"  sampler {name}: " + ", ".join(f"{k} {out[name][k]:.4g}" for k in METRICS))
  return out


def judge_markdown(report: dict, title: str = "") -> str:
  """The rows of :func:`judge_trained` as a Markdown table."""
  head = ("| source | images | Fréchet distance ↓ | classifier score ↑ | label KL ↓ | precision "
          "| recall | density | coverage |")
  lines = [f"### {title}\n" if title else "", head, "|" + "---|" * 9]
  for r in report["rows"]:
    lines.append(f"| {r['source']} | {r['num_images']} | {r['fd']:.2f} | "
                 f"{r['classifier_score']:.2f} | {r['label_kl']:.3f} | {r['precision']:.3f} | "
                 f"{r['recall']:.3f} | {r['density']:.3f} | {r['coverage']:.3f} |")
  return "\n".join(lines) + "\n"


def judge_workdir(workdir: str, config=None, seed_index: int = 0,
                  num_samples: Optional[int] = None, log: Callable[[str], None] = print,
                  judge=None) -> dict:
  """:func:`judge_trained` on the run in ``workdir``; writes ``judge.json``, ``judge.md``
  and ``judge.png`` there and returns the report (without the images)."""
  trained = load(workdir, config, seed_index, log)
  log(f"judging samples of {workdir} (step {trained.step}) against the test split of "
      f"{trained.dataset.name}")
  report = judge_trained(trained, num_samples, judge, log)
  images = report.pop("images")
  write_json(os.path.join(workdir, "judge.json"), report)
  title = f"{trained.config.model.name} on {trained.dataset.name}, step {trained.step}"
  with open(os.path.join(workdir, "judge.md"), "w") as f:
    f.write(judge_markdown(report, title))
  plotting.image_table(os.path.join(workdir, "judge.png"), np.stack(list(images.values())),
                       row_labels=list(images), title=title)
  log(f"wrote judge.json, judge.md and judge.png to {workdir}")
  return report


# ------------------------------------------------------------------ the truncation trick
def truncation_curve(workdir: str, thresholds=(0.0, 2.0, 1.5, 1.0, 0.75, 0.5),
                     seed_index: int = 0, num_samples: Optional[int] = None, judge=None,
                     log: Callable[[str], None] = print) -> list[dict]:
  """A trained GAN's samples at each ``gan.truncation`` threshold (0: the untruncated
  prior), judged twice: against the test split (``test``: the figures to report) and
  against as many training images (``train``: precision and recall there choose a
  threshold without looking at the test split, :func:`choose_truncation`). The samples of
  every threshold are drawn with the same key. Returns one row per threshold:
  ``{"truncation": t, "test": {metric: value}, "train": {"precision", "recall"}}``."""
  base = read_config(workdir)
  if base.model.name != "gan":
    raise ConfigError(f"the truncation trick samples a GAN's prior; {workdir!r} holds a "
                      f"{base.model.name!r} model")
  rows, train_ref = [], None
  for t in thresholds:
    config = base.copy_and_resolve_references()
    config.gan.truncation = float(t)
    trained = load(workdir, config, seed_index)
    if judge is None:
      evaluation = config.eval.copy_and_resolve_references()
      evaluation.sample_metrics = True
      judge = sample_quality.make_judge(trained.dataset, config.dataset, evaluation, log)
    n = int(num_samples or config.eval.num_metric_samples)
    if train_ref is None:
      rng = np.random.RandomState(0)
      images = trained.dataset.train[rng.choice(trained.dataset.train.shape[0],
                                                min(n, trained.dataset.train.shape[0]),
                                                replace=False)].astype(np.float32) / 255.0
      train_ref = judge.classifier.features(images)
    key = jax.random.fold_in(jax.random.fold_in(trained.key, 6), 0)   # judge_trained's key
    samples = np.asarray(trained.generate(n, key))
    test = judge(samples)
    _, feats = judge.classifier.outputs(samples)
    train = sample_quality.precision_recall(train_ref, feats)
    log(f"  truncation {t:g}: score {test['classifier_score']:.3f}, FD {test['fd']:.2f}, "
        f"precision {test['precision']:.3f}, recall {test['recall']:.3f} (training split: "
        f"precision {train['precision']:.3f}, recall {train['recall']:.3f})")
    rows.append({"truncation": float(t), "test": test, "train": train})
  return rows


def choose_truncation(rows: list[dict], min_recall: float = 0.85) -> float:
  """The threshold of :func:`truncation_curve`'s ``rows`` with the highest precision
  against the training split among those whose recall there is at least ``min_recall``
  (0, no truncation, if none is): a choice that never looks at the test split."""
  ok = [r for r in rows if r["train"]["recall"] >= min_recall]
  if not ok:
    return 0.0
  return max(ok, key=lambda r: r["train"]["precision"])["truncation"]
