"""The README's sample-quality tables, from trained workdirs.

    python -m benchmarks.sample_tables --stacked runs/stacked/dcgan_stacked ... \\
        --judge runs/uses/ae_mnist runs/uses/vae_mnist runs/samples/gan_mnist ... \\
        [--out results/samples]

``--stacked``: Stacked MNIST runs (their ``eval.json``: modes and KL of each seed, from
``eval.num_mode_samples`` samples) as one row each, mean ± std over seeds, beside PacGAN's
published rows; ``DIR@eval_step2000.json`` reads another evaluation file of DIR. ``--judge``: workdirs judged by ``train.py --mode judge`` (their
``judge.json``); the real-data rows once, then every workdir's sample rows. Writes
``OUT/tables.md`` and copies each workdir's json files and last pictures to ``OUT/NAME/``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil

import numpy as np

from jaxgen.train.outputs import cpu_info

# PacGAN (Lin et al. 2018) Tables 2 and 3: Stacked MNIST, full MNIST, 26,000 samples.
PACGAN_ROWS = [   # as published (means; the stds are in the paper)
    ("DCGAN (PacGAN Table 2)", "99", "3.40"),
    ("DCGAN, PacGAN's own run (Table 2)", "78.9 ± 6.5", "4.50"),
    ("Unrolled GAN (Table 2)", "48.7", "4.32"),
    ("VEEGAN (Table 2)", "150", "2.95"),
    ("PacDCGAN2 (Table 2)", "1000", "0.06"),
    ("DCGAN, D at 1/4 size (Table 3)", "30.6", "5.99"),
    ("PacDCGAN4, D at 1/4 size (Table 3)", "667.4", "1.81"),
]


def _load(path: str) -> dict:
  with open(path) as f:
    return json.load(f)


def wall_seconds(workdir: str, upto: int | None = None) -> float | None:
  """Training time from metrics.jsonl's steps/s (log intervals up to step ``upto``), if
  present."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return None
  rows = [json.loads(line) for line in open(path) if "train/steps_per_sec" in line]
  total, last = 0.0, 0
  for r in rows:
    if upto is not None and r["step"] > upto:
      break
    total += (r["step"] - last) / r["train/steps_per_sec"]
    last = r["step"]
  return total


def stacked_row(spec: str) -> dict:
  """The row of ``DIR`` (its eval.json) or ``DIR@FILE`` (another evaluation in DIR, e.g.
  ``eval_step2000.json`` kept before training went on)."""
  workdir, _, name = spec.partition("@")
  ev = _load(os.path.join(workdir, name or "eval.json"))
  cfg = _load(os.path.join(workdir, "config.json"))
  seeds = ev.get("per_seed", [ev])
  modes = np.array([s["modes"] for s in seeds], float)
  kl = np.array([s["reverse_kl"] for s in seeds], float)
  sure = np.array([s.get("confident", np.nan) for s in seeds], float)
  return {"name": os.path.basename(os.path.normpath(workdir)), "num_seeds": len(seeds),
          "step": ev["step"], "minibatch": cfg["gan"]["minibatch"],
          "d_features": cfg["gan"]["d_features"] or cfg["gan"]["features"],
          "g_features": cfg["gan"]["features"], "num_samples": cfg["eval"]["num_mode_samples"],
          "modes": modes.tolist(), "reverse_kl": kl.tolist(),
          "modes_mean": float(modes.mean()), "modes_std": float(modes.std()),
          "kl_mean": float(kl.mean()), "kl_std": float(kl.std()),
          "confident_mean": float(sure.mean()), "confident_std": float(sure.std()),
          "train_seconds": wall_seconds(workdir, ev["step"])}


def stacked_markdown(rows: list[dict]) -> str:
  lines = ["| run | D | seeds | steps | modes (of 1,000) | KL(q ‖ uniform) | % confident | "
           "per-seed modes | training wall time |", "|---|---|---|---|---|---|---|---|---|"]
  for r in rows:
    t = r["train_seconds"]
    lines.append(f"| `{r['name']}` | {r['d_features']} ch, {r['minibatch']} | {r['num_seeds']} | "
                 f"{r['step']} | {r['modes_mean']:.1f} ± {r['modes_std']:.1f} | "
                 f"{r['kl_mean']:.3f} ± {r['kl_std']:.3f} | "
                 f"{r['confident_mean']:.1f} ± {r['confident_std']:.1f} | "
                 f"{', '.join(str(int(m)) for m in r['modes'])} | "
                 f"{'' if t is None else f'{t / 60:.1f} min'} |")
  lines += ["", "| PacGAN's published rows (full MNIST, 128k triples) | modes | KL |",
            "|---|---|---|"]
  lines += [f"| {n} | {m} | {k} |" for n, m, k in PACGAN_ROWS]
  return "\n".join(lines) + "\n"


def judge_markdown(workdirs: list[str]) -> str:
  head = ("| run | source | Fréchet distance ↓ | classifier score ↑ | label KL ↓ | precision ↑ | "
          "recall ↑ | density | coverage ↑ |")
  lines = [head, "|" + "---|" * 9]
  real_done = False
  for wd in workdirs:
    report = _load(os.path.join(wd, "judge.json"))
    name = os.path.basename(os.path.normpath(wd))
    for r in report["rows"]:
      real = r["source"] in ("test split", "training split")
      if real and real_done:
        continue
      who = "(real data)" if real else f"`{name}` (step {report['step']})"
      lines.append(f"| {who} | "
                   f"{r['source']} | {r['fd']:.1f} | {r['classifier_score']:.2f} | "
                   f"{r['label_kl']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | "
                   f"{r['density']:.3f} | {r['coverage']:.3f} |")
    real_done = True
  return "\n".join(lines) + "\n"


def collect(workdir: str, out: str) -> None:
  """Copies a workdir's json results and its last sample pictures to ``out/NAME/``."""
  dest = os.path.join(out, os.path.basename(os.path.normpath(workdir)))
  os.makedirs(dest, exist_ok=True)
  for name in ("eval.json", "eval_step2000.json", "judge.json", "judge.md", "judge.png", "config.json",
               "environment.json", "metrics.jsonl"):
    src = os.path.join(workdir, name)
    if os.path.exists(src):
      shutil.copy(src, dest)
  pics = sorted(glob.glob(os.path.join(workdir, "samples", "*.png")))
  if pics:
    shutil.copy(pics[-1], dest)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--stacked", nargs="*", default=[])
  parser.add_argument("--judge", nargs="*", default=[])
  parser.add_argument("--out", default="results/samples")
  args = parser.parse_args(argv)
  os.makedirs(args.out, exist_ok=True)
  info = cpu_info()
  parts = [f"Machine: {info.get('model', 'unknown CPU')} ({os.cpu_count()} cores; "
           f"{', '.join(info.get('vector_extensions', [])) or 'vector extensions unknown'}).\n"]
  if args.stacked:
    rows = [stacked_row(wd) for wd in args.stacked]
    parts += ["## Stacked MNIST (stacked_mnist_subset)\n", stacked_markdown(rows)]
    with open(os.path.join(args.out, "stacked.json"), "w") as f:
      json.dump(rows, f, indent=2)
  if args.judge:
    parts += ["## Sample metrics on mnist_subset (judge classifier features, vs the "
              "1,000 test digits)\n", judge_markdown(args.judge)]
  for wd in dict.fromkeys(spec.partition("@")[0] for spec in args.stacked + args.judge):
    collect(wd, args.out)
  text = "\n".join(parts)
  with open(os.path.join(args.out, "tables.md"), "w") as f:
    f.write(text)
  print(text)


if __name__ == "__main__":
  main()
