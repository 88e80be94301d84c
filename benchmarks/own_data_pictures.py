"""The picture of the own-data guide's worked example: training images beside samples.

    python -m benchmarks.own_data_pictures --workdir runs/own/dcgan_patches \
        --out docs/img/own_dcgan_patches.jpg [--columns 12]

Two rows of ``--columns`` images each: test images of the run's folder (chosen by a fixed
seed) and samples of its latest checkpoint (``Trained.generate`` with the run's own key).
Written as JPEG (quality 90): photographs and samples full of texture compress poorly as
PNG.
"""
from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
from PIL import Image

import jaxgen
from jaxgen.plotting import image_table


def main(argv=None) -> str:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--out", required=True)
  parser.add_argument("--columns", type=int, default=12)
  args = parser.parse_args(argv)
  trained = jaxgen.load(args.workdir)
  test = trained.run.dataset.test
  pick = np.random.RandomState(0).permutation(test.shape[0])[:args.columns]
  real = test[pick].astype(np.float32) / 255.0
  fake = np.asarray(trained.generate(args.columns))
  with tempfile.TemporaryDirectory() as tmp:
    png = image_table(os.path.join(tmp, "table.png"), np.stack([real, fake]),
                      row_labels=["test images", "samples"], scale=3)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    Image.open(png).convert("RGB").save(args.out, quality=90)
  print(f"wrote {args.out}")
  return args.out


if __name__ == "__main__":
  main()
