"""The generic training loop.

It knows nothing about any particular model: it needs ``model.init``,
``model.train_step(state, batch, key)`` and the evaluation hooks listed in
:mod:`jaxgen.models`. The training split lives on the device; ``chunk`` steps run inside
one jitted ``lax.scan`` with the state donated; per-step metrics stay on the device until
a log step. The key of step ``t`` is ``fold_in(train_key, t)``; the data order of epoch
``e`` comes from ``fold_in(data_key, e)``: a run is a pure function of (config, seed).
"""
from __future__ import annotations

import json
import math
import os
import time
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import config as config_lib
from jaxgen import models as models_lib
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import load_dataset, preprocess
from jaxgen.data import pipeline
from jaxgen.data.preprocess import static_binarize


class TrainingError(RuntimeError):
  """Training cannot go on (e.g. a non-finite loss); the message names step and quantity."""


# ----------------------------------------------------------------------------- keys
def run_keys(seed: int) -> dict[str, jax.Array]:
  """The root key of ``seed`` split by purpose (fixed constants, never reused)."""
  root = jax.random.PRNGKey(seed)
  return {name: jax.random.fold_in(root, i)
          for i, name in enumerate(("init", "train", "data", "eval"))}


# ----------------------------------------------------------------------------- the step loop
def make_train_chunk(model, config, num_train: int, chunk: int) -> Callable:
  """``fn(state, train_x, train_key, data_key) -> (state, metrics[chunk])``, not yet jitted.

  Runs ``chunk`` consecutive steps starting at ``state.step``: each reads its batch from
  the on-device ``train_x`` through the epoch permutation, preprocesses it with its own key
  and calls ``model.train_step``.
  """
  batch_size = int(config.batch_size)
  mode = config.dataset.preprocess
  spe = pipeline.steps_per_epoch(num_train, batch_size)

  def train_chunk(state, train_x, train_key, data_key):
    perm0 = pipeline.epoch_permutation(data_key, state.step // spe, num_train)

    def body(carry, _):
      state, perm = carry
      t = state.step
      perm = pipeline.next_permutation(data_key, perm, t, num_train, batch_size)
      raw = pipeline.batch_at(train_x, perm, t, batch_size)
      k_prep, k_model = jax.random.split(jax.random.fold_in(train_key, t))
      state, metrics = model.train_step(state, preprocess(raw, k_prep, mode), k_model)
      return (state, perm), metrics

    (state, _), metrics = jax.lax.scan(body, (state, perm0), None, length=chunk)
    return state, metrics

  return train_chunk


def chunk_length(config) -> int:
  """Steps per compiled call: the largest length that lands on every log, eval and
  checkpoint step and on ``num_steps``."""
  return math.gcd(config.num_steps, config.log_every, config.eval_every, config.checkpoint_every)


# ----------------------------------------------------------------------------- evaluation
def map_batches(fn: Callable, x: jax.Array, batch_size: int, key: jax.Array) -> Any:
  """Applies ``fn(x_batch, key_i) -> per-example pytree`` to all of ``x`` in fixed-size
  batches (the last one zero-padded, so ``fn`` compiles once) and concatenates the rows."""
  n = x.shape[0]
  batch_size = min(batch_size, n)
  num = -(-n // batch_size)
  pad = num * batch_size - n
  if pad:
    x = jnp.concatenate([x, jnp.zeros((pad,) + x.shape[1:], x.dtype)])
  outs = [fn(x[i * batch_size:(i + 1) * batch_size], jax.random.fold_in(key, i))
          for i in range(num)]
  return jax.tree.map(lambda *rows: jnp.concatenate(rows)[:n], *outs)


class Evaluator:
  """Test-split metrics and pictures for any model (jitted once per quantity)."""

  def __init__(self, model, config, test_x: jax.Array, key: jax.Array):
    self.model, self.config, self.test_x, self.key = model, config, test_x, key
    self._eval = jax.jit(model.eval_batch)
    self._pictures = jax.jit(model.pictures)
    self._nll = {}

  def summary(self, state) -> dict[str, float]:
    """Means over the whole test split of ``model.eval_batch``'s per-example values."""
    out = map_batches(lambda xb, k: self._eval(state, xb, k), self.test_x,
                      self.config.eval.batch_size, jax.random.fold_in(self.key, 0))
    return {k: float(jnp.mean(v)) for k, v in out.items()}

  def nll(self, state, num_samples: int) -> Optional[float]:
    """Mean importance-weighted -log p(x) over the test split (None if the model has none)."""
    if not hasattr(self.model, "nll_batch"):
      return None
    if num_samples not in self._nll:
      self._nll[num_samples] = jax.jit(
          lambda s, xb, k: self.model.nll_batch(s, xb, k, num_samples))
    fn = self._nll[num_samples]
    out = map_batches(lambda xb, k: fn(state, xb, k), self.test_x,
                      self.config.eval.batch_size, jax.random.fold_in(self.key, 1))
    return float(jnp.mean(out))

  def pictures(self, state) -> dict[str, np.ndarray]:
    n = min(self.config.eval.num_images, self.test_x.shape[0])
    pics = self._pictures(state, jax.random.fold_in(self.key, 2), self.test_x[:n])
    return {k: np.asarray(v) for k, v in pics.items()}

  def final(self, state) -> dict:
    """The numbers of ``eval.json``."""
    result = {"step": int(state.step), **self.summary(state)}
    k = int(self.config.eval.nll_samples)
    nll = self.nll(state, k)
    if nll is not None:
      result.update(nll=nll, nll_num_samples=k)
    result["num_test_examples"] = int(self.test_x.shape[0])
    return result


# ----------------------------------------------------------------------------- outputs
class MetricsWriter:
  """``metrics.jsonl`` (one JSON object per line) plus TensorBoard scalars and images."""

  def __init__(self, workdir: str):
    from tensorboardX import SummaryWriter
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.samples_dir = os.path.join(workdir, "samples")
    self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))

  def scalars(self, step: int, values: dict[str, float]) -> None:
    with open(self.path, "a") as f:
      f.write(json.dumps({"step": step, **values}) + "\n")
    for k, v in values.items():
      self.tb.add_scalar(k, v, step)

  def images(self, step: int, pictures: dict[str, np.ndarray]) -> None:
    from jaxgen.plotting import save_image_grid
    for name, imgs in pictures.items():
      grid = save_image_grid(os.path.join(self.samples_dir, f"{name}_{step:07d}.png"), imgs)
      self.tb.add_image(name, grid, step, dataformats="HWC")

  def close(self):
    self.tb.close()


# ----------------------------------------------------------------------------- setup
def prepare(config, workdir: Optional[str] = None):
  """Validates the config, loads the data and builds the model: everything before compiling."""
  config_lib.validate(config)
  dataset = load_dataset(config.dataset)
  config_lib.validate_against_data(config, dataset)
  if workdir is not None:
    try:
      os.makedirs(workdir, exist_ok=True)
      probe = os.path.join(workdir, ".write_test")
      with open(probe, "w") as f:
        f.write("ok")
      os.remove(probe)
    except OSError as e:
      raise config_lib.ConfigError(f"workdir {workdir!r} is not writable ({e.strerror}); "
                                   f"pass --workdir with a directory you can write") from e
  model = models_lib.build(config, dataset)
  return dataset, model


def device_splits(config, dataset, keys):
  """Training split (raw, on device) and the preprocessed test split (on device)."""
  train = dataset.train
  if config.dataset.preprocess == "static_binarize":
    train = static_binarize(train, config.seed)
  train_x = jax.device_put(train)
  test_x = preprocess(jnp.asarray(dataset.test), keys["eval"], config.dataset.eval_preprocess)
  return train_x, test_x


def _fmt(values: dict[str, float]) -> str:
  return " ".join(f"{k}={v:.4g}" for k, v in values.items())


# ----------------------------------------------------------------------------- entry points
def train(config, workdir: str, log: Callable[[str], None] = print) -> tuple[Any, dict]:
  """Trains ``config`` in ``workdir`` (resuming from its latest checkpoint if any).

  Returns the final state and the final evaluation (also written to ``workdir/eval.json``).
  """
  from tqdm import tqdm
  dataset, model = prepare(config, workdir)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    f.write(config.to_json_best_effort(indent=2, sort_keys=True))
  keys = run_keys(config.seed)
  train_x, test_x = device_splits(config, dataset, keys)

  state = model.init(keys["init"])
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints)
  if ckpt.latest_step() is not None:
    state = ckpt.restore(state)
    log(f"resumed from the checkpoint of step {int(state.step)} in {ckpt.directory}")

  chunk = chunk_length(config)
  train_chunk = jax.jit(make_train_chunk(model, config, train_x.shape[0], chunk),
                        donate_argnums=0)
  evaluator = Evaluator(model, config, test_x, keys["eval"])
  writer = MetricsWriter(workdir)
  step = int(state.step)
  pending = []          # per-chunk metrics, still on device
  bar = tqdm(total=config.num_steps, initial=step, disable=not config.progress,
             dynamic_ncols=True, unit="step", desc=f"{config.model.name}:{dataset.name}")
  t_log, s_log = time.perf_counter(), step
  try:
    while step < config.num_steps:
      state, metrics = train_chunk(state, train_x, keys["train"], keys["data"])
      step += chunk
      pending.append(metrics)
      bar.update(chunk)
      if step % config.log_every == 0 or step == config.num_steps:
        stacked = jax.device_get(pending)
        pending = []
        values = {f"train/{k}": float(np.mean(np.concatenate([m[k] for m in stacked])))
                  for k in stacked[0]}
        bad = [k for k, v in values.items() if not np.isfinite(v)]
        if bad:
          raise TrainingError(f"non-finite {bad[0]} at step {step}; the last good checkpoint "
                              f"(step {ckpt.latest_step()}) is kept: lower "
                              f"--config.learning_rate and rerun")
        now = time.perf_counter()
        values["train/steps_per_sec"] = (step - s_log) / max(now - t_log, 1e-9)
        t_log, s_log = now, step
        writer.scalars(step, values)
        bar.set_postfix(loss=f"{values['train/loss']:.4g}")
      if step % config.eval_every == 0 or step == config.num_steps:
        values = {f"eval/{k}": v for k, v in evaluator.summary(state).items()}
        k = config.eval.nll_samples_during_training
        if k:
          nll = evaluator.nll(state, k)
          if nll is not None:
            values["eval/nll"] = nll
        writer.scalars(step, values)
        writer.images(step, evaluator.pictures(state))
        bar.write(f"step {step}: {_fmt(values)}")
      if step % config.checkpoint_every == 0 or step == config.num_steps:
        ckpt.save(step, state)
  finally:
    bar.close()
    writer.close()
    ckpt.close()

  result = evaluator.final(state)
  with open(os.path.join(workdir, "eval.json"), "w") as f:
    json.dump(result, f, indent=2)
  log(f"final evaluation (step {result['step']}): "
      + _fmt({k: v for k, v in result.items() if k != 'step'}))
  return state, result


def evaluate(config, workdir: str, log: Callable[[str], None] = print) -> dict:
  """Restores the latest checkpoint in ``workdir`` and writes ``workdir/eval.json``."""
  dataset, model = prepare(config, workdir)
  keys = run_keys(config.seed)
  _, test_x = device_splits(config, dataset, keys)
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints)
  if ckpt.latest_step() is None:
    raise config_lib.ConfigError(f"no checkpoint in {ckpt.directory}: train first with "
                                 f"--mode train and the same --workdir")
  state = ckpt.restore(model.init(keys["init"]))
  ckpt.close()
  result = Evaluator(model, config, test_x, keys["eval"]).final(state)
  with open(os.path.join(workdir, "eval.json"), "w") as f:
    json.dump(result, f, indent=2)
  log(f"evaluation of step {result['step']}: "
      + _fmt({k: v for k, v in result.items() if k != 'step'}))
  return result
