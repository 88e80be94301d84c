"""Runs a list of config variants with ``train.py`` and tables their final evaluations.

    python -m benchmarks.ablation --config configs/dcgan_mnist_recipe.py \\
        --variants benchmarks/sweeps/dcgan_recipe_ablation.txt --runs runs/ablation/dcgan \\
        [--common "--config.num_steps=5000"] [--only NAME ...] [--out results/gan/ablation_dcgan.json]

A variants file has one variant per line: a name, then ``train.py`` flags (``#`` starts a
comment). Each variant trains in ``RUNS/NAME`` (a finished run — its ``eval.json`` at the
config's last step — is not trained again, so an interrupted ablation resumes where it
stopped). The table: per variant, every numeric entry of ``eval.json`` (mean ± std over
seeds where the run has several) and the training wall time (from the steps/s that
``metrics.jsonl`` logs), written as JSON with the machine, date and commands.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import time

from benchmarks.cli import machine_line
from benchmarks.sample_tables import wall_seconds

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_variants(path: str) -> list[tuple[str, list[str]]]:
  """(name, flags) per non-empty, non-comment line."""
  out = []
  for line in open(path):
    line = line.split("#", 1)[0].strip()
    if line:
      name, *flags = shlex.split(line)
      out.append((name, flags))
  return out


def finished(workdir: str) -> bool:
  path = os.path.join(workdir, "eval.json")
  if not os.path.exists(path):
    return False
  cfg = json.load(open(os.path.join(workdir, "config.json")))
  return json.load(open(path)).get("step") == cfg["num_steps"]


def row(name: str, flags: list[str], workdir: str) -> dict:
  ev = json.load(open(os.path.join(workdir, "eval.json")))
  metrics = {k: v for k, v in ev.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
  return {"name": name, "flags": flags, "workdir": workdir, "metrics": metrics,
          "train_seconds": wall_seconds(workdir)}


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--config", required=True, help="the base config file")
  parser.add_argument("--variants", required=True, help="the variants file")
  parser.add_argument("--runs", required=True, help="where the workdirs go")
  parser.add_argument("--only", nargs="*", help="these variants only, in this order")
  parser.add_argument("--common", default="", help="flags given to every variant (one string)")
  parser.add_argument("--out", help="the table as JSON")
  args = parser.parse_args(argv)
  rows = []
  variants = read_variants(args.variants)
  if args.only:                          # in the order given
    known = dict(variants)
    missing = [n for n in args.only if n not in known]
    if missing:
      raise SystemExit(f"no variant named {', '.join(missing)} in {args.variants}")
    variants = [(n, known[n]) for n in args.only]
  for name, flags in variants:
    workdir = os.path.join(args.runs, name)
    cmd = [sys.executable, os.path.join(ROOT, "train.py"), "--config", args.config,
           "--workdir", workdir, "--config.progress=False", *shlex.split(args.common), *flags]
    if not finished(workdir):
      print(f"[{name}] {' '.join(shlex.quote(c) for c in cmd[1:])}", flush=True)
      start = time.perf_counter()
      subprocess.run(cmd, check=True, cwd=ROOT)
      print(f"[{name}] done in {time.perf_counter() - start:.0f} s", flush=True)
    rows.append(row(name, flags, workdir))
    m = rows[-1]["metrics"]
    print(f"[{name}] " + "  ".join(f"{k} {m[k]:.4g}" for k in
                                   ("classifier_score", "fd", "precision", "recall", "modes",
                                    "reverse_kl") if k in m), flush=True)
  if args.out:
    with open(args.out, "w") as f:
      json.dump({"machine": machine_line(), "date": datetime.date.today().isoformat(),
                 "config": args.config, "variants": args.variants, "common": args.common,
                 "rows": rows}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
  main()
