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
import signal
import sys
import threading
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
# (num_steps only while the learning rate is constant: a decay schedule spans num_steps).
RESUMABLE_CHANGES = ("num_steps", "progress", "keep_checkpoints", "num_samples")


def config_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
  """'key: old -> new' for every differing leaf of two config dicts (JSON form)."""
  free = set(RESUMABLE_CHANGES)
  if any(c.get("lr_schedule", "constant") != "constant" for c in (old, new)):
    free.discard("num_steps")
  out = []
  for k in sorted(set(old) | set(new)):
    a, b = old.get(k, "<missing>"), new.get(k, "<missing>")
    if isinstance(a, dict) and isinstance(b, dict):
      out += config_differences(a, b, f"{prefix}{k}.")
    elif a != b and f"{prefix}{k}" not in free:
      out.append(f"{prefix}{k}: {a!r} -> {b!r}")
  return out


# ----------------------------------------------------------------------------- keys
def run_keys(seed: int) -> dict[str, jax.Array]:
  """The root key of ``seed`` split by purpose (fixed constants, never reused)."""
  root = jax.random.PRNGKey(seed)
  return {name: jax.random.fold_in(root, i)
          for i, name in enumerate(("init", "train", "data", "eval"))}


# ----------------------------------------------------------------------------- the step loop
def make_train_chunk(model, config, num_train: int, chunk: int) -> Callable:
  """``fn(state, train_x, train_key, data_key, start) -> (state, metrics[chunk])``, not jitted.

  Runs ``chunk`` consecutive steps ``start, start + 1, ...`` (``start`` must equal
  ``state.step``): each reads its batch from the on-device ``train_x`` through the epoch
  permutation, preprocesses it with its own key and calls ``model.train_step``. ``start``
  is a separate scalar so that under ``jax.vmap`` over seeds the step counter stays
  unbatched and the epoch permutation is computed only at epoch boundaries.
  """
  batch_size = int(config.batch_size)
  mode = config.dataset.preprocess
  spe = pipeline.steps_per_epoch(num_train, batch_size)

  def train_chunk(state, train_x, train_key, data_key, start):
    perm0 = pipeline.epoch_permutation(data_key, start // spe, num_train)

    def body(carry, t):
      state, perm = carry
      perm = pipeline.next_permutation(data_key, perm, t, num_train, batch_size)
      raw = pipeline.batch_at(train_x, perm, t, batch_size)
      k_prep, k_model = jax.random.split(jax.random.fold_in(train_key, t))
      state, metrics = model.train_step(state, preprocess(raw, k_prep, mode), k_model)
      return (state, perm), metrics

    steps = start + jnp.arange(chunk, dtype=jnp.int32)
    (state, _), metrics = jax.lax.scan(body, (state, perm0), steps)
    return state, metrics

  return train_chunk


def over_seeds(train_chunk: Callable, how: str) -> Callable:
  """Runs ``train_chunk`` for states stacked along a leading seed axis, in one program.

  ``vmap`` batches the seeds (``jax.vmap`` over the whole state): fastest on accelerators,
  and each seed's result is the same for any number of seeds >= 2, but XLA's batched
  kernels round differently from the unbatched ones, so a seed differs in the last bits
  from its single-seed run (and chaotic GAN dynamics then amplify that). ``map`` runs the
  unbatched step for each seed in turn (``lax.map``) inside the same compiled call: every
  seed is bit-identical to its single-seed run, at about the same speed on CPU.
  """
  if how == "vmap":
    return jax.vmap(train_chunk, in_axes=(0, None, 0, 0, None))

  def mapped(state, train_x, train_key, data_key, start):
    return jax.lax.map(lambda a: train_chunk(a[0], train_x, a[1], a[2], start),
                       (state, train_key, data_key))
  return mapped


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
  """Test-split metrics and pictures for any model (jitted once per quantity).

  ``key`` is the evaluation key of one seed; with several seeds, pass each seed's state
  and key to the methods (``key=None`` uses the one given here).
  """

  def __init__(self, model, config, test_x: jax.Array, key: jax.Array):
    self.model, self.config, self.test_x, self.key = model, config, test_x, key
    self._eval = jax.jit(model.eval_batch)
    self._pictures = jax.jit(model.pictures)
    self._nll = {}

  def summary(self, state, key: Optional[jax.Array] = None) -> dict[str, float]:
    """Means over the whole test split of ``model.eval_batch``'s per-example values, plus
    the model's sample metrics (e.g. mode coverage) where it has them."""
    key = self.key if key is None else key
    out = map_batches(lambda xb, k: self._eval(state, xb, k), self.test_x,
                      self.config.eval.batch_size, jax.random.fold_in(key, 0))
    result = {k: float(jnp.mean(v)) for k, v in out.items()}
    if hasattr(self.model, "sample_metrics"):
      result.update(self.model.sample_metrics(state, jax.random.fold_in(key, 3)))
    return result

  def nll(self, state, num_samples: int, key: Optional[jax.Array] = None) -> Optional[float]:
    """Mean importance-weighted -log p(x) over the test split (None if the model has none)."""
    if not hasattr(self.model, "nll_batch"):
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
    n = min(self.config.eval.num_images, self.test_x.shape[0])
    pics = self._pictures(state, jax.random.fold_in(key, 2), self.test_x[:n])
    return {k: np.asarray(v) for k, v in pics.items()}

  def periodic(self, state, key: Optional[jax.Array] = None) -> dict[str, float]:
    """What is logged at each evaluation step."""
    values = self.summary(state, key)
    k = self.config.eval.nll_samples_during_training
    if k and hasattr(self.model, "nll_batch"):
      values["nll"] = self.nll(state, k, key)
    return values

  def final(self, state, key: Optional[jax.Array] = None) -> dict:
    """The numbers of ``eval.json``."""
    result = {"step": int(state.step), **self.summary(state, key)}
    k = int(self.config.eval.nll_samples)
    nll = self.nll(state, k, key)
    if nll is not None:
      result.update(nll=nll, nll_num_samples=k)
    result["num_test_examples"] = int(self.test_x.shape[0])
    return result


def seed_slice(tree, i: int):
  """Seed ``i`` of a state stacked over seeds."""
  return jax.tree.map(lambda a: a[i], tree)


def across_seeds(per_seed: list[dict]) -> dict:
  """Mean and (population) std over seeds of every numeric entry; keeps the per-seed rows."""
  if len(per_seed) == 1:
    return dict(per_seed[0])
  out = {}
  for k, v in per_seed[0].items():
    if isinstance(v, (int, float)) and k not in ("step", "num_test_examples", "nll_num_samples"):
      vals = np.array([row[k] for row in per_seed], np.float64)
      with np.errstate(invalid="ignore"):      # inf entries (e.g. reverse KL with no modes hit)
        out[k] = float(vals.mean())
        out[f"{k}_std"] = float(vals.std()) if np.all(np.isfinite(vals)) else float("nan")
    else:
      out[k] = v
  out["num_seeds"] = len(per_seed)
  out["per_seed"] = per_seed
  return out


# ----------------------------------------------------------------------------- outputs
class MetricsWriter:
  """``metrics.jsonl`` (one JSON object per line) plus TensorBoard scalars and images."""

  def __init__(self, workdir: str, data_info: Optional[dict] = None):
    from tensorboardX import SummaryWriter
    self.path = os.path.join(workdir, "metrics.jsonl")
    self.samples_dir = os.path.join(workdir, "samples")
    self.info = data_info or {}
    self.tb = SummaryWriter(os.path.join(workdir, "tensorboard"))

  def scalars(self, step: int, values: dict[str, float]) -> None:
    with open(self.path, "a") as f:
      f.write(json.dumps({"step": step, **values}) + "\n")
    for k, v in values.items():
      self.tb.add_scalar(k, v, step)

  def images(self, step: int, pictures: dict[str, np.ndarray]) -> None:
    for name, imgs in pictures.items():
      path = os.path.join(self.samples_dir, f"{name}_{step:07d}.png")
      grid = save_picture(path, imgs, self.info, title=f"{name}, step {step}")
      self.tb.add_image(name, grid, step, dataformats="HWC")

  def close(self):
    self.tb.close()


def save_picture(path: str, data: np.ndarray, info: dict, title: str = "") -> np.ndarray:
  """Images [N, H, W, C] in [0, 1] become a grid PNG; 2-D points [N, 2] a scatter plot
  over the true modes (where ``info`` has them). Returns the picture as [H, W, C]."""
  from jaxgen.plotting import save_image_grid
  data = np.asarray(data)
  if data.ndim == 2 and data.shape[1] == 2:
    import matplotlib.pyplot as plt
    from jaxgen.evaluation.mode_collapse import scatter_plot
    scatter_plot(path, data, info.get("modes", np.zeros((0, 2))), info.get("std", 0.0), title)
    return plt.imread(path)[..., :3]
  # A diverging model may emit NaN/Inf pixels: draw them black/white instead of failing.
  data = np.clip(np.nan_to_num(data.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0), 0, 1)
  return save_image_grid(path, data)


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


def seed_keys(config) -> list[dict[str, jax.Array]]:
  """The keys of seeds ``config.seed``, ..., ``config.seed + num_seeds - 1``."""
  return [run_keys(config.seed + i) for i in range(config.num_seeds)]


def init_state(model, config, keys: list[dict]):
  """One state, or (num_seeds > 1) states stacked along a leading seed axis."""
  if len(keys) == 1:
    return model.init(keys[0]["init"])
  return jax.vmap(model.init)(jnp.stack([k["init"] for k in keys]))


def stack_keys(keys: list[dict], name: str) -> jax.Array:
  """The ``name`` keys of all seeds, stacked along a seed axis (the key itself for one seed)."""
  return keys[0][name] if len(keys) == 1 else jnp.stack([k[name] for k in keys])


def compile_train_chunk(model, config, num_train: int, num_seeds: int, chunk: int) -> Callable:
  """The jitted training chunk as :func:`train` runs it: :func:`make_train_chunk`, over
  the seeds (:func:`over_seeds`) when ``num_seeds`` > 1, with the state donated."""
  fn = make_train_chunk(model, config, num_train, chunk)
  if num_seeds > 1:
    fn = over_seeds(fn, config.seed_batching)
  return jax.jit(fn, donate_argnums=0)


def format_scalars(values: dict[str, float]) -> str:
  """``k=v k=v ...`` of the numeric entries, 4 significant digits (the log lines)."""
  return " ".join(f"{k}={v:.4g}" for k, v in values.items() if isinstance(v, (int, float)))


def evaluate_seeds(evaluator, state, keys, method: str) -> list[dict]:
  """``evaluator.<method>`` (``periodic`` or ``final``) of each seed of ``state`` (stacked
  over seeds when ``keys`` holds several), with that seed's evaluation key."""
  if len(keys) == 1:
    return [getattr(evaluator, method)(state, keys[0]["eval"])]
  return [getattr(evaluator, method)(seed_slice(state, i), k["eval"]) for i, k in enumerate(keys)]


def periodic_evaluation(evaluator, writer, state, keys, step: int) -> dict[str, float]:
  """The evaluation logged during training: ``eval/*`` scalars (mean and std over seeds)
  and the pictures of the first seed, written by ``writer``; returns the scalars."""
  evals = across_seeds(evaluate_seeds(evaluator, state, keys, "periodic"))
  values = {f"eval/{k}": v for k, v in evals.items() if isinstance(v, (int, float))}
  writer.scalars(step, values)
  writer.images(step, evaluator.pictures(state if len(keys) == 1 else seed_slice(state, 0),
                                         keys[0]["eval"]))
  return values


def final_evaluation(evaluator, state, keys, directory: str) -> dict:
  """``evaluator.final`` over the seeds (:func:`across_seeds`), written to
  ``directory/eval.json`` and returned."""
  result = across_seeds(evaluate_seeds(evaluator, state, keys, "final"))
  with open(os.path.join(directory, "eval.json"), "w") as f:
    json.dump(result, f, indent=2)
  return result


def saved_config_differences(config_path: str, config) -> list[str]:
  """:func:`config_differences` between the config saved at ``config_path`` and ``config``."""
  with open(config_path) as f:
    return config_differences(json.load(f), json.loads(config.to_json_best_effort()))


# ----------------------------------------------------------------------------- entry points
def train(config, workdir: str, log: Callable[[str], None] = print,
          allow_config_change: bool = False) -> tuple[Any, dict]:
  """Trains ``config`` in ``workdir`` (resuming from its latest readable checkpoint if any).

  With ``config.num_seeds`` = N > 1, seeds seed..seed+N-1 train in one program (see
  :func:`over_seeds`). Returns the final state and the final evaluation (also written to
  ``workdir/eval.json``).

  A workdir that holds checkpoints of a different config is refused (ConfigError) unless
  ``allow_config_change``; only the keys in ``RESUMABLE_CHANGES`` may differ. SIGTERM or
  SIGINT saves a checkpoint at the end of the current chunk and raises :class:`Preempted`.
  """
  from tqdm import tqdm
  dataset, model = prepare(config, workdir)
  config_path = os.path.join(workdir, "config.json")
  ckpt_dir = os.path.join(workdir, "checkpoints")
  has_checkpoints = os.path.isdir(ckpt_dir) and any(n.isdigit() for n in os.listdir(ckpt_dir))
  if has_checkpoints and os.path.exists(config_path) and not allow_config_change:
    diffs = saved_config_differences(config_path, config)
    if diffs:
      raise config_lib.ConfigError(
          f"workdir {workdir!r} holds checkpoints of a different config ({'; '.join(diffs[:3])}"
          f"{'; ...' if len(diffs) > 3 else ''}); use another --workdir, or pass "
          f"--allow_config_change to resume anyway")
  keys = seed_keys(config)
  train_x, test_x = device_splits(config, dataset, keys[0])

  state = init_state(model, config, keys)
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints, log=log,
                    cleanup=True)
  if ckpt.latest_step() is not None:
    state = ckpt.restore(state)
    log(f"resumed from the checkpoint of step {int(np.max(state.step))} in {ckpt.directory}")
  with open(config_path + ".tmp", "w") as f:      # only once the run can go on
    f.write(config.to_json_best_effort(indent=2, sort_keys=True))
  os.replace(config_path + ".tmp", config_path)
  write_environment(os.path.join(workdir, "environment.json"))

  chunk = chunk_length(config)
  train_chunk = compile_train_chunk(model, config, train_x.shape[0], len(keys), chunk)
  train_key, data_key = stack_keys(keys, "train"), stack_keys(keys, "data")
  evaluator = Evaluator(model, config, test_x, keys[0]["eval"])
  writer = MetricsWriter(workdir, dataset.info)
  step = int(np.max(state.step))
  pending = []          # per-chunk metrics, still on device
  desc = f"{config.model.name}:{dataset.name}" + (f" x{len(keys)} seeds" if len(keys) > 1 else "")
  bar = tqdm(total=config.num_steps, initial=step, disable=not config.progress,
             dynamic_ncols=True, unit="step", desc=desc)
  t_log, s_log = time.perf_counter(), step
  catcher = _SignalCatcher().install()
  try:
    while step < config.num_steps:
      state, metrics = train_chunk(state, train_x, train_key, data_key, jnp.int32(step))
      step += chunk
      pending.append(metrics)
      bar.update(chunk)
      if step % config.log_every == 0 or step == config.num_steps:
        stacked = jax.device_get(pending)
        pending = []
        values = {f"train/{k}": float(np.mean(np.stack([m[k] for m in stacked])))
                  for k in stacked[0]}
        if not config.skip_nonfinite:
          _check_finite(stacked, step, ckpt)
        now = time.perf_counter()
        values["train/steps_per_sec"] = (step - s_log) / max(now - t_log, 1e-9)
        t_log, s_log = now, step
        writer.scalars(step, values)
        shown = [k for k in ("loss", "d_loss", "g_loss") if f"train/{k}" in values]
        bar.set_postfix({k: f"{values['train/' + k]:.4g}" for k in shown})
      if step % config.eval_every == 0 or step == config.num_steps:
        values = periodic_evaluation(evaluator, writer, state, keys, step)
        bar.write(f"step {step}: {format_scalars(values)}")
      if step % config.checkpoint_every == 0 or step == config.num_steps:
        if not config.skip_nonfinite:     # never save a diverged state
          _check_finite(jax.device_get(pending), step, ckpt)
        ckpt.save(step, state)
      if step % config.eval_every == 0 or step % config.checkpoint_every == 0:
        t_log, s_log = time.perf_counter(), step   # steps/s counts training time only
      if catcher.signum is not None:
        if not config.skip_nonfinite:
          _check_finite(jax.device_get(pending), step, ckpt)
        ckpt.save(step, state)
        raise Preempted(step, catcher.signum, ckpt.directory)
  finally:
    catcher.restore()
    bar.close()
    writer.close()
    ckpt.close()

  result = final_evaluation(evaluator, state, keys, workdir)
  log(f"final evaluation (step {result['step']}): "
      + format_scalars({k: v for k, v in result.items() if k != 'step'}))
  return state, result


def environment() -> dict:
  """What a bit-for-bit result depends on besides (config, seed): package versions, the
  backend and its devices, and the XLA flags in force."""
  import importlib.metadata as md
  versions = {}
  for pkg in ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "numpy"):
    try:
      versions[pkg] = md.version(pkg)
    except md.PackageNotFoundError:
      versions[pkg] = None
  devices = jax.devices()
  return {"versions": versions, "python": sys.version.split()[0], "backend": jax.default_backend(),
          "devices": [d.device_kind for d in devices], "device_count": len(devices),
          "xla_flags": os.environ.get("XLA_FLAGS", ""),
          "gpu_deterministic_ops": "--xla_gpu_deterministic_ops=true" in os.environ.get("XLA_FLAGS", "")}


def write_environment(path: str) -> None:
  """Writes :func:`environment` as JSON to ``path`` (replaced atomically)."""
  with open(path + ".tmp", "w") as f:
    json.dump(environment(), f, indent=2, sort_keys=True)
  os.replace(path + ".tmp", path)


def _check_finite(chunks: list, step: int, ckpt: Checkpointer) -> None:
  """Raises TrainingError naming the first non-finite metric in per-step ``chunks``."""
  for m in chunks:
    for k, v in m.items():
      v = np.asarray(v)
      if not np.all(np.isfinite(v)):
        raise TrainingError(f"non-finite train/{k} by step {step}; "
                            f"the last good checkpoint (step {ckpt.latest_step()}) stays the "
                            f"latest: lower --config.learning_rate and rerun")


def _restore(config, workdir: str):
  dataset, model = prepare(config, workdir)
  keys = seed_keys(config)
  ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), config.keep_checkpoints)
  if ckpt.latest_step() is None:
    raise config_lib.ConfigError(f"no checkpoint in {ckpt.directory}: train first with "
                                 f"--mode train and the same --workdir")
  state = ckpt.restore(init_state(model, config, keys))
  ckpt.close()
  return dataset, model, keys, state


def evaluate(config, workdir: str, log: Callable[[str], None] = print) -> dict:
  """Restores the latest checkpoint in ``workdir`` and writes ``workdir/eval.json``."""
  dataset, model, keys, state = _restore(config, workdir)
  _, test_x = device_splits(config, dataset, keys[0])
  evaluator = Evaluator(model, config, test_x, keys[0]["eval"])
  result = final_evaluation(evaluator, state, keys, workdir)
  log(f"evaluation of step {result['step']}: "
      + format_scalars({k: v for k, v in result.items() if k != 'step'}))
  return result


def sample(config, workdir: str, log: Callable[[str], None] = print) -> np.ndarray:
  """Restores the latest checkpoint and writes ``config.num_samples`` samples (of the first
  seed) to ``workdir/samples.npy`` plus a picture ``workdir/samples.png``."""
  dataset, model, keys, state = _restore(config, workdir)
  if len(keys) > 1:
    state = seed_slice(state, 0)
  key = jax.random.fold_in(keys[0]["eval"], 4)
  out = np.asarray(jax.jit(model.generate, static_argnums=2)(state, key, config.num_samples))
  np.save(os.path.join(workdir, "samples.npy"), out)
  save_picture(os.path.join(workdir, "samples.png"),
               out if out.ndim == 2 else out[:config.eval.num_images], dataset.info,
               title=f"{config.model.name} samples, step {int(state.step)}")
  log(f"wrote {out.shape[0]} samples of shape {out.shape[1:]} to "
      f"{os.path.join(workdir, 'samples.npy')} and a picture to samples.png")
  return out
