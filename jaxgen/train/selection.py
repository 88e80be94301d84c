"""Model selection on a validation split (``eval.select_on``): early stopping without
touching the test split.

At every periodic evaluation the trainer hands the state to a :class:`Selector`, which
scores it on the dataset's validation split (the same evaluator and judge as the test
split's, :meth:`jaxgen.train.run.Run.evaluator` with ``split='validation'``), logs those
numbers as ``val/*`` scalars, and keeps the state whose ``eval.select_on`` metric is best
so far (largest with ``eval.select_higher``, else smallest) as the one checkpoint of
``WORKDIR/selected``, with ``WORKDIR/selected.json`` recording its step and value (so a
resumed run goes on comparing against it). A tie keeps the earlier step. At the end of
training the selected state is scored on the test split once, and ``eval.json["selected"]``
holds those test metrics beside its step and validation value; the top level of
``eval.json`` stays the last step's. ``jaxgen.load(workdir, checkpoint='selected')``
restores it.
"""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional

from jaxgen import config as config_lib
from jaxgen.checkpoint import Checkpointer
from jaxgen.json_output import write_json
from jaxgen.scale import mesh as mesh_lib

SELECTED_DIR = "selected"
RECORD = "selected.json"


def better(value: float, best: Optional[float], higher: bool) -> bool:
  """Whether ``value`` beats ``best`` (None: nothing yet); a tie does not (the earlier
  step stays selected); NaN never does."""
  if value != value:        # NaN
    return False
  if best is None:
    return True
  return value > best if higher else value < best


class Selector:
  """Keeps the best step of one run by a validation metric (see the module docstring).

  ``run``: the :class:`~jaxgen.train.run.Run` (one seed); ``writer``: whether this process
  writes files (process 0)."""

  def __init__(self, run, workdir: str, log: Callable[[str], None] = print,
               writer: bool = True):
    config = run.config
    self.metric = str(config.eval.select_on)
    self.higher = bool(config.eval.select_higher)
    self.key = run.keys[0]["eval"]
    self.writer = writer
    self.evaluator = run.evaluator(log, split="validation")
    self.path = os.path.join(workdir, RECORD)
    self.ckpt = Checkpointer(os.path.join(workdir, SELECTED_DIR), 1, log=log, writer=writer)
    self.record = self._read()

  def _read(self) -> Optional[dict]:
    """The record of a resumed run, if it selected on the same metric the same way."""
    if not os.path.exists(self.path) or self.ckpt.latest_step() is None:
      return None
    with open(self.path) as f:
      record = json.load(f)
    if record.get("select_on") != self.metric or record.get("higher") != self.higher:
      raise config_lib.ConfigError(
          f"{self.path} selected on {record.get('select_on')!r} "
          f"({'highest' if record.get('higher') else 'lowest'}), this run on {self.metric!r} "
          f"({'highest' if self.higher else 'lowest'}); use another --workdir or the same "
          f"config.eval.select_on / select_higher")
    return record

  @property
  def best_step(self) -> Optional[int]:
    return None if self.record is None else int(self.record["step"])

  def scores(self, state) -> dict[str, float]:
    """The validation split's numbers of ``state`` (the evaluator's summary); ConfigError
    if ``eval.select_on`` is not among them (checked before training starts)."""
    values = self.evaluator.summary(state, self.key)
    if self.metric not in values or not isinstance(values[self.metric], (int, float)):
      names = ", ".join(sorted(k for k, v in values.items() if isinstance(v, (int, float))))
      raise config_lib.ConfigError(f"config.eval.select_on={self.metric!r} is not a metric of "
                                   f"this run's evaluation; choose one of: {names}")
    return values

  def offer(self, step: int, state: Any) -> dict[str, float]:
    """Scores ``state`` (of ``step``) on the validation split and keeps it if it is the
    best so far; returns the validation numbers (``val/<name>``, and ``val/selected_step``)."""
    values = self.scores(mesh_lib.local_copy(state))
    value = float(values[self.metric])
    if better(value, None if self.record is None else self.record["value"], self.higher):
      self.record = {"step": int(step), "select_on": self.metric, "higher": self.higher,
                     "value": value}
      self.ckpt.save(step, mesh_lib.for_checkpoint(state))   # keeps one: the older goes
      if self.writer:
        write_json(self.path, self.record)
    out = {f"val/{k}": v for k, v in values.items() if isinstance(v, (int, float))}
    out["val/selected_step"] = float(self.record["step"])
    return out

  def selected_state(self, template: Any) -> Any:
    """The selected state, restored into ``template``'s structure."""
    return self.ckpt.restore(template)

  def close(self) -> None:
    self.ckpt.close()


def selected_evaluation(selector: Selector, evaluator, run, workdir: str, result: dict,
                        write: bool = True) -> dict:
  """``result`` (the last step's ``eval.json``) with ``result['selected']``: the test
  numbers (``evaluator.final``) of the step the selector kept, its step and its validation
  value; rewritten to ``workdir/eval.json`` unless ``write`` is False."""
  state = selector.selected_state(run.abstract_state())
  chosen = evaluator.final(state, run.keys[0]["eval"])
  result = {**result, "selected": {
      "step": chosen.pop("step"), "select_on": selector.metric,
      f"validation_{selector.metric}": selector.record["value"], **chosen}}
  if write:
    write_json(os.path.join(workdir, "eval.json"), result)
  return result
