"""Judges of conditional models on the test split: image-to-image translation (pix2pix on
a paired dataset) and style transfer (the conditional VAE).

Unlike the sample judges of :mod:`jaxgen.evaluation.sample_quality`, which see only
generated samples, these need the test inputs: the evaluator calls
``judge.evaluate(evaluator, state, key)`` (``on_test_split = True``) and adds the returned
numbers to ``eval.json``.

* :class:`TranslationJudge`: PSNR and SSIM of G's outputs against the held-out targets,
  beside the baselines computed once from the same inputs: bicubic and nearest upsampling
  for super-resolution, the luminance-only (gray) image for colorization; the sharpness
  (mean gradient magnitude) of outputs, baselines and targets; for colour images the
  colourfulness (Hasler & Süsstrunk 2003) of outputs, baselines and targets; for
  super-resolution the periodic peak (:func:`~jaxgen.evaluation.image_quality.
  periodic_peak` at the scale factor: a checkerboard from the upsampling path shows there)
  of outputs, baselines and targets; for digits the judge classifier's accuracy on
  outputs, baselines and targets.
* :class:`StyleTransferJudge`: every test digit encoded with its own label and decoded with
  each other label (9 transfers per digit): the judge classifier's accuracy on the
  target labels and the correlation of slant (image moments) between source and transfer;
  plus the sample metrics of the model's samples (:class:`~jaxgen.evaluation.
  sample_quality.SampleJudge`).
"""
from __future__ import annotations

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.batching import map_batches
from jaxgen.evaluation import image_quality as iq


def _batched(fn: Callable, arrays: tuple, batch_size: int) -> np.ndarray:
  """``fn(*rows)`` over fixed-size row batches of ``arrays`` on the host
  (:func:`jaxgen.batching.map_batches`: one compilation, the last batch padded)."""
  out = map_batches(lambda rows, _: fn(*rows), tuple(jnp.asarray(a) for a in arrays),
                    batch_size, jax.random.PRNGKey(0))
  return np.asarray(out)


def _means(prefix: str, values: dict[str, np.ndarray]) -> dict[str, float]:
  return {f"{prefix}{k}": float(np.mean(v)) for k, v in values.items()}


def baselines(task: str, inputs: np.ndarray, out_shape) -> dict[str, np.ndarray]:
  """The fixed baselines' outputs for ``inputs [N, h, w, c]`` (values in [0, 1]) of a
  paired ``task``: 'gray' (the input repeated over the ``out_shape`` = (H, W, C) channels)
  for colorization, else each of :data:`~jaxgen.evaluation.image_quality.UPSAMPLE_METHODS`
  to (H, W)."""
  if task == "colorization":
    return {"gray": np.repeat(inputs, out_shape[-1], axis=-1)}
  return {m: iq.upsample(inputs, out_shape[:2], m) for m in iq.UPSAMPLE_METHODS}


class TranslationJudge:
  """Image-to-image metrics of a model with ``translate(state, inputs)`` (outputs in
  [0, 1]) on a paired dataset's test split.

  ``dataset``: the paired dataset (``info['task']`` 'super_resolution' or
  'colorization'); ``classifier``: the judge classifier of the targets' classes (digits)
  or None. Returns ``psnr``, ``ssim``, ``sharpness`` (+ ``colourfulness`` for colour
  targets, ``accuracy`` with a classifier) of the outputs, the same with the prefix
  ``truth_`` for the targets where it is not trivial (sharpness, colourfulness, accuracy),
  and with the prefix of each baseline (``bicubic_``, ``nearest_``; ``gray_``). For
  super-resolution also ``periodic_peak`` (dB, over the whole split, at the period of the
  scale factor) of the outputs, the targets and the baselines."""

  on_test_split = True

  def __init__(self, dataset, classifier=None, batch_size: int = 250):
    self.task = dataset.info.get("task", "super_resolution")
    self.truth = dataset.test.astype(np.float32) / 255.0
    self.labels = dataset.test_labels
    self.classifier = classifier if dataset.test_labels is not None else None
    self.batch_size = int(batch_size)
    self._translate = {}
    inputs = dataset.test_inputs.astype(np.float32) / 255.0
    scale = self.truth.shape[1] // inputs.shape[1]
    self.period = scale if self.task == "super_resolution" and scale >= 2 else None
    self.baselines = baselines(self.task, inputs, self.truth.shape[1:])
    self.reference = {**_means("truth_", self._quality(self.truth)),
                      **self._spectral("truth_", self.truth)}
    self.baseline_metrics = {}
    for name, images in self.baselines.items():
      self.baseline_metrics.update(_means(name + "_", self.metrics(images)))
      self.baseline_metrics.update(self._spectral(name + "_", images))

  def _spectral(self, prefix: str, images: np.ndarray) -> dict[str, float]:
    """The periodic peak of a whole set of outputs (super-resolution only)."""
    if self.period is None or self.truth.shape[1] % self.period or self.truth.shape[2] % self.period:
      return {}
    return {f"{prefix}periodic_peak": iq.periodic_peak(images, self.period)}

  def _quality(self, images: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image metrics that need no target: sharpness, colourfulness, accuracy."""
    out = {"sharpness": iq.sharpness(images)}
    if images.shape[-1] == 3:
      out["colourfulness"] = iq.colourfulness(images)
    if self.classifier is not None:
      out["accuracy"] = (self.classifier.predict(images) == self.labels).astype(np.float64)
    return out

  def metrics(self, outputs: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image metrics of ``outputs`` [N, H, W, C] in [0, 1] against the targets."""
    outputs = np.asarray(outputs, np.float32)
    return {"psnr": iq.psnr(self.truth, outputs), "ssim": iq.ssim(self.truth, outputs),
            **self._quality(outputs)}

  def outputs(self, model, state, test) -> np.ndarray:
    """The model's translations of the test inputs ``test['cond']`` (host, [0, 1])."""
    fn = self._translate.get(id(model))
    if fn is None:
      fn = self._translate[id(model)] = jax.jit(model.translate)
    return _batched(lambda c: fn(state, c), (test["cond"],), self.batch_size)

  def evaluate(self, evaluator, state, key: jax.Array) -> dict[str, float]:
    """The numbers of ``eval.json`` (the model's, the targets' and the baselines')."""
    del key
    outputs = self.outputs(evaluator.model, state, evaluator.test_x)
    return {**_means("", self.metrics(outputs)), **self._spectral("", outputs),
            **self.reference, **self.baseline_metrics}


class StyleTransferJudge:
  """Style transfer of a conditional VAE (``model.transfer(params, x, labels, targets)``)
  on the test split: each digit decoded with each of the other ``num_classes - 1`` labels.

  Returns ``transfer_accuracy`` (the judge classifier reads the target label),
  ``slant_correlation`` (Pearson, over all transfers, of the source digit's slant and the
  transfer's), ``slant_correlation_shuffled`` (the same against the slant of another,
  randomly paired source: the chance level), ``source_accuracy`` (the classifier on the
  test digits themselves), and the sample metrics of ``sample_judge`` on the model's
  samples (``evaluator.samples``)."""

  on_test_split = True

  def __init__(self, classifier, num_classes: int, sample_judge=None, batch_size: int = 250):
    self.classifier = classifier
    self.num_classes = int(num_classes)
    self.sample_judge = sample_judge
    self.batch_size = int(batch_size)
    self._transfer = {}

  def transfers(self, model, state, x, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(transfers [N (C - 1), H, W, C] in [0, 1], their source index, their target label):
    test digit i decoded with every label but its own, in label order."""
    labels = np.asarray(labels)
    shift = np.arange(1, self.num_classes)
    targets = (labels[:, None] + shift[None, :]) % self.num_classes          # [N, C - 1]
    source = np.repeat(np.arange(labels.shape[0]), shift.size)
    targets = targets.reshape(-1)
    fn = self._transfer.get(id(model))
    if fn is None:
      fn = self._transfer[id(model)] = jax.jit(model.transfer)
    xs = jnp.asarray(x)[source]
    out = _batched(lambda a, b, c: fn(state.params, a, b, c),
                   (xs, jnp.asarray(labels[source]), jnp.asarray(targets)), self.batch_size)
    return out, source, targets

  def metrics(self, model, state, x, labels) -> dict:
    """The style-transfer numbers of preprocessed test digits ``x`` with ``labels``, plus
    ``per_target_accuracy`` (a list: the accuracy of the transfers to each label)."""
    labels = np.asarray(labels)
    out, source, targets = self.transfers(model, state, x, labels)
    lo, hi = model.data_range
    x01 = (np.asarray(x, np.float32) - lo) / (hi - lo)
    src_slant = iq.slant(x01)
    out_slant = iq.slant(out)
    shuffled = np.random.RandomState(0).permutation(x01.shape[0])
    hit = self.classifier.predict(out) == targets
    return {
        "transfer_accuracy": float(np.mean(hit)),
        "slant_correlation": iq.correlation(src_slant[source], out_slant),
        "slant_correlation_shuffled": iq.correlation(src_slant[shuffled][source], out_slant),
        "source_accuracy": float(np.mean(self.classifier.predict(x01) == labels)),
        "per_target_accuracy": [float(np.mean(hit[targets == t])) for t in range(self.num_classes)],
    }

  def evaluate(self, evaluator, state, key: jax.Array) -> dict[str, float]:
    result = self.metrics(evaluator.model, state, evaluator.test_x["x"],
                          evaluator.test_x["cond"])
    del result["per_target_accuracy"]            # eval.json holds scalars
    if self.sample_judge is not None:
      n = int(evaluator.config.eval.num_metric_samples)
      result.update(self.sample_judge(evaluator.samples(state, n, key)))
    return result


def make_translation_judge(dataset, model, classifier_for: Callable,
                           sample_judge: Optional[Callable] = None, evaluation=None,
                           num_classes: int = 10):
  """The judge of a conditional ``model`` (None for an unconditional one):
  :class:`TranslationJudge` for an image-conditioned model on a paired dataset,
  :class:`StyleTransferJudge` for a label-conditioned one. ``classifier_for(dataset)``
  returns the judge classifier of a labelled dataset. Settings: the config's ``eval`` group
  (``evaluation``: ``sample_metrics``, ``batch_size``) and the model's ``num_classes``."""
  condition = getattr(model, "condition", "none")
  if condition == "image":
    clf = None
    if dataset.test_labels is not None and evaluation.sample_metrics:
      base = dataset.info.get("base_dataset")
      clf = classifier_for(base) if base else None
    return TranslationJudge(dataset, clf, int(evaluation.batch_size))
  if condition == "label" and evaluation.sample_metrics:
    return StyleTransferJudge(classifier_for(None), int(num_classes),
                              sample_judge, int(evaluation.batch_size))
  return None
