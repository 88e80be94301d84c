"""Density estimation with a trained likelihood model (the VAE): -ELBO, the
importance-weighted NLL, bits per dimension, the same on the training split (the
generalization gap), and the NLL against the number of importance samples K.

Every function takes ``(model, state, x, key)`` with ``x`` preprocessed as the model
sees it, works in batches, and returns per-example values or plain numbers.
"""
from __future__ import annotations

import math
import os
from typing import Callable, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.plotting import line_plot
from jaxgen.batching import num_rows
from jaxgen.batching import map_batches

DEFAULT_KS = (1, 10, 100, 1000, 5000)


def bits_per_dim(nats, num_dims: int):
  """Nats per example -> bits per dimension: nats / (D ln 2)."""
  return nats / (num_dims * math.log(2.0))


def _check_likelihood(model) -> None:
  if not getattr(model, "has_likelihood", False):
    raise TypeError(f"{type(model).__name__} has no likelihood; density estimation needs a VAE")


def nll(model, state, x: jax.Array, num_samples: int, key: jax.Array,
        batch_size: int = 250) -> jax.Array:
  """Per-example importance-weighted -log p(x), K = ``num_samples``, batch ``i`` drawn with
  ``fold_in(key, i)`` (the keys of the NLL in ``eval.json`` when ``key`` is the
  evaluator's ``fold_in(eval_key, 1)``)."""
  _check_likelihood(model)
  fn = jax.jit(lambda s, xb, k: model.nll_batch(s, xb, k, num_samples))
  return map_batches(lambda xb, k: fn(state, xb, k), jax.tree.map(jnp.asarray, x), batch_size, key)


def neg_elbo(model, state, x: jax.Array, key: jax.Array, batch_size: int = 250) -> jax.Array:
  """Per-example -ELBO (one posterior sample, beta = 1: ``model.eval_batch``)."""
  _check_likelihood(model)
  fn = jax.jit(model.eval_batch)
  return map_batches(lambda xb, k: fn(state, xb, k)["neg_elbo"], jax.tree.map(jnp.asarray, x), batch_size,
                     key)


def nll_against_k(model, state, x: jax.Array, key: jax.Array,
                  ks: Sequence[int] = DEFAULT_KS, batch_size: int = 250,
                  log: Callable[[str], None] = lambda s: None) -> dict[int, float]:
  """Mean importance-weighted NLL of ``x`` for each K in ``ks`` (each K with the same
  keys: the estimates differ by K, not by the draw of the first samples' keys)."""
  out = {}
  for k in ks:
    out[int(k)] = float(jnp.mean(nll(model, state, x, int(k), key, batch_size)))
    log(f"  NLL with K={k}: {out[int(k)]:.3f} nats")
  return out


def density_report(model, state, test_x: jax.Array, train_x: Optional[jax.Array],
                   key: jax.Array, num_samples: int = 1000, ks: Sequence[int] = DEFAULT_KS,
                   batch_size: int = 250, log: Callable[[str], None] = lambda s: None) -> dict:
  """The density figures of one model: on the test split (and the training split when
  ``train_x`` is given) the mean -ELBO, the NLL with K = ``num_samples`` and both in bits
  per dimension; ``gap_*`` = test - train; ``nll_vs_k``: the test NLL for each K in ``ks``.
  ``key`` is split by purpose (fold_in 0: -ELBO, 1: NLL), as the evaluator does."""
  examples = test_x["x"] if isinstance(test_x, dict) else test_x   # a conditional split
  num_dims = int(np.prod(examples.shape[1:]))
  out = {"num_dims": num_dims, "nll_num_samples": int(num_samples)}
  splits = [("test", test_x)] + ([("train", train_x)] if train_x is not None else [])
  for name, x in splits:
    e = float(jnp.mean(neg_elbo(model, state, x, jax.random.fold_in(key, 0), batch_size)))
    n = float(jnp.mean(nll(model, state, x, num_samples, jax.random.fold_in(key, 1),
                           batch_size)))
    out[f"{name}_neg_elbo"], out[f"{name}_nll"] = e, n
    out[f"{name}_neg_elbo_bits_per_dim"] = bits_per_dim(e, num_dims)
    out[f"{name}_nll_bits_per_dim"] = bits_per_dim(n, num_dims)
    out[f"{name}_num_examples"] = num_rows(x)
    log(f"  {name} split ({num_rows(x)} examples): -ELBO {e:.3f}, NLL(K={num_samples}) {n:.3f} "
        f"nats = {bits_per_dim(n, num_dims):.4f} bits/dim")
  if train_x is not None:
    out["gap_neg_elbo"] = out["test_neg_elbo"] - out["train_neg_elbo"]
    out["gap_nll"] = out["test_nll"] - out["train_nll"]
  if ks:
    out["nll_vs_k"] = {str(k): v for k, v in nll_against_k(
        model, state, test_x, jax.random.fold_in(key, 1), ks, batch_size, log).items()}
  return out


def density_markdown(report: dict, title: str = "") -> str:
  """The report as two markdown tables (splits; NLL against K)."""
  lines = [f"## {title}", ""] if title else []
  lines += ["| split | examples | -ELBO (nats) | NLL (nats, K = %d) | -ELBO bits/dim | NLL bits/dim |"
            % report["nll_num_samples"], "|---|---|---|---|---|---|"]
  for split in ("test", "train"):
    if f"{split}_nll" in report:
      lines.append(f"| {split} | {report[f'{split}_num_examples']} | "
                   f"{report[f'{split}_neg_elbo']:.2f} | {report[f'{split}_nll']:.2f} | "
                   f"{report[f'{split}_neg_elbo_bits_per_dim']:.4f} | "
                   f"{report[f'{split}_nll_bits_per_dim']:.4f} |")
  if "gap_nll" in report:
    lines.append(f"| test - train | | {report['gap_neg_elbo']:.2f} | {report['gap_nll']:.2f} | | |")
  if report.get("nll_vs_k"):
    ks = list(report["nll_vs_k"])
    lines += ["", "| K | " + " | ".join(ks) + " |", "|---|" + "---|" * len(ks),
              "| test NLL (nats) | " + " | ".join(f"{report['nll_vs_k'][k]:.2f}" for k in ks) + " |"]
  return "\n".join(lines) + "\n"


def write_density_outputs(report: dict, directory: str, title: str = "") -> None:
  """``density.md`` and the plot ``nll_vs_k.png`` in ``directory``."""
  with open(os.path.join(directory, "density.md"), "w") as f:
    f.write(density_markdown(report, title))
  if report.get("nll_vs_k"):
    ks = [int(k) for k in report["nll_vs_k"]]
    line_plot(os.path.join(directory, "nll_vs_k.png"), ks,
              {"test NLL": [report["nll_vs_k"][str(k)] for k in ks]},
              xlabel="importance samples K", ylabel="NLL (nats)", logx=True,
              title=title or "importance-weighted NLL against K")
