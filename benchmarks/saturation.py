"""The lecture's claim, measured: the minimax generator loss log(1 - D(G(z))) saturates early,
the non-saturating -log D(G(z)) does not.

    python -m benchmarks.saturation [--config gan_mnist] [--seeds 3] [--steps 400] \\
        [--out results/gan/saturation]

For each generator loss, trains ``--seeds`` seeds of the config in one program (the
trainer's own compiled chunk, ``jaxgen.train.build_run``) for ``--steps`` steps and records,
per step and seed, D(G(z)) (``d_fake``: the mean of D on the batch of samples D was
updated on) and the global norm of G's gradient (``g_grad_norm``). Both runs start from
the same initial state and draw the same noise and batches, so they differ only from the
first generator update on.

Why the gradients differ, per sample: with D = sigmoid(l), d/dl log(1 - D) = -D and
d/dl [-log D] = -(1 - D). While D rejects the samples (D(G(z)) near 0), the saturating loss's
gradient is scaled by D(G(z)) and the non-saturating one's by 1 - D(G(z)) ~ 1. The script
prints, per window of steps, the mean D(G(z)), the mean gradient norms and their ratio,
beside the ratio E[D] / E[1 - D] this argument predicts; writes ``saturation.json`` and a
picture ``saturation.png``. The sample metrics at the end come from full ``train.py`` runs
(see docs/guide/gan.md).

A second measurement isolates the mechanism: G frozen at its initialization while D trains
alone (``--d-updates``), and after each D update both losses' gradient norms at the same
G, D and noise, beside D(G(z)): as D learns to reject the samples, the saturating
gradient falls with D(G(z)) while the non-saturating one does not.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.cli import load_config, machine_line
from jaxgen.train import build_run

LOSSES = ("saturating", "non_saturating")
WINDOWS = ((1, 10), (11, 50), (51, 200), (201, 400), (401, 1000))


def trace(spec: str, loss: str, seeds: int, steps: int) -> dict:
  """Per-step, per-seed ``d_fake`` and ``g_grad_norm`` of the first ``steps`` steps."""
  config = load_config(spec)
  config.gan.generator_loss = loss
  config.num_seeds = seeds
  config.num_steps = max(config.num_steps, steps)
  run = build_run(config)
  state = run.init_state()
  chunk = run.compile_chunk(steps)
  _, metrics = chunk(state, *run.chunk_inputs(), jnp.int32(0))
  out = {}
  for key in ("d_fake", "g_grad_norm"):
    values = np.asarray(jax.device_get(metrics[key]), np.float64).reshape(seeds, steps)
    out[key] = [[float(f"{v:.6g}") for v in seed] for seed in values]
  return out


def d_wins(spec: str, seeds: int, d_updates: int) -> list[dict]:
  """G frozen at its initialization, D trained alone for ``d_updates`` updates; after
  each, both generator losses' gradient norms at the *same* (G, D) and noise, and D(G(z)).
  Returns one row per update: the means over seeds."""
  from jaxgen import models
  config = load_config(spec)
  config.num_seeds = 1
  per_seed = []
  for seed in range(seeds):
    config.seed = seed
    config.gan.generator_loss = "saturating"
    run = build_run(config)
    other = config.copy_and_resolve_references()
    other.gan.generator_loss = "non_saturating"
    non_saturating = models.build(other, run.model.example_shape)
    real = run.scoring_train_x(jax.random.PRNGKey(seed))
    d_step = jax.jit(run.model.discriminator_step)
    g_norm = {name: jax.jit(lambda s, k, m=m: m.generator_step(s, config.batch_size, k)[1]["g_grad_norm"])
              for name, m in (("saturating", run.model), ("non_saturating", non_saturating))}
    state, rows = run.init_state(), []
    rng = np.random.RandomState(seed)
    for i in range(d_updates):
      batch = real[rng.randint(0, real.shape[0], config.batch_size)]
      key = jax.random.PRNGKey(1000 * seed + i)
      state, m = d_step(state, batch, key)
      g_key = jax.random.fold_in(key, 7)
      rows.append({"d_fake": float(m["d_fake"]),
                   **{f"g_grad_norm_{n}": float(f(state, g_key)) for n, f in g_norm.items()}})
    per_seed.append(rows)
  return [{k: float(np.mean([seed_rows[i][k] for seed_rows in per_seed]))
           for k in per_seed[0][i]} for i in range(d_updates)]


def windows(traces: dict, steps: int) -> list[dict]:
  """Means over windows of steps (and over seeds) of both losses' traces."""
  rows = []
  for lo, hi in WINDOWS:
    if lo > steps:
      break
    hi = min(hi, steps)
    row = {"steps": f"{lo}-{hi}"}
    for loss in LOSSES:
      t = traces[loss]
      d = np.asarray(t["d_fake"])[:, lo - 1:hi]
      g = np.asarray(t["g_grad_norm"])[:, lo - 1:hi]
      row[loss] = {"d_fake": float(d.mean()), "g_grad_norm": float(g.mean()),
                   "g_grad_norm_seed_std": float(g.mean(axis=1).std())}
    row["grad_ratio"] = row["saturating"]["g_grad_norm"] / row["non_saturating"]["g_grad_norm"]
    rows.append(row)
  return rows


def picture(traces: dict, frozen: list[dict], path: str) -> None:
  """Three panels: G frozen (both gradients against D(G(z))), then each loss's own
  training run (D(G(z)) and G's gradient norm per step, one line per seed)."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  colours = {"saturating": "tab:red", "non_saturating": "tab:blue"}
  fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
  d = np.array([r["d_fake"] for r in frozen])
  for loss, colour in colours.items():
    axes[0].plot(d, [r[f"g_grad_norm_{loss}"] for r in frozen], color=colour,
                 label=loss.replace("_", "-"))
  axes[0].set(xlabel="D(G(z))  (D trained alone, G frozen)", ylabel="||grad of G's loss||",
              xscale="log", yscale="log", title="same G and D: the saturating gradient vanishes")
  axes[0].invert_xaxis()
  for loss, colour in colours.items():
    for key, ax in (("d_fake", axes[1]), ("g_grad_norm", axes[2])):
      v = np.asarray(traces[loss][key])
      steps = np.arange(1, v.shape[1] + 1)
      for i, seed in enumerate(v):
        ax.plot(steps, seed, color=colour, alpha=0.4, lw=0.8,
                label=loss.replace("_", "-") if i == 0 else None)
  axes[1].set(xlabel="training step", ylabel="D(G(z))", xscale="log", title="training: D's verdict")
  axes[2].set(xlabel="training step", ylabel="||grad of G's loss||", xscale="log", yscale="log",
              title="training: G's gradient norm")
  for ax in axes:
    ax.legend(frameon=False)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--config", default="gan_mnist", help="config[,key=value,...]")
  parser.add_argument("--seeds", type=int, default=3)
  parser.add_argument("--steps", type=int, default=400)
  parser.add_argument("--d-updates", type=int, default=200,
                      help="D updates with G frozen (the same-state comparison)")
  parser.add_argument("--out", default="results/gan/saturation")
  args = parser.parse_args(argv)
  print(machine_line(), flush=True)
  traces = {loss: trace(args.config, loss, args.seeds, args.steps) for loss in LOSSES}
  rows = windows(traces, args.steps)
  frozen = d_wins(args.config, args.seeds, args.d_updates)
  print("G frozen, D trained alone: both losses' gradients at the same (G, D)")
  print(f"{'D updates':>9} | {'D(G(z))':>8} | {'|grad G| sat':>12} {'non-sat':>9} | {'ratio':>8} "
        f"{'D/(1-D)':>8}")
  for i in sorted({0, 4, 9, 19, 49, 99, 199, args.d_updates - 1}):
    if i < len(frozen):
      r = frozen[i]
      print(f"{i + 1:9d} | {r['d_fake']:8.4f} | {r['g_grad_norm_saturating']:12.4g} "
            f"{r['g_grad_norm_non_saturating']:9.4g} | "
            f"{r['g_grad_norm_saturating'] / r['g_grad_norm_non_saturating']:8.4f} "
            f"{r['d_fake'] / (1 - r['d_fake']):8.4f}")
  print("Training with each loss (its own trajectory)")
  print(f"{'steps':>9} | {'D(G(z)) sat':>11} {'non-sat':>8} | {'|grad G| sat':>12} {'non-sat':>9} "
        f"| {'ratio':>7}")
  for r in rows:
    s, n = r["saturating"], r["non_saturating"]
    print(f"{r['steps']:>9} | {s['d_fake']:11.4f} {n['d_fake']:8.4f} | {s['g_grad_norm']:12.4g} "
          f"{n['g_grad_norm']:9.4g} | {r['grad_ratio']:7.4f}")
  os.makedirs(args.out, exist_ok=True)
  record = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.saturation " + " ".join(sys.argv[1:] if argv is None else argv),
            "config": args.config, "seeds": args.seeds, "steps": args.steps,
            "windows": rows, "traces": traces, "d_wins": frozen}
  with open(os.path.join(args.out, "saturation.json"), "w") as f:
    json.dump(record, f)
  picture(traces, frozen, os.path.join(args.out, "saturation.png"))
  print(f"wrote {args.out}/saturation.json and saturation.png")


if __name__ == "__main__":
  main()
