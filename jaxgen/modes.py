"""The driver's modes, one call each, on a workdir: the one place ``train.py`` dispatches to.

* ``train``: :func:`jaxgen.train.loop.train` (``--config`` required; resuming refuses a
  changed config);
* ``evaluate``: ``eval.json`` again, and the density figures of a likelihood model
  (:func:`evaluate`, with :mod:`jaxgen.uses.density`);
* ``sample``: samples (or a translating model's translations) of the trained model
  (:func:`sample`);
* ``anomaly``, ``explore``, ``judge``: :mod:`jaxgen.uses.anomaly`, :mod:`jaxgen.uses.explore`,
  :mod:`jaxgen.uses.judge`.

Every mode but ``train`` (and ``anomaly`` with a protocol, which trains) reads the config
of the workdir it is given (``config.json``, as :func:`jaxgen.load` does): ``config`` is
optional there, and one that differs from the workdir's in more than the keys a mode may
change (:data:`MODE_CHANGES`) is refused with one line naming the differing keys
(:func:`workdir_config`).
"""
from __future__ import annotations

import json
import os
from typing import Callable, Optional, Sequence

import jax
import numpy as np

from jaxgen import config as config_lib
from jaxgen.batching import map_batches, num_rows
from jaxgen.json_output import write_json
from jaxgen.train import steps
from jaxgen.train.evaluator import final_evaluation
from jaxgen.train import selection
from jaxgen.train.loop import RESUMABLE_CHANGES, config_differences, train
from jaxgen.train.outputs import format_scalars, save_picture
from jaxgen.train.run import Run, build_run
from jaxgen.uses import anomaly, density, explore, judge
from jaxgen.uses.loading import Trained, load, read_config

MODES = ("train", "evaluate", "sample", "anomaly", "explore", "judge")

# Keys in which a --config may differ from the workdir's config.json for a mode other than
# train: what may change on resume, and what only shapes evaluation and outputs.
MODE_CHANGES = RESUMABLE_CHANGES + ("eval", "log_every", "eval_every", "checkpoint_every",
                                    "deterministic", "gan.truncation")


def workdir_config(workdir: str, config=None):
  """The config to use on the trained run in ``workdir``: its ``config.json``, or
  ``config`` where that agrees with it outside :data:`MODE_CHANGES` (so overrides of
  evaluation keys apply). ConfigError (one line naming the differing keys) otherwise, or
  when ``workdir`` holds no ``config.json``."""
  saved = read_config(workdir)
  if config is None:
    return saved
  diffs = config_differences(json.loads(saved.to_json_best_effort()),
                             json.loads(config.to_json_best_effort()), free=MODE_CHANGES)
  if diffs:
    names = [d.split(":")[0] for d in diffs]
    raise config_lib.ConfigError(
        f"--config differs from the config of {workdir!r} in {', '.join(names)} (config.json "
        f"-> --config: {'; '.join(diffs[:3])}{'; ...' if len(diffs) > 3 else ''}); leave out "
        f"--config to use the workdir's own, or give the --workdir trained with this config")
  return config


def run_mode(mode: str, workdir: str, config=None, *, protocol: str = "", seeds: int = 3,
             seed_index: Optional[int] = None, nll_ks: Sequence[int] = density.DEFAULT_KS,
             allow_config_change: bool = False, sampler: str = "prior",
             log: Callable[[str], None] = print):
  """Runs ``train.py --mode <mode>`` on ``workdir`` (see the module docstring); returns
  what the mode's function returns."""
  if mode not in MODES:
    raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
  if mode == "train" or (mode == "anomaly" and protocol):
    if config is None:
      raise config_lib.ConfigError(f"--mode {mode}{' --protocol' if protocol else ''} needs "
                                   f"--config, e.g. --config configs/vae_mnist.py")
    if mode == "train":
      return train(config, workdir, log=log, allow_config_change=allow_config_change)
    return anomaly.sweep(config, workdir, protocol,
                         seeds=[config.seed + i for i in range(seeds)], log=log)
  config = workdir_config(workdir, config)
  if mode == "evaluate":
    return evaluate(config, workdir, log, density_ks=nll_ks)
  if mode == "sample":
    return sample(config, workdir, log, seed_index=seed_index, sampler=sampler)
  if mode == "anomaly":
    return anomaly.score_workdir(workdir, config, seed_index or 0, log)
  if mode == "judge":
    return judge.judge_workdir(workdir, config, seed_index or 0, log=log)
  return explore.explore_workdir(workdir, config, seed_index or 0, log=log)


def evaluate(config, workdir: str, log: Callable[[str], None] = print,
             density_ks: Sequence[int] = density.DEFAULT_KS) -> dict:
  """Restores the latest checkpoint in ``workdir`` and writes ``workdir/eval.json``.

  For a likelihood model (the VAE) it also writes the density figures of
  :func:`jaxgen.uses.density.density_report` (first seed) to ``density.json`` (and
  ``density.md``, ``nll_vs_k.png``): -ELBO, NLL and bits/dim on the test and the training
  split, their gap, and the test NLL for each K in ``density_ks`` (``()``: skip the K
  table). For an AE or VAE judged by sample metrics, ``eval.json`` and the returned dict
  add ``samplers``: the sample metrics of each latent sampler fitted to the training codes
  (:data:`jaxgen.uses.judge.SAMPLER_SOURCES`, the figures of their ``--mode judge`` rows);
  a run that selected a step on its validation split (``eval.select_on``) gets
  ``selected``, that step's test numbers, again; otherwise they stay what training writes."""
  run = build_run(config, workdir)
  state = run.restore(workdir, log)
  evaluator = run.evaluator(log)
  result = final_evaluation(evaluator, state, run.keys, workdir)
  if config.eval.select_on and os.path.exists(os.path.join(workdir, selection.RECORD)):
    selector = selection.Selector(run, workdir, log, writer=False)
    try:
      result = selection.selected_evaluation(selector, evaluator, run, workdir, result)
    finally:
      selector.close()
  if config.model.name in ("ae", "vae") and isinstance(
      evaluator.judge, judge.sample_quality.SampleJudge):
    trained = Trained(config, run, state if run.num_seeds == 1 else steps.seed_slice(state, 0),
                      0, workdir)
    result["samplers"] = judge.sampler_metrics(trained, evaluator.judge, log=log)
    write_json(os.path.join(workdir, "eval.json"), result)
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
           seed_index: Optional[int] = None, sampler: str = "prior") -> np.ndarray:
  """Restores the latest checkpoint and writes ``config.num_samples`` samples to
  ``workdir/samples.npy`` with pictures. For a run of several seeds: every seed's samples
  (``seed_index=None``; the array then has a leading seed axis and each seed gets a
  picture ``samples_seed<i>.png``), or those of seed ``seed_index`` only. Each seed draws
  with its own evaluation key. A model that translates images (pix2pix) has no samples of
  its own: it writes its translations of the first ``config.num_samples`` test inputs
  (:func:`translations`). ``sampler`` (AE and VAE): draw the codes from a density fitted to
  the training codes instead of the prior (:meth:`jaxgen.uses.loading.Trained.sampler`),
  written to ``samples_<sampler>.npy`` and ``samples_<sampler>.png``."""
  if sampler != "prior":
    if config.model.name not in ("ae", "vae"):
      raise config_lib.ConfigError(f"--sampler {sampler} draws codes for an AE or a VAE; "
                                   f"{config.model.name!r} samples its own way (--sampler prior)")
    trained = load(workdir, config, seed_index or 0, log)
    key = jax.random.fold_in(trained.key, 4)
    out = np.asarray(trained.generate(int(config.num_samples), key, sampler=sampler))
    save_picture(os.path.join(workdir, f"samples_{sampler}.png"), out[:config.eval.num_images],
                 trained.dataset.info, title=f"{config.model.name} decodes of {sampler} "
                 f"codes, step {trained.step}")
    np.save(os.path.join(workdir, f"samples_{sampler}.npy"), out)
    log(f"wrote samples of shape {out.shape} to "
        f"{os.path.join(workdir, f'samples_{sampler}.npy')} and samples_{sampler}.png")
    return out
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
