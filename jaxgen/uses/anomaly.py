"""Anomaly detection with a trained model: per-example scores, the score of one trained
workdir, and the two MNIST protocols as one sweep each (train, score, tabulate).

Scores (higher = more anomalous):

* VAE: ``neg_elbo`` (-ELBO, its expectation estimated with ``elbo_samples`` posterior
  samples) and ``nll`` (the importance-weighted -log p(x), K = ``config.eval.nll_samples``,
  drawn with the keys of the NLL in ``eval.json``, so its mean is that figure); and the
  input-complexity scores of Serrà et al. (ICLR 2020), ``nll_minus_png`` and
  ``nll_minus_zlib``: the NLL minus the image's lossless code length in nats
  (:func:`jaxgen.evaluation.detection.code_length_nats`) — a likelihood model explains
  simple images well whatever they show, a general-purpose compressor too, and their
  difference is what the model knows beyond simplicity; with ``eval.background_rate`` = μ
  > 0, ``llr``: the likelihood-ratio score of Ren et al. (NeurIPS 2019), the NLL minus the
  NLL of a background model — the same config trained on inputs perturbed at rate μ
  (``dataset.perturb_rate``), which learns the images' low-level statistics but not their
  content (:func:`background_config`; :func:`background_criterion` chooses μ on training
  data);
* AE: ``recon`` (the reconstruction loss: Bernoulli cross-entropy, or squared error).

GANs have no score here: a discriminator trained to a game's end is not a density, and
the usual GAN scores (AnoGAN) need an inversion search per example.
"""
from __future__ import annotations

import copy
import functools
import json
import os
import time
from typing import Callable, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import config as config_lib
from jaxgen import losses
from jaxgen.data import load_dataset
from jaxgen.evaluation import detection as metrics
from jaxgen.plotting import bar_chart, histogram_grid
from jaxgen.batching import map_batches
from jaxgen.train.loop import train
from jaxgen.json_output import write_json
from jaxgen.uses.loading import load, read_config

ELBO_SAMPLES = 10


def score_names(model) -> tuple[str, ...]:
  """The scores :func:`anomaly_scores` returns for ``model``."""
  if getattr(model, "has_likelihood", False):
    return ("neg_elbo", "nll") + tuple(f"nll_minus_{c}" for c in metrics.CODECS)
  if hasattr(model, "recon_loss"):
    return ("recon",)
  raise TypeError(f"{type(model).__name__} has no anomaly score (scores exist for the AE "
                  f"and the VAE)")


def anomaly_scores(model, state, x: jax.Array, key: jax.Array, nll_samples: int = 1000,
                   elbo_samples: int = ELBO_SAMPLES, batch_size: int = 250) -> dict:
  """Per-example anomaly scores of preprocessed examples ``x`` ({name: [N] array}).
  ``key`` is the evaluation key of the run: the NLL uses ``fold_in(key, 1)`` (the keys of
  ``eval.json``'s NLL), the -ELBO ``fold_in(key, 5)``."""
  names = score_names(model)
  x = jnp.asarray(x, jnp.float32)
  if names == ("recon",):
    fn = jax.jit(model.recon_loss)
    return {"recon": np.asarray(map_batches(lambda xb, k: fn(state.params, xb), x, batch_size,
                                            key))}

  def neg_elbo(s, xb, k):
    t = losses.elbo(k, xb, functools.partial(model.encode, s.params),
                    functools.partial(model.log_likelihood, s.params), num_samples=elbo_samples)
    return -t.elbo

  f_elbo = jax.jit(neg_elbo)
  f_nll = jax.jit(lambda s, xb, k: model.nll_batch(s, xb, k, nll_samples))
  out = {"neg_elbo": np.asarray(map_batches(lambda xb, k: f_elbo(state, xb, k), x, batch_size,
                                            jax.random.fold_in(key, 5))),
         "nll": np.asarray(map_batches(lambda xb, k: f_nll(state, xb, k), x, batch_size,
                                       jax.random.fold_in(key, 1)))}
  images = np.asarray(x)
  for codec in metrics.CODECS:
    out[f"nll_minus_{codec}"] = out["nll"] - metrics.code_length_nats(images, codec)
  return out


def background_config(config):
  """The background model's config for a run of ``config``: the same, trained on inputs
  perturbed at ``eval.background_rate`` (``dataset.perturb_rate``)."""
  c = copy.deepcopy(config)
  with c.unlocked():
    c.dataset.perturb_rate = float(config.eval.background_rate)
    c.eval.background_rate = 0.0
    c.eval.sample_metrics = False
    c.progress = False
  return c


def background_workdir(workdir: str, rate: float) -> str:
  return os.path.join(workdir, f"background_{rate:g}")


def train_background(config, workdir: str, log: Callable[[str], None] = print):
  """Trains (or reuses) the background model of the run in ``workdir`` at
  ``config.eval.background_rate`` in ``workdir/background_<rate>``; returns it loaded."""
  c = background_config(config)
  wd = background_workdir(workdir, c.dataset.perturb_rate)
  log(f"background model (inputs perturbed at rate {c.dataset.perturb_rate:g}) in {wd}")
  train(c, wd, log=lambda m: None)
  return load(wd, c)


def background_criterion(trained, background, codec: str = "png") -> float:
  """How well a background model measures input complexity, on *training* images only:
  Spearman's rank correlation between its NLL and the images' lossless code length
  (``codec``) on the run's training split (deterministically preprocessed). The premise of
  the likelihood ratio is a background model that explains complexity, not content; the
  perturbation rate μ with the highest correlation is the one chosen — no test image and
  no anomaly is looked at."""
  from scipy.stats import spearmanr  # lazy: only the choice of a rate needs scipy
  x = np.asarray(trained.train_x)
  nll = np.asarray(background.nll(x, int(trained.config.eval.nll_samples)))
  return float(spearmanr(nll, metrics.code_length_nats(x, codec)).statistic)


def _likelihood_ratio(trained, background, nll) -> np.ndarray:
  """``llr``: the run's per-example test ``nll`` minus the background model's NLL of the
  same images (K = ``eval.nll_samples``, keys ``fold_in(key, 7)`` of the run)."""
  bg = background.nll(trained.test_x, int(trained.config.eval.nll_samples),
                      jax.random.fold_in(trained.key, 7))
  return np.asarray(nll) - np.asarray(bg)


def score_trained(trained, elbo_samples: int = ELBO_SAMPLES, background=None) -> dict:
  """Scores the whole test split of a loaded run (:func:`jaxgen.load`) and, when its
  training split was filtered (``dataset.classes`` / ``exclude_classes``), the AUROC of
  each score with the classes not trained on as the anomalies. ``background``: a loaded
  background model (:func:`train_background`), which adds the score ``llr``. Returns a
  JSON-able dict (per-class mean scores included); the per-example scores under
  ``"scores"``."""
  cfg = trained.config
  scores = anomaly_scores(trained.model, trained.state, trained.test_x, trained.key,
                          int(cfg.eval.nll_samples), elbo_samples, int(cfg.eval.batch_size))
  if background is not None:
    scores["llr"] = _likelihood_ratio(trained, background, scores["nll"])
  labels = trained.test_labels
  out = {"step": trained.step, "seed": int(cfg.seed) + trained.seed_index,
         "background_rate": float(cfg.eval.background_rate) if background is not None else 0.0,
         "train_classes": trained.dataset.info.get("train_classes"),
         "num_test_examples": int(trained.test_x.shape[0]), "scores": scores}
  if labels is not None:
    out["mean_score_per_class"] = {
        name: {str(c): float(np.mean(v[labels == c])) for c in np.unique(labels)}
        for name, v in scores.items()}
    normal = out["train_classes"]
    if normal is not None:
      is_anomaly = metrics.anomalies_among(labels, normal)
      out["auroc"] = {name: metrics.auroc(v, is_anomaly) for name, v in scores.items()}
  return out


def write_scores(result: dict, directory: str) -> None:
  """``anomaly.json`` (everything but the per-example scores) and ``anomaly_scores.npz``."""
  write_json(os.path.join(directory, "anomaly.json"),
             {k: v for k, v in result.items() if k != "scores"})
  np.savez(os.path.join(directory, "anomaly_scores.npz"), **result["scores"])


def score_workdir(workdir: str, config=None, seed_index: int = 0,
                  log: Callable[[str], None] = print) -> dict:
  """``--mode anomaly`` without a protocol: scores the test split with the trained model in
  ``workdir`` and writes ``anomaly.json`` (AUROC where training was filtered by class) and
  ``anomaly_scores.npz`` there."""
  config = read_config(workdir) if config is None else config
  if config.model.name not in ("ae", "vae"):
    raise config_lib.ConfigError(f"--mode anomaly scores AEs and VAEs; a {config.model.name!r} "
                                 f"has no anomaly score in jaxgen")
  trained = load(workdir, config, seed_index, log)
  names = score_names(trained.model)
  background = (train_background(config, workdir, log) if config.eval.background_rate
                else None)
  result = score_trained(trained, background=background)
  write_scores(result, workdir)
  if "auroc" in result:
    log(f"AUROC (anomalies: test classes outside {result['train_classes']}): "
        + " ".join(f"{k}={v:.4f}" for k, v in result["auroc"].items()))
  else:
    log(f"trained on every class: no anomalies defined; mean {names[-1]} per test class: "
        + " ".join(f"{c}:{v:.1f}" for c, v in result.get("mean_score_per_class", {}).get(
            names[-1], {}).items()))
  log(f"wrote {os.path.join(workdir, 'anomaly.json')} and anomaly_scores.npz")
  return result


# --------------------------------------------------------------------------- the protocols
def protocol_config(config, protocol: str, digit: int, seed: int):
  """``config`` with the training filter of ``protocol`` for ``digit`` and seed ``seed``."""
  c = copy.deepcopy(config)
  with c.unlocked():
    for k, v in metrics.protocol_filter(protocol, digit).items():
      c.dataset[k] = v
    c.seed = int(seed)
    c.progress = False
  return c


def sweep(config, root: str, protocol: str, seeds: Sequence[int] = (0, 1, 2),
          digits: Sequence[int] = tuple(range(10)), log: Callable[[str], None] = print,
          elbo_samples: int = ELBO_SAMPLES) -> dict:
  """Runs ``protocol`` ('one_class' or 'leave_one_out') for ``config``: for every digit
  and seed, trains in ``root/digit<d>/seed<s>`` (resuming or reusing what is there),
  scores the test split and computes the AUROC; then writes ``root/anomaly.json``,
  ``anomaly.md``, the per-digit AUROC bar chart ``auroc.png`` and the score histograms
  ``histograms.png`` (first seed). Returns the summary."""
  if protocol not in metrics.PROTOCOLS:
    raise ValueError(f"unknown protocol {protocol!r}; use one of {', '.join(metrics.PROTOCOLS)}")
  os.makedirs(root, exist_ok=True)
  rows, hist_panels, t0 = [], [], time.perf_counter()
  names = None
  for d in digits:
    for s in seeds:
      wd = os.path.join(root, f"digit{d}", f"seed{s}")
      cfg = protocol_config(config, protocol, d, s)
      result = _stored(wd, cfg)
      if result is not None and "llr" in _expected_scores(cfg) and "llr" not in result["scores"]:
        # every score but the likelihood ratio is stored: add it, keep the rest
        t = time.perf_counter()
        trained = load(wd, cfg)
        background = train_background(cfg, wd, lambda m: None)
        result["scores"]["llr"] = _likelihood_ratio(trained, background,
                                                    result["scores"]["nll"])
        result["background_rate"] = float(cfg.eval.background_rate)
        result["auroc"]["llr"] = metrics.auroc(result["scores"]["llr"], metrics.anomalies_among(
            trained.test_labels, result["train_classes"]))
        write_scores(result, wd)
        log(f"{protocol} digit {d} seed {s}: AUROC llr={result['auroc']['llr']:.4f} added "
            f"({time.perf_counter() - t:.0f} s; {time.perf_counter() - t0:.0f} s so far)")
      if result is None:
        t = time.perf_counter()
        train(cfg, wd, log=lambda m: None)
        trained = load(wd, cfg)
        background = (train_background(cfg, wd, lambda m: None) if cfg.eval.background_rate
                      else None)
        result = score_trained(trained, elbo_samples, background)
        write_scores(result, wd)
        log(f"{protocol} digit {d} seed {s}: AUROC "
            + " ".join(f"{k}={v:.4f}" for k, v in result["auroc"].items())
            + f" ({time.perf_counter() - t:.0f} s; {time.perf_counter() - t0:.0f} s so far)")
      names = list(result["auroc"])
      rows.append({"digit": d, "seed": s, "auroc": result["auroc"]})
      if s == seeds[0]:
        labels = _test_labels(cfg)
        anomalous = metrics.anomalies_among(labels, result["train_classes"])
        v = np.asarray(result["scores"][names[-1]])
        hist_panels.append((f"digit {d}: AUROC {result['auroc'][names[-1]]:.3f}",
                            {"normal": v[~anomalous], "anomalous": v[anomalous]}))
  summary = metrics.summarize(rows, names, digits)
  title = (f"{protocol.replace('_', ' ')}: {config.model.name} ({config.model.net}), "
           f"{len(seeds)} seeds, AUROC (%)")
  out = {"protocol": protocol, "model": config.model.name, "net": config.model.net,
         "num_steps": int(config.num_steps), "seeds": list(seeds), "digits": list(digits),
         "summary": summary, "runs": rows, "wall_seconds": time.perf_counter() - t0}
  write_json(os.path.join(root, "anomaly.json"), out)
  with open(os.path.join(root, "anomaly.md"), "w") as f:
    f.write(metrics.markdown_table(summary, title))
  cats = [str(d) for d in digits] + ["mean"]
  bar_chart(os.path.join(root, "auroc.png"), cats,
            {n: [summary[n][c]["mean"] for c in cats] for n in names},
            {n: [summary[n][c]["std"] for c in cats] for n in names},
            ylabel="AUROC", title=title.replace(" (%)", ""), ylim=(0, 1.02), reference=0.5)
  histogram_grid(os.path.join(root, "histograms.png"), hist_panels,
                 title=f"{protocol.replace('_', ' ')}: {names[-1]} of normal and anomalous "
                       f"test digits (seed {seeds[0]})")
  log(f"{protocol}: mean AUROC over digits "
      + " ".join(f"{n}={summary[n]['mean']['mean']:.4f}±{summary[n]['mean']['std']:.4f}"
                 for n in names) + f"; wrote {os.path.join(root, 'anomaly.md')}")
  return out


def _stored(wd: str, cfg) -> Optional[dict]:
  """The stored result of the run in ``wd`` (its per-example scores under ``"scores"``)
  when it was scored at ``cfg.num_steps`` with every score ``cfg`` asks for, or with all
  but ``llr`` (which the sweep then adds); None otherwise (train and score it)."""
  done = os.path.join(wd, "anomaly.json")
  if not (os.path.exists(done) and os.path.exists(os.path.join(wd, "anomaly_scores.npz"))):
    return None
  with open(done) as f:
    result = json.load(f)
  have, want = set(result.get("auroc", {})), set(_expected_scores(cfg))
  rate = float(cfg.eval.background_rate)
  if result.get("step") != cfg.num_steps or not have >= want - {"llr"}:
    return None
  if "llr" in have and result.get("background_rate", 0.0) != rate:
    have.discard("llr")                           # another rate's ratio: recompute it
    result["auroc"].pop("llr")
  with np.load(os.path.join(wd, "anomaly_scores.npz")) as z:
    result["scores"] = {k: z[k] for k in z.files if k in have}
  return result


def _expected_scores(config) -> tuple[str, ...]:
  """The score names a run of ``config`` has (a stored run without one is scored again)."""
  if config.model.name == "vae":
    return ("neg_elbo", "nll") + tuple(f"nll_minus_{c}" for c in metrics.CODECS) + (
        ("llr",) if config.eval.background_rate else ())
  return ("recon",)


def _test_labels(config) -> Optional[np.ndarray]:
  return load_dataset(config.dataset).test_labels
