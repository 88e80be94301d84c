"""Evaluation on the test split, for any model: the means of ``model.eval_batch``, the
importance-weighted NLL where the model has a likelihood, the mode-collapse metrics where
the dataset knows its modes, the sample metrics of a judge (:mod:`jaxgen.evaluation.
sample_quality`) for images, and the pictures; over several seeds, mean and std."""
from __future__ import annotations

import json
import os
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.batching import map_batches, num_rows, take_rows
from jaxgen.evaluation.mode_collapse import mode_metrics
from jaxgen.train.steps import seed_slice

# eval.json entries that are counts or settings, not metrics to average over seeds
NOT_AVERAGED = ("step", "num_test_examples", "nll_num_samples", "num_samples")


class Evaluator:
  """Test-split metrics and pictures of one model (each quantity jitted once).

  ``key`` is the evaluation key of one seed; with several seeds, pass each seed's state
  and key to the methods (``key=None`` uses the one given here). ``data_info`` is the
  dataset's ``info``: where it has ``modes`` and ``std`` (the 2-D mixtures), the summary
  adds the mode-collapse metrics of ``eval.num_mode_samples`` generated samples.
  ``judge`` (e.g. a :class:`~jaxgen.evaluation.sample_quality.SampleJudge`) maps generated
  images in [0, 1] to a dict of metrics, added to the summary: ``eval.num_metric_samples``
  samples, or ``eval.num_mode_samples`` for a judge of modes (``judge.counts_modes``). A
  judge of a conditional model (``judge.on_test_split``, :mod:`jaxgen.evaluation.
  translation`) is called as ``judge.evaluate(evaluator, state, key)`` instead: it reads
  the test inputs itself.
  """

  def __init__(self, model, config, test_x: jax.Array, key: jax.Array,
               data_info: Optional[dict] = None, judge: Optional[Callable] = None):
    self.model, self.config, self.test_x, self.key = model, config, test_x, key
    self.judge = judge
    info = data_info or {}
    self.modes = (info["modes"], info["std"]) if "modes" in info else None
    self._eval = jax.jit(model.eval_batch)
    self._pictures = jax.jit(model.pictures)
    self._generate = jax.jit(model.generate, static_argnums=2)
    self._nll = {}

  def summary(self, state, key: Optional[jax.Array] = None) -> dict[str, float]:
    """Means over the whole test split of ``model.eval_batch``'s per-example values, plus
    the mode-collapse metrics where the dataset has modes."""
    key = self.key if key is None else key
    out = map_batches(lambda xb, k: self._eval(state, xb, k), self.test_x,
                      self.config.eval.batch_size, jax.random.fold_in(key, 0))
    result = {k: float(jnp.mean(v)) for k, v in out.items()}
    if self.modes is not None:
      samples = np.asarray(self._generate(state, jax.random.fold_in(key, 3),
                                          int(self.config.eval.num_mode_samples)))
      result.update(mode_metrics(samples, *self.modes))
    if getattr(self.judge, "on_test_split", False):     # a judge of conditional models
      result.update(self.judge.evaluate(self, state, key))
    elif self.judge is not None:
      result.update(self.judge(self.samples(state, self.judge_samples, key)))
    return result

  @property
  def judge_samples(self) -> int:
    """How many samples the judge sees."""
    return int(self.config.eval.num_mode_samples if getattr(self.judge, "counts_modes", False)
               else self.config.eval.num_metric_samples)

  def samples(self, state, n: int, key: Optional[jax.Array] = None) -> np.ndarray:
    """``n`` generated examples (``model.generate``: images in [0, 1]) on the host, drawn in
    batches of ``eval.batch_size`` (one compilation), batch ``i`` with ``fold_in(k, i)`` of
    the evaluation key's judge key ``k``."""
    key = jax.random.fold_in(self.key if key is None else key, 5)
    b = min(int(self.config.eval.batch_size), n)
    out = [np.asarray(self._generate(state, jax.random.fold_in(key, i), b))
           for i in range(-(-n // b))]
    return np.concatenate(out)[:n]

  def nll(self, state, num_samples: int, key: Optional[jax.Array] = None) -> Optional[float]:
    """Mean importance-weighted -log p(x) over the test split (None if the model has no
    likelihood)."""
    if not self.model.has_likelihood:
      return None
    key = self.key if key is None else key
    if num_samples not in self._nll:
      self._nll[num_samples] = jax.jit(
          lambda s, xb, k: self.model.nll_batch(s, xb, k, num_samples))
    fn = self._nll[num_samples]
    out = map_batches(lambda xb, k: fn(state, xb, k), self.test_x,
                      self.config.eval.batch_size, jax.random.fold_in(key, 1))
    return float(jnp.mean(out))

  def pictures(self, state, key: Optional[jax.Array] = None) -> dict[str, np.ndarray]:
    key = self.key if key is None else key
    n = min(self.config.eval.num_images, num_rows(self.test_x))
    pics = self._pictures(state, jax.random.fold_in(key, 2), take_rows(self.test_x, slice(0, n)))
    return {k: np.asarray(v) for k, v in pics.items()}

  def periodic(self, state, key: Optional[jax.Array] = None) -> dict[str, float]:
    """What is logged at each evaluation step."""
    values = self.summary(state, key)
    k = self.config.eval.nll_samples_during_training
    if k and self.model.has_likelihood:
      values["nll"] = self.nll(state, k, key)
    return values

  def final(self, state, key: Optional[jax.Array] = None) -> dict:
    """The numbers of ``eval.json``."""
    result = {"step": int(state.step), **self.summary(state, key)}
    k = int(self.config.eval.nll_samples)
    nll = self.nll(state, k, key)
    if nll is not None:
      result.update(nll=nll, nll_num_samples=k)
    result["num_test_examples"] = num_rows(self.test_x)
    return result


def across_seeds(per_seed: list[dict]) -> dict:
  """Mean and (population) std over seeds of every numeric entry; keeps the per-seed rows."""
  if len(per_seed) == 1:
    return dict(per_seed[0])
  out = {}
  for k, v in per_seed[0].items():
    if isinstance(v, (int, float)) and k not in NOT_AVERAGED:
      vals = np.array([row[k] for row in per_seed], np.float64)
      with np.errstate(invalid="ignore"):      # inf entries (e.g. reverse KL with no modes hit)
        out[k] = float(vals.mean())
        out[f"{k}_std"] = float(vals.std()) if np.all(np.isfinite(vals)) else float("nan")
    else:
      out[k] = v
  out["num_seeds"] = len(per_seed)
  out["per_seed"] = per_seed
  return out


def evaluate_seeds(evaluator: Evaluator, state, keys: list[dict], method: str) -> list[dict]:
  """``evaluator.<method>`` (``periodic`` or ``final``) of each seed of ``state`` (stacked
  over seeds when ``keys`` holds several), with that seed's evaluation key."""
  if len(keys) == 1:
    return [getattr(evaluator, method)(state, keys[0]["eval"])]
  return [getattr(evaluator, method)(seed_slice(state, i), k["eval"]) for i, k in enumerate(keys)]


def periodic_evaluation(evaluator: Evaluator, writer, state, keys: list[dict],
                        step: int) -> dict[str, float]:
  """The evaluation logged during training: ``eval/*`` scalars (mean and std over seeds)
  and the pictures of the first seed, written by ``writer``; returns the scalars."""
  evals = across_seeds(evaluate_seeds(evaluator, state, keys, "periodic"))
  values = {f"eval/{k}": v for k, v in evals.items() if isinstance(v, (int, float))}
  writer.scalars(step, values)
  if getattr(writer, "enabled", True):
    writer.images(step, evaluator.pictures(state if len(keys) == 1 else seed_slice(state, 0),
                                           keys[0]["eval"]))
  return values


def final_evaluation(evaluator: Evaluator, state, keys: list[dict], directory: str,
                     write: bool = True) -> dict:
  """``evaluator.final`` over the seeds (:func:`across_seeds`), written to
  ``directory/eval.json`` (unless ``write`` is False: a process other than the writer) and
  returned."""
  result = across_seeds(evaluate_seeds(evaluator, state, keys, "final"))
  if write:
    with open(os.path.join(directory, "eval.json"), "w") as f:
      json.dump(result, f, indent=2)
  return result
