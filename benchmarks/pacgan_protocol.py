"""PacGAN's 2-D protocol for ring and grid in one compiled program (for the GPU machine).

    python benchmarks/pacgan_protocol.py --workdir runs/pacgan_gan
    python benchmarks/pacgan_protocol.py --workdir runs/pacgan_mbd \
        --set gan.minibatch=discrimination
    python benchmarks/pacgan_protocol.py --workdir W --set num_steps=2000 --time_limit 500 \\
        gan_ring_pacgan gan_grid_pacgan          # the default configs, named explicitly

``train.py --config configs/gan_ring_pacgan.py`` and ``.../gan_grid_pacgan.py`` train the
same networks on different data: two programs whose many small kernels take turns on one
GPU. This trains both in one program: the runs of all datasets and seeds side by side on
one ``jax.vmap`` axis (as ``config.num_seeds`` stacks seeds, each run reading its own
dataset), so each kernel does twice the work for the same launch. Each (dataset, seed)
runs exactly the trainer's step (``trainer.make_train_chunk``) with the keys train.py gives
that seed; on the CPU its result is bit-identical to the train.py run with
``seed_batching=vmap`` (tests/test_pacgan_protocol.py). The configs may differ only in
``dataset.*``.

Writes per dataset, as train.py does, ``WORKDIR/<dataset>/{config.json, metrics.jsonl,
samples/, eval.json}``; the stacked state is checkpointed in ``WORKDIR/checkpoints`` every
``checkpoint_every`` steps and when ``--time_limit`` (seconds) would be passed, and a second
call with the same arguments resumes from it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks.gan_throughput import load, override  # noqa: E402
from jaxgen import config as config_lib  # noqa: E402
from jaxgen import trainer  # noqa: E402
from jaxgen.checkpoint import Checkpointer  # noqa: E402


def _without_dataset(config) -> dict:
  d = config.to_dict()
  d.pop("dataset")
  return d


class Protocol:
  """Configs that differ only in their dataset; their runs (dataset-major, then seed) are
  stacked along one leading axis."""

  def __init__(self, configs: list):
    if len(configs) < 2:
      raise config_lib.ConfigError("give at least two configs, e.g. gan_ring_pacgan "
                                   "gan_grid_pacgan")
    for c in configs[1:]:
      if _without_dataset(c) != _without_dataset(configs[0]):
        diffs = trainer.config_differences(_without_dataset(configs[0]), _without_dataset(c))
        raise config_lib.ConfigError(
            f"the configs may differ only in dataset.*, but {c.dataset.name!r} also differs in "
            f"{'; '.join(diffs[:3])}; pass the same --set overrides to all")
    names = [c.dataset.name for c in configs]
    if len(set(names)) != len(names):
      raise config_lib.ConfigError(f"each config needs its own dataset, not {names}")
    self.configs = configs
    self.config = configs[0]
    self.datasets, self.models, self.keys, self.train_x, self.test_x = [], [], [], [], []
    for c in configs:
      dataset, model = trainer.prepare(c)
      keys = trainer.seed_keys(c)
      train_x, test_x = trainer.device_splits(c, dataset, keys[0])
      self.datasets.append(dataset)
      self.models.append(model)
      self.keys.append(keys)
      self.train_x.append(train_x)
      self.test_x.append(test_x)
    shapes = {x.shape for x in self.train_x}
    if len(shapes) != 1:
      raise config_lib.ConfigError(f"the training splits must have one shape to be stacked, not "
                                   f"{sorted(shapes)}")
    self.num_train = self.train_x[0].shape[0]
    self.num_seeds = len(self.keys[0])
    if self.num_seeds < 2:
      raise config_lib.ConfigError("set num_seeds >= 2 (the protocol's tables use 10)")

  def init(self):
    """The state of all runs at step 0, stacked [dataset * seed, ...]."""
    return _concat([trainer.init_state(m, c, k) for m, c, k in
                    zip(self.models, self.configs, self.keys)])

  def stacked_keys(self, name: str) -> jax.Array:
    return jnp.concatenate([trainer.stack_keys(k, name) for k in self.keys])

  def stacked_train_x(self) -> jax.Array:
    """Each run's training split, [dataset * seed, num_train, ...] (a copy per seed)."""
    return jnp.concatenate([jnp.broadcast_to(x, (self.num_seeds, *x.shape)) for x in self.train_x])

  def compile(self, chunk: int):
    """``fn(state, train_x, train_key, data_key, start)`` over all runs, jitted."""
    fn = trainer.make_train_chunk(self.models[0], self.config, self.num_train, chunk)
    return jax.jit(jax.vmap(fn, in_axes=(0, 0, 0, 0, None)), donate_argnums=0)

  def dataset_state(self, state, d: int):
    """The runs of dataset ``d`` (stacked over seeds), as train.py holds them."""
    s = self.num_seeds
    return jax.tree.map(lambda a: a[d * s:(d + 1) * s], state)


def _concat(trees: list):
  return jax.tree.map(lambda *a: jnp.concatenate(a), *trees)


def run(protocol: Protocol, workdir: str, time_limit: float = float("inf"),
        log=print) -> tuple[Any, dict]:
  """Trains (or resumes) all runs to ``num_steps``. Returns the stacked state and
  {dataset: eval.json contents} (empty if stopped by ``time_limit``)."""
  t_start = time.perf_counter()
  config = protocol.config
  names = [c.dataset.name for c in protocol.configs]
  dirs = [os.path.join(workdir, n) for n in names]
  ckpt_dir = os.path.join(workdir, "checkpoints")
  for c, d in zip(protocol.configs, dirs):
    path = os.path.join(d, "config.json")
    if os.path.isdir(ckpt_dir) and os.path.exists(path):
      diffs = trainer.saved_config_differences(path, c)
      if diffs:
        raise config_lib.ConfigError(
            f"workdir {workdir!r} holds checkpoints of a different config "
            f"({'; '.join(diffs[:3])}); use another --workdir")
  for c, d in zip(protocol.configs, dirs):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
      f.write(c.to_json_best_effort(indent=2, sort_keys=True))
  trainer.write_environment(os.path.join(workdir, "environment.json"))
  state = protocol.init()
  ckpt = Checkpointer(ckpt_dir, config.keep_checkpoints, log=log,
                      cleanup=True)
  if ckpt.latest_step() is not None:
    state = ckpt.restore(state)
    log(f"resumed from the checkpoint of step {int(np.max(state.step))}")
  chunk = trainer.chunk_length(config)
  fn = protocol.compile(chunk)
  train_x = protocol.stacked_train_x()
  train_key, data_key = protocol.stacked_keys("train"), protocol.stacked_keys("data")
  evaluators = [trainer.Evaluator(m, c, x, k[0]["eval"]) for m, c, x, k in
                zip(protocol.models, protocol.configs, protocol.test_x, protocol.keys)]
  writers = [trainer.MetricsWriter(d, ds.info) for d, ds in zip(dirs, protocol.datasets)]
  step = int(np.max(state.step))
  pending, t_log, s_log, chunk_seconds, calls = [], time.perf_counter(), step, 0.0, 0
  log(f"{' + '.join(names)}: {protocol.num_seeds} seeds each, steps {step} -> {config.num_steps},"
      f" {chunk} per call")
  try:
    while step < config.num_steps:
      if time.perf_counter() - t_start + 1.5 * chunk_seconds > time_limit:
        ckpt.save(step, state)
        log(f"time limit: stopped at step {step} of {config.num_steps} (checkpoint saved); "
            f"run the same command again to go on")
        return state, {}
      t0 = time.perf_counter()
      state, metrics = fn(state, train_x, train_key, data_key, jnp.int32(step))
      pending.append(metrics)
      step += chunk
      if step % config.log_every == 0 or step == config.num_steps:
        stacked = jax.device_get(pending)          # each [dataset * seed, chunk]
        pending = []
        now = time.perf_counter()
        rate = (step - s_log) / max(now - t_log, 1e-9)
        t_log, s_log = now, step
        s = protocol.num_seeds
        for d, w in enumerate(writers):
          w.scalars(step, {**{f"train/{k}": float(np.mean(np.stack([m[k][d * s:(d + 1) * s]
                                                                     for m in stacked])))
                              for k in stacked[0]}, "train/steps_per_sec": rate})
        log(f"step {step}: {rate:.0f} steps/s (all {len(names)} x {protocol.num_seeds} runs)")
      if calls:                                      # the first call also compiled
        chunk_seconds = max(chunk_seconds, time.perf_counter() - t0)
      calls += 1
      if step % config.eval_every == 0 or step == config.num_steps:
        for d, (ev, w, keys) in enumerate(zip(evaluators, writers, protocol.keys)):
          values = trainer.periodic_evaluation(ev, w, protocol.dataset_state(state, d), keys, step)
          log(f"step {step} {names[d]}: {trainer.format_scalars(values)}")
      if step % config.checkpoint_every == 0 or step == config.num_steps:
        ckpt.save(step, state)
      if step % config.eval_every == 0 or step % config.checkpoint_every == 0:
        t_log, s_log = time.perf_counter(), step
  finally:
    for w in writers:
      w.close()
    ckpt.close()
  results = {}
  for d, (ev, keys) in enumerate(zip(evaluators, protocol.keys)):
    result = trainer.final_evaluation(ev, protocol.dataset_state(state, d), keys, dirs[d])
    log(f"final {names[d]} (step {result['step']}): "
        + trainer.format_scalars({k: v for k, v in result.items() if k != "step"}))
    results[names[d]] = result
  return state, results


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("configs", nargs="*", default=["gan_ring_pacgan", "gan_grid_pacgan"],
                      help="config names in configs/ (default: gan_ring_pacgan gan_grid_pacgan)")
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override for every config, e.g. gan.minibatch=discrimination")
  parser.add_argument("--time_limit", type=float, default=float("inf"),
                      help="seconds; checkpoint and stop before passing it")
  args = parser.parse_args(argv)
  try:
    configs = [load(name) for name in args.configs]
    for c in configs:
      for item in args.set:
        override(c, item)
    protocol = Protocol(configs)
  except (config_lib.ConfigError, KeyError, AttributeError, ValueError, ModuleNotFoundError) as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)
  try:
    run(protocol, args.workdir, args.time_limit)
  except config_lib.ConfigError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
  main()
