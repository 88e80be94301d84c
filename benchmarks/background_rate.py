"""Choosing the likelihood ratio's perturbation rate on training data only.

    python -m benchmarks.background_rate --config vae_anomaly \\
        --protocol leave_one_out --runs runs/anomaly/vae_leave_one_out \\
        [--rates 0.1 0.2 0.3] [--seed 0] [--out results/uses/anomaly/background_rate_loo.json]

For every digit of the protocol (one seed), trains the run (or reuses it: the sweep's own
workdirs ``RUNS/digit<d>/seed<s>``) and, for every rate μ, its background model on inputs
perturbed at μ (``RUNS/digit<d>/seed<s>/background_<μ>``, reused by the sweep later).
Each μ is scored by :func:`jaxgen.uses.anomaly.background_criterion` — the rank correlation
of the background model's NLL with the PNG code length on the run's *training* images —
and the μ with the highest mean over digits is chosen. For the record only (the choice
never reads them), the AUROC of ``llr`` on the test split at every μ is printed beside it.
"""
from __future__ import annotations

import argparse
import datetime
import os
import time

import jax
import numpy as np

from benchmarks.cli import load_config, machine_line, write_report
from jaxgen.evaluation import detection
from jaxgen.train.loop import train
from jaxgen.uses import anomaly
from jaxgen.uses.loading import load

NLL_SAMPLES = 100     # K of the NLLs here: enough to rank, a tenth of the sweep's cost


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--config", required=True)
  parser.add_argument("--protocol", required=True, choices=detection.PROTOCOLS)
  parser.add_argument("--runs", required=True, help="the protocol sweep's workdir root")
  parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.2, 0.3])
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  config = load_config(args.config)
  t0 = time.perf_counter()
  rows = []
  for d in args.digits:
    cfg = anomaly.protocol_config(config, args.protocol, d, args.seed)
    wd = os.path.join(args.runs, f"digit{d}", f"seed{args.seed}")
    train(cfg, wd, log=lambda m: None)
    trained = load(wd, cfg)
    labels = trained.test_labels
    is_anomaly = detection.anomalies_among(labels, trained.dataset.info["train_classes"])
    nll = np.asarray(trained.nll(trained.test_x, NLL_SAMPLES))
    for rate in args.rates:
      c = cfg.copy_and_resolve_references()
      c.eval.background_rate = rate
      bg = anomaly.train_background(c, wd, log=lambda m: None)
      criterion = anomaly.background_criterion(trained, bg)
      bg_nll = np.asarray(bg.nll(trained.test_x, NLL_SAMPLES, jax.random.fold_in(trained.key, 7)))
      auroc = detection.auroc(nll - bg_nll, is_anomaly)
      rows.append({"digit": d, "rate": rate, "criterion": criterion, "llr_auroc": auroc,
                   "nll_auroc": detection.auroc(nll, is_anomaly)})
      print(f"digit {d}, rate {rate:g}: criterion {criterion:.4f} (training images), "
            f"llr AUROC {auroc:.4f} (test, not used), nll AUROC {rows[-1]['nll_auroc']:.4f} "
            f"({time.perf_counter() - t0:.0f} s)", flush=True)
  means = {r: float(np.mean([x["criterion"] for x in rows if x["rate"] == r])) for r in args.rates}
  chosen = max(args.rates, key=lambda r: means[r])
  print("| rate | mean criterion (training) | mean llr AUROC (test) |")
  print("|---|---|---|")
  for r in args.rates:
    print(f"| {r:g} | {means[r]:.4f} | "
          f"{np.mean([x['llr_auroc'] for x in rows if x['rate'] == r]):.4f} |")
  print(f"chosen from training data: rate {chosen:g}")
  report = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": f"python -m benchmarks.background_rate --config {args.config} --protocol "
                       f"{args.protocol} --runs {args.runs} --rates "
                       + " ".join(f"{r:g}" for r in args.rates),
            "protocol": args.protocol, "seed": args.seed, "nll_samples": NLL_SAMPLES,
            "rows": rows, "mean_criterion": {f"{r:g}": v for r, v in means.items()},
            "chosen": chosen, "wall_seconds": time.perf_counter() - t0}
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
