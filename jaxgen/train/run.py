"""A run: a config with its dataset, model, keys and device-resident splits; and the
entry points that use a trained one (:func:`evaluate`, :func:`sample`).

:func:`build_run` is everything before the first compilation (validation first, so bad
input fails in one line before anything loads or compiles). The training loop
(:func:`jaxgen.train.loop.train`) and the benchmarks start from it, so they time and run
the same compiled program.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import config as config_lib
from jaxgen import models as models_lib
from jaxgen.checkpoint import Checkpointer
from jaxgen.data import Dataset, load_dataset
from jaxgen.data.pipeline import num_rows
from jaxgen.data.preprocess import deterministic, preprocess_batch
from jaxgen.evaluation import sample_quality
from jaxgen.models.interface import GenerativeModel
from jaxgen.train import mesh as mesh_lib
from jaxgen.train import steps
from jaxgen.train.evaluator import Evaluator, final_evaluation, map_batches
from jaxgen.train.outputs import format_scalars, save_picture, write_json
from jaxgen.uses import density


DEFAULT_COMPILATION_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "jaxgen", "xla")


def use_compilation_cache(directory: str | None = DEFAULT_COMPILATION_CACHE) -> bool:
  """Keeps XLA's compiled programs in ``directory`` (JAX's persistent compilation cache),
  so that a later process with the same config, shapes and versions loads them instead of
  compiling: ``vae_mnist``'s first step comes about 7 s sooner on a 2-core CPU. The loaded
  program is the one compiled before, so results stay bit-identical. ``None`` or '' leaves
  JAX's setting alone. Returns whether the cache is on (False if ``directory`` cannot be
  created). ``train.py`` calls this (``--compilation_cache``)."""
  if not directory:
    return False
  try:
    os.makedirs(directory, exist_ok=True)
  except OSError:
    return False
  jax.config.update("jax_compilation_cache_dir", directory)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return True


def check_workdir(workdir: str) -> None:
  """Creates ``workdir`` and checks that it is writable (ConfigError with the fix if not)."""
  try:
    os.makedirs(workdir, exist_ok=True)
    probe = os.path.join(workdir, ".write_test")
    with open(probe, "w") as f:
      f.write("ok")
    os.remove(probe)
  except OSError as e:
    raise config_lib.ConfigError(f"workdir {workdir!r} is not writable ({e.strerror}); "
                                 f"pass --workdir with a directory you can write") from e


def prepare(config, workdir: str | None = None) -> tuple[Dataset, GenerativeModel]:
  """Validates the config, loads the data and builds the model: everything before compiling."""
  config_lib.validate(config)
  mesh_lib.mesh_shape(config)       # the mesh fits the devices, batch and seeds
  dataset = load_dataset(config.dataset)
  config_lib.validate_against_data(config, dataset)
  if workdir is not None:
    check_workdir(workdir)
  return dataset, models_lib.build(config, dataset.example_shape, dataset.input_shape)


@dataclasses.dataclass
class Run:
  """One config ready to train or evaluate: its dataset and model, the keys of its seeds,
  the raw training split and the preprocessed test split on the device, and the device
  mesh training runs on (:mod:`jaxgen.train.mesh`)."""
  config: Any
  dataset: Dataset
  model: GenerativeModel
  keys: list[dict]
  train_x: jax.Array
  test_x: jax.Array
  mesh: Any = None

  @property
  def num_seeds(self) -> int:
    return len(self.keys)

  def init_state(self):
    """The state at step 0 (stacked over seeds when there are several), on one device."""
    return steps.init_state(self.model, self.keys)

  def place_state(self, state):
    """``state`` (the same in every process) placed on the mesh: replicated over ``data``,
    its seeds over ``runs``."""
    return mesh_lib.put(state, mesh_lib.seed_sharding(self.mesh, self.num_seeds))

  def compile_chunk(self, length: int) -> Callable:
    """The jitted, donating chunk of ``length`` steps on the run's mesh, called as
    ``chunk(state, *run.chunk_inputs(), np.int32(start))``."""
    return steps.compile_train_chunk(self.model, self.config, num_rows(self.train_x),
                                     self.num_seeds, length, self.mesh)

  def chunk_inputs(self) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(training split, train keys, data keys) placed on the mesh: the split replicated,
    the keys stacked over seeds (where there are several) and laid over ``runs``."""
    keys = mesh_lib.seed_sharding(self.mesh, self.num_seeds)
    return (mesh_lib.put(self.train_x, mesh_lib.replicated(self.mesh)),
            mesh_lib.put(steps.stack_keys(self.keys, "train"), keys),
            mesh_lib.put(steps.stack_keys(self.keys, "data"), keys))

  def scoring_train_x(self, key: jax.Array) -> jax.Array:
    """The training split preprocessed without randomness (``preprocess.deterministic``),
    for scoring it as the test split is scored (conditions as in training)."""
    return preprocess_batch(jax.tree.map(jnp.asarray, self.train_x), key,
                            deterministic(self.config.dataset.preprocess))

  def evaluator(self, log: Callable[[str], None] = print) -> Evaluator:
    """The run's evaluator, with the sample judge its data calls for
    (:func:`jaxgen.evaluation.sample_quality.make_judge`; may train and cache the evaluator
    classifier on first use)."""
    judge = sample_quality.make_judge(self.config, self.dataset, log, self.model)
    return Evaluator(self.model, self.config, self.test_x, self.keys[0]["eval"],
                     self.dataset.info, judge)

  def restore(self, workdir: str, log: Callable[[str], None] = print, writer: bool = False):
    """The latest readable checkpoint in ``workdir`` (ConfigError if there is none)."""
    ckpt = Checkpointer(os.path.join(workdir, "checkpoints"), self.config.keep_checkpoints,
                        log=log, writer=writer)
    try:
      if ckpt.latest_step() is None:
        raise config_lib.ConfigError(f"no checkpoint in {ckpt.directory}: train first with "
                                     f"--mode train and the same --workdir")
      return ckpt.restore(self.init_state())
    finally:
      ckpt.close()


def build_run(config, workdir: str | None = None) -> Run:
  """Validates ``config``, loads its data, builds its model and puts the splits on the
  device (nothing compiled yet)."""
  dataset, model = prepare(config, workdir)
  keys = steps.seed_keys(config)
  train_x, test_x = steps.device_splits(config, dataset, keys[0], model.condition)
  return Run(config, dataset, model, keys, train_x, test_x, mesh_lib.build_mesh(config))


def evaluate(config, workdir: str, log: Callable[[str], None] = print,
             density_ks: Sequence[int] = density.DEFAULT_KS) -> dict:
  """Restores the latest checkpoint in ``workdir`` and writes ``workdir/eval.json``.

  For a likelihood model (the VAE) it also writes the density figures of
  :func:`jaxgen.uses.density.density_report` (first seed) to ``density.json`` (and
  ``density.md``, ``nll_vs_k.png``): -ELBO, NLL and bits/dim on the test and the training
  split, their gap, and the test NLL for each K in ``density_ks`` (``()``: skip the K
  table). ``eval.json`` and the returned dict stay what training writes."""
  run = build_run(config, workdir)
  state = run.restore(workdir, log)
  result = final_evaluation(run.evaluator(log), state, run.keys, workdir)
  log(f"evaluation of step {result['step']}: "
      + format_scalars({k: v for k, v in result.items() if k != 'step'}))
  if run.model.has_likelihood:
    log("density figures (test and training split):")
    one = state if run.num_seeds == 1 else steps.seed_slice(state, 0)
    train_x = run.scoring_train_x(run.keys[0]["eval"])
    report = density.density_report(run.model, one, run.test_x, train_x, run.keys[0]["eval"],
                                     int(config.eval.nll_samples), tuple(density_ks),
                                     int(config.eval.batch_size), log)
    report["step"] = result["step"]
    write_json(os.path.join(workdir, "density.json"), report)
    density.write_density_outputs(report, workdir, f"{config.model.name} on "
                                  f"{run.dataset.name}, step {result['step']}")
    log(f"wrote density.json, density.md and nll_vs_k.png to {workdir}")
  return result


def sample(config, workdir: str, log: Callable[[str], None] = print,
           seed_index: Optional[int] = None) -> np.ndarray:
  """Restores the latest checkpoint and writes ``config.num_samples`` samples to
  ``workdir/samples.npy`` with pictures. For a run of several seeds: every seed's samples
  (``seed_index=None``; the array then has a leading seed axis and each seed gets a
  picture ``samples_seed<i>.png``), or those of seed ``seed_index`` only. Each seed draws
  with its own evaluation key. A model that translates images (pix2pix) has no samples of
  its own: it writes its translations of the first ``config.num_samples`` test inputs
  (:func:`translations`)."""
  run = build_run(config, workdir)
  state = run.restore(workdir, log)
  if seed_index is not None and not 0 <= seed_index < run.num_seeds:
    raise config_lib.ConfigError(f"seed index {seed_index} is out of range: {workdir!r} holds "
                                 f"{run.num_seeds} seed(s) (indices 0..{run.num_seeds - 1})")
  if run.model.condition == "image":
    one = state if run.num_seeds == 1 else steps.seed_slice(state, seed_index or 0)
    return translations(run, one, workdir, int(config.num_samples), log)
  indices = [seed_index or 0] if (seed_index is not None or run.num_seeds == 1) else list(
      range(run.num_seeds))
  gen = jax.jit(run.model.generate, static_argnums=2)
  outs = []
  for i in indices:
    one = state if run.num_seeds == 1 else steps.seed_slice(state, i)
    key = jax.random.fold_in(run.keys[i]["eval"], 4)
    outs.append(np.asarray(gen(one, key, config.num_samples)))
    name = "samples.png" if len(indices) == 1 else f"samples_seed{i}.png"
    save_picture(os.path.join(workdir, name),
                 outs[-1] if outs[-1].ndim == 2 else outs[-1][:config.eval.num_images],
                 run.dataset.info, title=f"{config.model.name} samples, seed "
                 f"{config.seed + i}, step {int(one.step)}")
  out = outs[0] if len(indices) == 1 else np.stack(outs)
  np.save(os.path.join(workdir, "samples.npy"), out)
  log(f"wrote samples of shape {out.shape} "
      f"({'seeds x ' if out.ndim > len(outs[0].shape) else ''}samples x example) to "
      f"{os.path.join(workdir, 'samples.npy')} and pictures")
  return out


def translations(run: Run, state, workdir: str, num: int,
                 log: Callable[[str], None] = print) -> np.ndarray:
  """The translations (in [0, 1]) of the first ``num`` test inputs of an image-conditioned
  model, written to ``workdir/samples.npy``, with ``samples.png``: rows of eight inputs
  (at the output size), their translations and the targets."""
  num = min(num, num_rows(run.test_x))
  fn = jax.jit(run.model.translate)
  cond = run.test_x["cond"][:num]
  out = np.asarray(map_batches(lambda c, _: fn(state, c), cond, int(run.config.eval.batch_size),
                               jax.random.PRNGKey(0)))
  np.save(os.path.join(workdir, "samples.npy"), out)
  shown = {"x": run.test_x["x"][:16], "cond": cond[:16]}        # what pictures draws
  pics = np.asarray(run.model.pictures(state, jax.random.PRNGKey(0), shown)["translations"])
  save_picture(os.path.join(workdir, "samples.png"), pics, run.dataset.info,
               title=f"inputs, translations, targets; step {int(state.step)}")
  log(f"wrote the translations of {num} test inputs, shape {out.shape}, to "
      f"{os.path.join(workdir, 'samples.npy')} and samples.png")
  return out
