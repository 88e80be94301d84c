"""The interface every model offers the trainer, declared once.

A model is a small object of pure functions built from its example shape and its own
settings (:func:`jaxgen.models.build` hands them over); it holds its networks and
optimizers, never arrays or compiled functions. The trainer
(:mod:`jaxgen.train`) calls exactly what :class:`GenerativeModel` lists and reads the
declared attributes instead of probing for methods.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax

State = Any      # a pytree (flax.struct dataclass) holding everything that trains


@runtime_checkable
class GenerativeModel(Protocol):
  """What :mod:`jaxgen.train` needs of a model.

  Declared attributes:

  * ``example_shape``: the shape of one example, e.g. (28, 28, 1) or (2,);
  * ``train_metrics``: the names of the scalars ``train_step`` returns (logged as
    ``train/<name>``);
  * ``progress_metrics``: the subset of ``train_metrics`` shown on the progress bar;
  * ``eval_metrics``: the names of the per-example arrays ``eval_batch`` returns (their
    test-split means are logged as ``eval/<name>`` and written to ``eval.json``);
  * ``has_likelihood``: True when the model estimates log p(x): it is then also a
    :class:`LikelihoodModel` (it implements ``nll_batch``) and the trainer reports the
    importance-weighted NLL (``eval/nll``, ``nll`` in ``eval.json``);
  * ``condition``: what the model is conditioned on: 'none'; 'label' (the dataset's
    labels) or 'image' (a paired dataset's input images). A conditional model receives
    every batch as ``{"x": examples, "cond": conditions}`` (preprocessed examples; int32
    labels or preprocessed input images) instead of an array of examples.
  """
  example_shape: tuple[int, ...]
  train_metrics: tuple[str, ...]
  progress_metrics: tuple[str, ...]
  eval_metrics: tuple[str, ...]
  has_likelihood: bool
  condition: str

  def init(self, key: jax.Array) -> State:
    """The state at step 0, a pure function of ``key``."""

  def train_step(self, state: State, batch: jax.Array, key: jax.Array) -> tuple[State, dict]:
    """One training step, pure: ``(state, {name: scalar for name in train_metrics})``."""

  def eval_batch(self, state: State, x: jax.Array, key: jax.Array) -> dict:
    """``{name: [batch] array for name in eval_metrics}`` on a preprocessed test batch."""

  def generate(self, state: State, key: jax.Array, n: int) -> jax.Array:
    """``n`` samples: images in [0, 1], points in the data's own space."""

  def pictures(self, state: State, key: jax.Array, x: jax.Array) -> dict:
    """``{name: images in [0, 1] or points [N, dim]}`` to draw at each evaluation."""


@runtime_checkable
class LikelihoodModel(GenerativeModel, Protocol):
  """A model that estimates log p(x) (``has_likelihood = True``)."""

  def nll_batch(self, state: State, x: jax.Array, key: jax.Array, num_samples: int) -> jax.Array:
    """Per-example estimate of -log p(x) with ``num_samples`` importance samples."""


CONDITIONS = ("none", "label", "image")

REQUIRED = ("example_shape", "train_metrics", "progress_metrics", "eval_metrics",
            "has_likelihood", "condition", "init", "train_step", "eval_batch", "generate", "pictures")


def check_interface(model: Any) -> None:
  """Raises TypeError naming what ``model`` lacks of :class:`GenerativeModel`."""
  missing = [name for name in REQUIRED if not hasattr(model, name)]
  if model is not None and getattr(model, "has_likelihood", False) and not callable(
      getattr(model, "nll_batch", None)):
    missing.append("nll_batch (declared has_likelihood=True)")
  if missing:
    raise TypeError(f"{type(model).__name__} does not implement the model interface: "
                    f"missing {', '.join(missing)} (see jaxgen.models.interface)")
  if model.condition not in CONDITIONS:
    raise TypeError(f"{type(model).__name__}.condition is {model.condition!r}; use one of "
                    f"{CONDITIONS}")
  if not set(model.progress_metrics) <= set(model.train_metrics):
    raise TypeError(f"{type(model).__name__}.progress_metrics {model.progress_metrics} are not "
                    f"all in train_metrics {model.train_metrics}")
