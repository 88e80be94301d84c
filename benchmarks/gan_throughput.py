"""Training throughput of the GAN configs on this machine, as the trainer runs them.

    python -m benchmarks.gan_throughput [--steps 200] [--repeats 3] SPEC [SPEC ...]

A SPEC is a config name from configs/ with optional overrides, comma-separated:
``gan_grid`` or ``gan_grid_mbd,batch_size=128,gan.mb_kernels=4``, or the name of one of
``benchmarks.suite``'s workloads on random images (``dcgan64_b64``, ``dcgan64_b256``). The
first SPEC is the reference. For each, builds the compiled training chunk exactly as
``jaxgen.train.train`` does (``jaxgen.train.build_run``: all ``num_seeds`` seeds in one call, ``--steps`` steps
per call), runs it once to
compile, then ``--repeats`` times, and prints the median ms per step (all seeds
together), steps/s, the implied wall time of the config's ``num_steps``, the ratio to
the reference, and the arithmetic rate (XLA's count of one step's operations over its
time). Example (the numbers in README.md):

    python -m benchmarks.gan_throughput gan_grid gan_grid_mbd

``--out FILE.json`` also writes the rows with the machine, the date and the command (the
step cost of each GAN option in the results record comes from such a file).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import suite
from benchmarks.cli import load_config, machine_line
from jaxgen.train import build_run


def spec_run(spec: str):
  """(config, Run) of a SPEC: a config and its overrides (``build_run``), or a suite workload
  that trains on random images (its hand-built Run, as ``benchmarks.suite`` times it)."""
  name = spec.split(",")[0]
  if name in suite.WORKLOADS and "shape" in suite.WORKLOADS[name]:
    if "," in spec:
      raise ValueError(f"the suite workload {name!r} takes no overrides (got {spec!r}); "
                       f"time its config with overrides instead, e.g. "
                       f"{suite.WORKLOADS[name]['spec']},batch_size=128")
    run = suite._jaxgen_run(name, None)
    return run.config, run
  config = load_config(spec)
  return config, None


def time_chunk(config, steps: int, repeats: int, run=None) -> tuple[float, float]:
  """Median seconds per training step (all seeds) of the compiled chunk, and the floating-
  point operations of one step (all seeds) by XLA's cost analysis of the compiled program
  (which counts a loop's body once: the scan over steps, and ``lax.map`` over seeds; and,
  on a mesh, one device's share).
  ``run``: the Run to time (default: ``build_run(config)``)."""
  run = run or build_run(config)
  state = run.init_state()
  inputs = run.chunk_inputs()
  chunk = run.compile_chunk(steps).lower(state, *inputs, jnp.int32(0)).compile()
  cost = chunk.cost_analysis()
  flops = float((cost[0] if isinstance(cost, (list, tuple)) else cost or {}).get("flops", 0.0))
  data, devices = (run.mesh.shape["data"], run.mesh.size) if run.mesh is not None else (1, 1)
  if run.num_seeds > 1 and config.seed_batching == "map":
    # lax.map over seeds is a loop too: its body (one seed, one device's rows) is counted once
    flops *= run.num_seeds * data
  else:
    flops *= devices                # the cost of one device's share of the program
  state, _ = chunk(state, *inputs, jnp.int32(0))
  jax.block_until_ready(state)
  times = []
  for i in range(repeats):
    start = time.perf_counter()
    state, _ = chunk(state, *inputs, jnp.int32((i + 1) * steps))
    jax.block_until_ready(state)
    times.append(time.perf_counter() - start)
  return float(np.median(times)) / steps, flops


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("specs", nargs="+", help="config[,key=value,...]; the first is the reference")
  parser.add_argument("--steps", type=int, default=200, help="steps per compiled call")
  parser.add_argument("--repeats", type=int, default=3, help="timed calls (median)")
  parser.add_argument("--out", help="also write the rows to this JSON file")
  args = parser.parse_args(argv)
  print(f"{machine_line()}; median of {args.repeats} calls of {args.steps} steps")
  reference, rows = None, []
  for spec in args.specs:
    config, run = spec_run(spec)
    sec, flops = time_chunk(config, args.steps, args.repeats, run)
    reference = reference or sec
    rows.append({"spec": spec, "ms_per_step": sec * 1e3, "ratio": sec / reference,
                 "gflop_per_step": flops / 1e9, "num_seeds": config.num_seeds,
                 "num_steps": int(config.num_steps), "run_seconds": sec * config.num_steps})
    print(f"{spec:60s} {sec * 1e3:7.2f} ms/step  {1 / sec:7.1f} steps/s  "
          f"{config.num_seeds} seeds  {config.num_steps} steps ~ {sec * config.num_steps:5.0f} s"
          f"  x{sec / reference:.2f}  {flops / 1e9:6.1f} GFLOP/step"
          f" {flops / sec / 1e12:7.3g} TFLOP/s",
          flush=True)
  if args.out:
    record = {"machine": machine_line(), "date": datetime.date.today().isoformat(),
              "command": "python -m benchmarks.gan_throughput " + " ".join(sys.argv[1:] if argv is None else argv),
              "steps": args.steps, "repeats": args.repeats, "rows": rows}
    with open(args.out, "w") as f:
      json.dump(record, f, indent=1)


if __name__ == "__main__":
  main()
