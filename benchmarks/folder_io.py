"""How long does a folder of images take to become a dataset, the first time and then?

    python -m benchmarks.folder_io [--n 5000] [--size 64] [--root /tmp/jaxgen_folder_io]
        [--out results/data/folder_io.json]

Writes ``--n`` PNG files of ``--size``x``--size`` RGB (``size``-pixel patches cut on a grid
from the shipped photographs, :mod:`jaxgen.data.paired`), unlabelled, into ``--root``
(rewritten each time), then times ``load_dataset`` on it twice with a fresh cache
directory: the first call decodes every file and writes the cache, the second reads the
cache. Medians of ``--repeats`` fresh caches.
"""
from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

from benchmarks.cli import machine_line, write_report
from jaxgen.config import base_config
from jaxgen.data import load_dataset, paired
from jaxgen.data.folders import write_image_folder


def photo_patches(n: int, size: int) -> np.ndarray:
  """``n`` RGB patches of ``size`` px from the shipped photographs (stride size/2, cycling)."""
  allp = paired.photo_patches(size)
  return allp[np.arange(n) % allp.shape[0]]


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--n", type=int, default=5000)
  parser.add_argument("--size", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--root", default=os.path.join(tempfile.gettempdir(), "jaxgen_folder_io"))
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  shutil.rmtree(args.root, ignore_errors=True)
  t0 = time.perf_counter()
  write_image_folder(args.root, photo_patches(args.n, args.size))
  write_s = time.perf_counter() - t0
  first, second = [], []
  for _ in range(args.repeats):
    cache = tempfile.mkdtemp()
    c = base_config().dataset
    c.name, c.data_dir, c.cache_dir = "image_folder", args.root, cache
    t = time.perf_counter()
    ds = load_dataset(c)
    first.append(time.perf_counter() - t)
    t = time.perf_counter()
    again = load_dataset(c)
    second.append(time.perf_counter() - t)
    assert "loaded from the cache" in again.info["source"]
    shutil.rmtree(cache)
  report = {"n": args.n, "size": args.size, "train": int(ds.train.shape[0]),
            "test": int(ds.test.shape[0]), "write_seconds": write_s,
            "first_load_seconds": first, "cached_load_seconds": second,
            "first_load_median": statistics.median(first),
            "cached_load_median": statistics.median(second),
            "machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.folder_io " + " ".join(sys.argv[1:] if argv is None else argv)}
  print(f"{args.n} PNGs of {args.size}x{args.size}: first load (decode + cache) "
        f"{report['first_load_median']:.1f} s, cached {report['cached_load_median']:.2f} s "
        f"(medians of {args.repeats})")
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
