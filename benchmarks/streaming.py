"""Does streaming the training split from the host keep up with the split on the device?

    python -m benchmarks.streaming [--workloads vae_mnist dcgan_folder64] [--repeats 5]
        [--out results/data/streaming.json]

For each workload, the trainer's compiled chunk (:meth:`jaxgen.train.run.Run.compile_chunk`,
what ``train.py`` calls) is timed with the training split on the device
(``dataset.stream='device'``) and streamed from host memory (``'host'``: a grain reader
gathers each call's rows and puts them on the device while the previous call trains), in
the same process, the two alternating: ``--repeats`` timings of ``--chunks`` consecutive
chunks each, after one warm-up chunk (compilation). Reported: the median steps/s of each
path and the median of the per-repeat ratios host / device (target >= 0.8).

Workloads: ``vae_mnist`` (the README's run, 128 x 28x28x1 per step) and ``dcgan_folder64``
(configs/dcgan_folder.py: a 64x64x3 DCGAN, batch 64, on a folder of ``--patches`` patches of
the shipped photographs written by the benchmark).
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time

import jax
import numpy as np

from benchmarks.cli import load_config, machine_line, write_report
from benchmarks.folder_io import photo_patches
from jaxgen.data.folders import write_image_folder
from jaxgen.train.run import build_run

WORKLOADS = {
    # name: (config spec, steps per chunk)
    "vae_mnist": ("vae_mnist", 500),
    "dcgan_folder64": ("dcgan_folder", 10),
}


def _path(name: str, mode: str, folder: str):
  spec, chunk = WORKLOADS[name]
  config = load_config(spec)
  config.dataset.stream = mode
  config.progress = False
  if config.dataset.name == "image_folder":
    config.dataset.data_dir = folder
    config.dataset.cache_dir = os.path.join(folder, ".cache")
  run = build_run(config)
  fn = run.compile_chunk(chunk)
  inputs = run.chunk_inputs()
  state = run.place_state(run.init_state())
  step = 0
  state, m = fn(state, *inputs, np.int32(step))       # compiles; starts the reader
  jax.block_until_ready((state, m))
  return {"fn": fn, "inputs": inputs, "state": state, "step": chunk, "chunk": chunk,
          "streamed": run.streamed}


def _time(path: dict, chunks: int) -> float:
  """Steps/s of ``chunks`` consecutive chunks (the reader carries on between them)."""
  t = time.perf_counter()
  for _ in range(chunks):
    path["state"], m = path["fn"](path["state"], *path["inputs"], np.int32(path["step"]))
    path["step"] += path["chunk"]
  jax.block_until_ready((path["state"], m))
  return chunks * path["chunk"] / (time.perf_counter() - t)


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--chunks", type=int, default=2)
  parser.add_argument("--patches", type=int, default=2000)
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  folder = os.path.join(tempfile.gettempdir(), "jaxgen_streaming_patches")
  if "dcgan_folder64" in args.workloads and not os.path.isdir(folder):
    write_image_folder(folder, photo_patches(args.patches, 64))
  report = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.streaming " + " ".join(
                sys.argv[1:] if argv is None else argv), "workloads": {}}
  print(report["machine"])
  for name in args.workloads:
    paths = {mode: _path(name, mode, folder) for mode in ("device", "host")}
    assert paths["host"]["streamed"] and not paths["device"]["streamed"]
    rates = {"device": [], "host": []}
    for _ in range(args.repeats):
      for mode in ("device", "host"):
        rates[mode].append(_time(paths[mode], args.chunks))
    ratios = [h / d for h, d in zip(rates["host"], rates["device"])]
    spec, chunk = WORKLOADS[name]
    entry = {"config": spec, "chunk": chunk, "chunks_per_repeat": args.chunks,
             "device_steps_per_sec": rates["device"], "host_steps_per_sec": rates["host"],
             "device_median": statistics.median(rates["device"]),
             "host_median": statistics.median(rates["host"]),
             "ratio_median": statistics.median(ratios), "ratios": ratios,
             "steps_per_call": paths["host"]["fn"].steps_per_call}
    report["workloads"][name] = entry
    print(f"{name}: on the device {entry['device_median']:.1f} steps/s, streamed "
          f"{entry['host_median']:.1f} steps/s, ratio {entry['ratio_median']:.2f} (median of "
          f"{args.repeats}; {entry['steps_per_call']} steps per streamed call)")
    for p in paths.values():
      del p["state"]
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
