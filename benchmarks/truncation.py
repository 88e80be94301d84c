"""The truncation trick (BigGAN) on trained GANs: sample metrics at each threshold.

    python -m benchmarks.truncation runs/recipe/r1_s0 runs/recipe/r1_s1 runs/recipe/r1_s2 \\
        [--thresholds 0 3 2.5 2 1.5 1] [--out results/gan/dcgan_recipe_truncation.json]

For each workdir, :func:`jaxgen.uses.judge.truncation_curve` (1,000 samples per threshold,
the same key for every threshold; metrics against the test split, precision and recall
against training digits) and the threshold :func:`jaxgen.uses.judge.choose_truncation`
picks from the training-split figures alone. Prints a table of means over the workdirs.
"""
from __future__ import annotations

import argparse
import datetime

import numpy as np

from benchmarks.cli import machine_line, write_report
from jaxgen.uses import judge

TEST_METRICS = ("classifier_score", "fd", "precision", "recall", "label_entropy", "confident")


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("workdirs", nargs="+", help="trained GAN workdirs (one per seed)")
  parser.add_argument("--thresholds", type=float, nargs="+", default=[0, 3, 2.5, 2, 1.5, 1])
  parser.add_argument("--num-samples", type=int, default=None)
  parser.add_argument("--seeds", type=int, default=1,
                      help="seed indices 0..SEEDS-1 of each workdir (runs of several seeds)")
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  shared, runs = None, []
  for w, seed_index in [(w, i) for w in args.workdirs for i in range(args.seeds)]:
    print(f"{w}, seed index {seed_index}:")
    rows = judge.truncation_curve(w, args.thresholds, seed_index, num_samples=args.num_samples,
                                  judge=shared)
    runs.append({"workdir": w, "seed_index": seed_index, "rows": rows,
                 "chosen": judge.choose_truncation(rows)})
    print(f"  chosen from the training split: truncation {runs[-1]['chosen']:g}")
  print("| truncation | " + " | ".join(TEST_METRICS) + " | train precision | train recall |")
  print("|" + "---|" * (len(TEST_METRICS) + 3))
  for i, t in enumerate(args.thresholds):
    vals = [np.mean([r["rows"][i]["test"][k] for r in runs]) for k in TEST_METRICS]
    tr = [np.mean([r["rows"][i]["train"][k] for r in runs]) for k in ("precision", "recall")]
    print(f"| {t:g} | " + " | ".join(f"{v:.3f}" for v in vals + tr) + " |")
  report = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.truncation " + " ".join(args.workdirs) + (
                f" --seeds {args.seeds}" if args.seeds > 1 else ""),
            "thresholds": args.thresholds, "runs": runs}
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
