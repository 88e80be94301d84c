"""The host loop: resume, signals, and the log / evaluation / checkpoint cadence.

Calls the compiled chunk of :mod:`jaxgen.train.steps` until ``num_steps``; between calls
it fetches metrics (at log steps only), evaluates, checkpoints, and stops cleanly on
SIGTERM/SIGINT. It knows nothing about any model: it uses the declared interface of
:class:`jaxgen.models.interface.GenerativeModel`.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from typing import Any, Callable

import jax
import numpy as np
from tqdm import tqdm

from jaxgen import config as config_lib
from jaxgen.scale import distributed
from jaxgen.checkpoint import Checkpointer
from jaxgen.train.selection import Selector, selected_evaluation
from jaxgen.train.evaluator import final_evaluation, periodic_evaluation
from jaxgen.json_output import write_json
from jaxgen.train.outputs import MetricsWriter, format_scalars, write_environment
from jaxgen.scale import mesh as mesh_lib
from jaxgen.train.run import build_run
from jaxgen.train.steps import chunk_length


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss); the message names step and quantity."""


class Preempted(Exception):
  """SIGTERM or SIGINT arrived; a checkpoint of ``step`` was saved before stopping."""

  def __init__(self, step: int, signum: int, directory: str):
    self.step, self.signum, self.directory = step, signum, directory
    name = signal.Signals(signum).name
    super().__init__(f"stopped by {name} at step {step}; checkpoint saved in {directory}: "
                     f"run the same command again to resume")


class _SignalCatcher:
  """Turns SIGTERM/SIGINT into a flag checked between compiled chunks (main thread only)."""

  def __init__(self):
    self.signum = None
    self._previous = {}

  def install(self) -> "_SignalCatcher":
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGTERM, signal.SIGINT):
        self._previous[sig] = signal.signal(sig, self._catch)
    return self

  def _catch(self, signum, frame):
    del frame
    self.signum = signum

  def restore(self) -> None:
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)


# Keys that may change between a run and its resumption: they do not change the math
# (num_steps only while the learning rate is constant: a decay schedule spans num_steps;
# the mesh only in the last bits, through the all-reduce's summation order: a run may
# resume on another number of devices or processes; where the training split lives not at
# all: a streamed run reads the same rows).
RESUMABLE_CHANGES = ("num_steps", "progress", "keep_checkpoints", "num_samples", "mesh",
                     "eval.background_rate", "dataset.stream", "dataset.stream_mb",
                     "dataset.stream_prefetch")


def config_differences(old: dict, new: dict, prefix: str = "",
                       free: tuple[str, ...] = RESUMABLE_CHANGES) -> list[str]:
  """'key: old -> new' for every differing leaf of two config dicts (JSON form), except
  the keys (or whole groups) in ``free`` (by default those that may change on resume)."""
  keep = free
  free = set(free)
  if any(c.get("lr_schedule", "constant") != "constant" for c in (old, new)):
    free.discard("num_steps")
  out = []
  for k in sorted(set(old) | set(new)):
    if f"{prefix}{k}" in free:
      continue
    a, b = old.get(k, "<missing>"), new.get(k, "<missing>")
    if isinstance(a, dict) and isinstance(b, dict):
      out += config_differences(a, b, f"{prefix}{k}.", keep)
    elif a != b:
      out.append(f"{prefix}{k}: {a!r} -> {b!r}")
  return out


def _with_defaults(old: dict, defaults: dict) -> dict:
  """``old`` with every key it lacks taken from ``defaults`` (recursively): a workdir
  written before a key existed ran with that key's default (new keys default to the old
  behaviour), so resuming it with the default is no change."""
  out = dict(defaults)
  for k, v in old.items():
    out[k] = _with_defaults(v, defaults[k]) if isinstance(v, dict) and isinstance(
        defaults.get(k), dict) else v
  return out


def _refuse_changed_config(config, workdir: str) -> None:
  """ConfigError if ``workdir`` holds checkpoints of a config that differs from ``config``
  in more than :data:`RESUMABLE_CHANGES`."""
  path = os.path.join(workdir, "config.json")
  ckpt_dir = os.path.join(workdir, "checkpoints")
  if not (os.path.isdir(ckpt_dir) and any(n.isdigit() for n in os.listdir(ckpt_dir))
          and os.path.exists(path)):
    return
  with open(path) as f:
    old = _with_defaults(json.load(f), json.loads(config_lib.base_config().to_json_best_effort()))
  diffs = config_differences(old, json.loads(config.to_json_best_effort()))
  if diffs:
    raise config_lib.ConfigError(
        f"workdir {workdir!r} holds checkpoints of a different config ({'; '.join(diffs[:3])}"
        f"{'; ...' if len(diffs) > 3 else ''}); use another --workdir, or pass "
        f"--allow_config_change to resume anyway")


def _check_finite(chunks: list, step: int, ckpt: Checkpointer) -> None:
  """Raises TrainingError naming the first non-finite metric in per-step ``chunks``."""
  for m in chunks:
    for k, v in m.items():
      if not np.all(np.isfinite(np.asarray(v))):
        raise TrainingError(f"non-finite train/{k} by step {step}; "
                            f"the last good checkpoint (step {ckpt.latest_step()}) stays the "
                            f"latest: lower --config.learning_rate and rerun")


@distributed.watched
def train(config, workdir: str, log: Callable[[str], None] = print,
          allow_config_change: bool = False) -> tuple[Any, dict]:
  """Trains ``config`` in ``workdir`` (resuming from its latest readable checkpoint if any).

  With ``config.num_seeds`` = N > 1, seeds seed..seed+N-1 train in one program (see
  :func:`jaxgen.train.steps.over_seeds`). Returns the final state and the final evaluation
  (also written to ``workdir/eval.json``). The final state is always saved as the latest
  checkpoint.

  A workdir that holds checkpoints of a different config is refused (ConfigError) unless
  ``allow_config_change``; only the keys in ``RESUMABLE_CHANGES`` may differ. SIGTERM or
  SIGINT saves a checkpoint at the end of the current chunk and raises :class:`Preempted`.

  Training runs on the device mesh of ``config.mesh`` (:mod:`jaxgen.scale.mesh`), in one
  process or in all the processes joined by :mod:`jaxgen.scale.distributed` (each calls this
  with the same arguments; only process 0 logs and writes files other than checkpoints).
  """
  writes = distributed.is_writer()
  if not writes:
    log = lambda message: None   # noqa: E731 - process 0 speaks for all
  run = build_run(config, workdir)
  if not allow_config_change:
    _refuse_changed_config(config, workdir)
  state = run.place_state(run.init_state())
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints, log=log,
                      writer=True)
  if ckpt.latest_step() is not None:
    state = ckpt.restore(state)
    log(f"resumed from the checkpoint of step {ckpt.restored_step} in {ckpt.directory}")
  distributed.set_describe(lambda: f"the latest checkpoint is step {ckpt.latest_step()} in "
                           f"{ckpt.directory}: run the same command again to resume")
  if writes:    # only once the run can go on
    write_json(os.path.join(workdir, "config.json"),
               config.to_json_best_effort(indent=2, sort_keys=True))
    write_environment(os.path.join(workdir, "environment.json"))

  chunk = chunk_length(config)
  train_chunk = run.compile_chunk(chunk)
  inputs = run.chunk_inputs()
  evaluator = run.evaluator(log)
  selector = Selector(run, workdir, log, writer=writes) if config.eval.select_on else None
  if selector is not None and selector.record is None:
    selector.scores(mesh_lib.local_copy(state))   # the metric exists, before any training
  writer = MetricsWriter(workdir, run.dataset.info, enabled=writes)
  step = int(np.max(mesh_lib.fetch(state.step)))
  pending = []          # per-chunk metrics, still on device
  devices = run.mesh.size
  desc = f"{config.model.name}:{run.dataset.name}" + (
      f" x{run.num_seeds} seeds" if run.num_seeds > 1 else "") + (
      f" on {devices} devices" if devices > 1 else "") + (
      f" in {jax.process_count()} processes" if jax.process_count() > 1 else "")
  bar = tqdm(total=config.num_steps, initial=step, disable=not (config.progress and writes),
             dynamic_ncols=True, unit="step", desc=desc)
  t_log, s_log = time.perf_counter(), step
  catcher = _SignalCatcher().install()
  distributed.barrier("jaxgen-train-start")   # every process ready before the first collective
  try:
    while step < config.num_steps:
      state, metrics = train_chunk(state, *inputs, np.int32(step))
      step += chunk
      pending.append(metrics)
      bar.update(chunk)
      if step % config.log_every == 0 or step == config.num_steps:
        stacked = mesh_lib.fetch(pending)
        pending = []
        values = {f"train/{k}": float(np.mean(np.stack([m[k] for m in stacked])))
                  for k in stacked[0]}
        if not config.skip_nonfinite:
          _check_finite(stacked, step, ckpt)
        now = time.perf_counter()
        values["train/steps_per_sec"] = (step - s_log) / max(now - t_log, 1e-9)
        t_log, s_log = now, step
        writer.scalars(step, values)
        bar.set_postfix({k: f"{values['train/' + k]:.4g}" for k in run.model.progress_metrics})
      if step % config.eval_every == 0 or step == config.num_steps:
        values = periodic_evaluation(evaluator, writer, mesh_lib.local_copy(state), run.keys,
                                     step)
        if selector is not None:
          chosen = selector.offer(step, state)
          writer.scalars(step, chosen)
          values[f"val/{selector.metric}"] = chosen[f"val/{selector.metric}"]
        if writes:
          bar.write(f"step {step}: {format_scalars(values)}")
      if step % config.checkpoint_every == 0 or step == config.num_steps:
        if not config.skip_nonfinite:     # never save a diverged state
          _check_finite(mesh_lib.fetch(pending), step, ckpt)
        ckpt.save(step, mesh_lib.for_checkpoint(state))
      if step % config.eval_every == 0 or step % config.checkpoint_every == 0:
        t_log, s_log = time.perf_counter(), step   # steps/s counts training time only
      if distributed.any_process(catcher.signum is not None):   # all stop at the same step
        if not config.skip_nonfinite:
          _check_finite(mesh_lib.fetch(pending), step, ckpt)
        ckpt.save(step, mesh_lib.for_checkpoint(state))
        raise Preempted(step, catcher.signum or signal.SIGTERM, ckpt.directory)
    ckpt.save(step, mesh_lib.for_checkpoint(state))        # the finished state is the latest checkpoint, always
  finally:
    catcher.restore()
    bar.close()
    writer.close()
    ckpt.close()

  result = final_evaluation(evaluator, mesh_lib.local_copy(state), run.keys, workdir,
                            write=writes)
  log(f"final evaluation (step {result['step']}): "
      + format_scalars({k: v for k, v in result.items() if k != 'step'}))
  if selector is not None:
    try:
      result = selected_evaluation(selector, evaluator, run, workdir, result, write=writes)
    finally:
      selector.close()
    chosen = result["selected"]
    log(f"selected step {chosen['step']} (validation {selector.metric} "
        f"{chosen['validation_' + selector.metric]:.4g}), its test numbers: "
        + format_scalars({k: v for k, v in chosen.items()
                          if k not in ("step", "select_on") and not k.startswith("validation_")}))
  distributed.finished()
  return state, result
