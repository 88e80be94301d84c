"""Where a training step's time goes, by kind of XLA operation, from a profiler trace.

    python -m benchmarks.step_profile SPEC [--steps 2] [--top 25] [--out FILE.json]

SPEC as in ``benchmarks.gan_throughput`` (a config with overrides, or a suite workload on
random images such as ``dcgan64_b64``). Builds the training chunk of ``--steps`` steps as
the trainer does, runs it twice (compile, warm-up), then once inside ``jax.profiler.trace``
and sums the trace's operation events (XLA:CPU's thunks: fusions, reductions, copies, ...)
by kind — the name without its numeric suffix — printing each kind's time per step, its
count per step and its share of the step.

Read it with two facts in mind: the operations run on two threads, so kinds overlapping in
time can add up past the step; and XLA:CPU's Eigen convolutions and matrix products record
only their launch in the trace, not their work (a 20 ms convolution shows as a few
microseconds), so ``step - the listed total`` is mostly convolution time: use
``benchmarks.dcgan_layers`` for those. What the trace does show well is the rest: a
reduction XLA runs in its own loop (``wrapped_reduce-window``: BatchNorm's statistics, 136 ms
of a 1.10 s 64x64 DCGAN step until jaxgen's XLA default kept YNNPACK's reductions), layout
copies (``transpose_copy_fusion``), the elementwise fusions.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

import jax
import jax.numpy as jnp

from benchmarks.cli import machine_line, write_report
from benchmarks.gan_throughput import spec_run
from jaxgen.train import build_run

# trace events that are not operations: the runtime's own spans and Python's
_NOT_OPS = ("$", "ThunkExecutor", "PjitFunction", "SlinkyThreadPool")


def op_kinds(events: list[dict]) -> dict[str, dict]:
  """Complete ('X') trace events summed by operation kind (the name without a trailing
  ``.N``): {kind: {"us": total microseconds, "count": events}}, largest first; runtime and
  Python spans left out."""
  kinds: dict[str, dict] = collections.defaultdict(lambda: {"us": 0.0, "count": 0})
  for e in events:
    name = e.get("name", "")
    if e.get("ph") != "X" or name.startswith(_NOT_OPS):
      continue
    kind = re.sub(r"\.\d+$", "", name)
    kinds[kind]["us"] += float(e.get("dur", 0.0))
    kinds[kind]["count"] += 1
  return dict(sorted(kinds.items(), key=lambda kv: -kv[1]["us"]))


def profile(spec: str, steps: int) -> dict:
  """Times the chunk of ``steps`` steps of SPEC once more inside a profiler trace: the
  step's wall time and its operations by kind."""
  config, run = spec_run(spec)
  run = run or build_run(config)
  inputs = run.chunk_inputs()
  state = run.place_state(run.init_state())
  chunk = run.compile_chunk(steps)
  start = 0
  for _ in range(2):                                       # compile, warm up
    state, _ = chunk(state, *inputs, jnp.int32(start))
    jax.block_until_ready(state)
    start += steps
  with tempfile.TemporaryDirectory() as folder:
    jax.profiler.start_trace(folder)
    tic = time.perf_counter()
    state, _ = chunk(state, *inputs, jnp.int32(start))
    jax.block_until_ready(state)
    seconds = time.perf_counter() - tic
    jax.profiler.stop_trace()
    traces = glob.glob(os.path.join(folder, "**", "*.trace.json.gz"), recursive=True)
    if not traces:
      raise RuntimeError(f"jax.profiler wrote no trace.json.gz under {folder}")
    with gzip.open(traces[0]) as f:
      events = json.load(f)["traceEvents"]
  kinds = op_kinds(events)
  return {"spec": spec, "steps": steps, "ms_per_step": 1e3 * seconds / steps,
          "kinds": {k: {"ms_per_step": v["us"] / 1e3 / steps, "per_step": v["count"] / steps}
                    for k, v in kinds.items()}}


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("spec", help="config[,key=value,...] or a suite workload (dcgan64_b64)")
  parser.add_argument("--steps", type=int, default=2, help="steps in the traced call")
  parser.add_argument("--top", type=int, default=25, help="kinds to print")
  parser.add_argument("--out", default="", help="also write the result as JSON")
  args = parser.parse_args(argv)
  print(machine_line(), flush=True)
  r = profile(args.spec, args.steps)
  listed = sum(v["ms_per_step"] for v in r["kinds"].values())
  print(f"{args.spec}: {r['ms_per_step']:.1f} ms per step (traced, {args.steps} steps); "
        f"operations listed: {listed:.1f} ms per step (convolutions and Eigen matrix "
        f"products count their launch only)")
  for kind, v in list(r["kinds"].items())[:args.top]:
    print(f"{v['ms_per_step']:9.2f} ms {v['per_step']:7.1f}x {100 * v['ms_per_step'] / r['ms_per_step']:5.1f}%  {kind}")
  flags = os.environ.get("XLA_FLAGS", "")
  r.update(machine=machine_line(), date=datetime.date.today().isoformat(), xla_flags=flags,
           command="python -m benchmarks.step_profile " + " ".join(argv if argv is not None else sys.argv[1:]))
  write_report(r, args.out)


if __name__ == "__main__":
  main()
