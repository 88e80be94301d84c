"""Is the feature extractor of unlabelled images a usable yardstick?

    python -m benchmarks.feature_yardstick --folder runs/own/photo_patches \
        [--digits] [--out results/data/feature_yardstick.json]

For an unlabelled image folder (``dataset.name=image_folder``, held-out split by the default
fraction and seed) the judge of its sample metrics is built as a run builds it
(:func:`jaxgen.evaluation.sample_quality.make_judge`: a CNN trained on the quarter turns of
the training split, cached), then applied to image sets scored against the test split:
training images (as many as the test split holds: what a perfect generator would give),
the same images blurred (Gaussian, sigma 1.5 px), with their pixels shuffled (one fixed
permutation for all), and uniform noise. A usable yardstick gives the training images a
small Fréchet distance and the damaged ones large distances. ``--digits`` also measures
``mnist_subset`` read without its labels.
"""
from __future__ import annotations

import argparse
import datetime
import sys

import ml_collections
import numpy as np
from scipy import ndimage

from benchmarks.cli import machine_line, write_report
from jaxgen.config import base_config
from jaxgen.data import Dataset, load_dataset
from jaxgen.evaluation import sample_quality


def damaged_sets(images: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
  """``images`` in [0, 1] and their damaged versions (see the module docstring)."""
  rng = np.random.RandomState(seed)
  n = images.shape[0]
  flat = images.reshape(n, -1)
  return {"train": images,
          "blurred": ndimage.gaussian_filter(images, sigma=(0, 1.5, 1.5, 0)),
          "shuffled": flat[:, rng.permutation(flat.shape[1])].reshape(images.shape),
          "noise": rng.uniform(size=images.shape).astype(np.float32)}


def measure(dataset: Dataset, log=print) -> dict:
  evaluation = ml_collections.ConfigDict({"sample_metrics": True})
  judge = sample_quality.make_judge(dataset, ml_collections.ConfigDict(), evaluation, log)
  n = dataset.test.shape[0]
  train = dataset.train[np.random.RandomState(1).permutation(dataset.train.shape[0])[:n]]
  sets = damaged_sets(train.astype(np.float32) / 255.0)
  out = {"num_train": int(dataset.train.shape[0]), "num_test": int(n),
         "extractor_test_accuracy": judge.classifier.test_accuracy,
         "extractor_train_seconds": judge.classifier.info.get("train_seconds"),
         "exemplars": judge.classifier.info.get("num_train")}
  for name, x in sets.items():
    out[name] = judge(x)
    log(f"  {name}: " + ", ".join(f"{k} {v:.3g}" for k, v in out[name].items()))
  return out


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--folder", required=True)
  parser.add_argument("--digits", action="store_true")
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  report = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.feature_yardstick " + " ".join(
                sys.argv[1:] if argv is None else argv), "datasets": {}}
  c = base_config().dataset
  c.name, c.data_dir, c.channels = "image_folder", args.folder, 3
  folder = load_dataset(c)
  print(f"{args.folder}: {folder.train.shape[0]} train / {folder.test.shape[0]} test images")
  report["datasets"]["folder"] = {"path": args.folder, **measure(folder)}
  if args.digits:
    digits = load_dataset(base_config().dataset)
    unlabelled = Dataset("mnist_subset_unlabelled", "image", digits.train, digits.test)
    print("mnist_subset without labels:")
    report["datasets"]["digits"] = {"path": "mnist_subset (labels dropped)",
                                    **measure(unlabelled)}
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
