"""How often can a digit be read from its low-resolution input at all?

    python -m benchmarks.sr_digit_ceiling [--dataset mnist_sr4] [--seeds 0 1 2]
        [--out results/conditional/sr_digits_ceiling.json]

Digit super-resolution is judged by the judge classifier reading each output as its digit
(trained on the full-resolution digits). The outputs hold no information the inputs do not,
so a classifier of the *same family and recipe* (:func:`jaxgen.evaluation.classifier.
train_classifier`, the same 4,000 training digits) trained on the bicubic-upsampled inputs
themselves estimates how much of the test split the inputs can be read at: above it, a
super-resolution model would have to invent the digit. Several seeds (initialization and
data order) give the spread. Nothing here reads a super-resolution model.
"""
from __future__ import annotations

import argparse
import sys
import dataclasses
import datetime

import numpy as np

from benchmarks.cli import machine_line, write_report
from jaxgen.data import Dataset, paired
from jaxgen.evaluation import classifier as classifier_lib
from jaxgen.evaluation import image_quality as iq


def bicubic_dataset(name: str = "mnist_sr4") -> Dataset:
  """The digits' low-resolution inputs upsampled bicubically to 28x28 (uint8), with the
  digits' labels: what a classifier of the inputs alone trains and tests on."""
  ds = paired.load(name)
  up = {}
  for split in ("train", "test"):
    x = getattr(ds, f"{split}_inputs").astype(np.float32) / 255.0
    y = iq.upsample(x, ds.example_shape[:2], "bicubic")
    up[split] = np.clip(np.rint(y * 255.0), 0, 255).astype(np.uint8)
  return Dataset(f"{name}_bicubic", "image", up["train"], up["test"], ds.train_labels,
                 ds.test_labels, info={"source": f"{name} inputs, bicubic x{ds.info['scale']}"})


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--dataset", default="mnist_sr4", choices=sorted(paired.MNIST_SR_SCALES))
  parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  low = bicubic_dataset(args.dataset)
  rows = []
  for seed in args.seeds:
    config = dataclasses.replace(classifier_lib.ClassifierConfig(), seed=seed)
    clf = classifier_lib.train_classifier(low, config, log=lambda s: None)
    rows.append({"seed": seed, "test_accuracy": clf.info["test_accuracy"],
                 "train_seconds": clf.info["train_seconds"]})
    print(f"seed {seed}: the inputs alone are read at {100 * rows[-1]['test_accuracy']:.1f}% "
          f"of the test digits")
  acc = np.array([r["test_accuracy"] for r in rows])
  report = {"dataset": args.dataset, "per_seed": rows, "test_accuracy_mean": float(acc.mean()),
            "test_accuracy_std": float(acc.std()), "machine": machine_line(),
            "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.sr_digit_ceiling " + " ".join(sys.argv[1:] if argv is None else argv)}
  print(f"{args.dataset}: a classifier of the inputs alone reads {100 * acc.mean():.1f} "
        f"± {100 * acc.std():.1f}% of the test digits")
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
