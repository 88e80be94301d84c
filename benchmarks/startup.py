"""Start-up times: how long a user waits before jaxgen does anything.

    python -m benchmarks.startup --workdir runs/vae_mnist [--repeats 3] [--out results/startup]
    python -m benchmarks.startup --workdir W --trees /path/to/old/checkout .   # before/after

Two figures, each measured in fresh child processes (so that they include the interpreter,
the imports, the data and the compilation) with XLA's persistent compilation cache cold (an
empty cache directory) and warm (the same directory, a second and third process):

* **first step**: seconds from process start to the end of ``vae_mnist``'s first training
  step, as the driver runs it (``jaxgen.train.build_run``, the state at step 0, the
  compiled chunk of one step; the same child as :mod:`benchmarks.suite`'s first-step
  column), with the compilation cache the driver uses;
* **load**: seconds from process start to the first decoded image of a trained workdir
  (``jaxgen.load(workdir).decode(z)``), with whatever compilation cache ``jaxgen.load``
  uses by default (pointed at the child's cache directory through the
  ``JAXGEN_COMPILATION_CACHE`` environment variable; a checkout that ignores the variable
  runs without a cache, cold every time).

``--trees`` runs the same children against other checkouts (``PYTHONPATH`` set to each),
one after the other in this one invocation, so that before/after figures share the
machine and its load. Each figure is the median over ``--repeats``; the JSON holds every
sample. Medians, because these machines are noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------ in the child process
def _child_first_step(cache: str) -> dict:
  import jax
  import jax.numpy as jnp
  from jaxgen import train
  imported = time.time()
  assert os.path.dirname(os.path.dirname(train.__file__)) == os.path.join(os.getcwd(), "jaxgen")
  train.use_compilation_cache(cache)
  from configs import vae_mnist
  run = train.build_run(vae_mnist.get_config())
  built = time.time()
  state = run.init_state()
  jax.block_until_ready(state)
  initialised = time.time()
  chunk = run.compile_chunk(1)
  state, _ = chunk(state, *run.chunk_inputs(), jnp.int32(0))
  jax.block_until_ready(state)
  return {"imports": imported, "build_run": built, "init": initialised, "done": time.time()}


def _child_load(workdir: str) -> dict:
  import jax
  import jax.numpy as jnp
  import jaxgen
  imported = time.time()
  assert os.path.dirname(os.path.dirname(jaxgen.__file__)) == os.getcwd(), jaxgen.__file__
  t = jaxgen.load(workdir)
  loaded = time.time()
  z = jnp.zeros((1, int(t.config.model.latent_dim)), jnp.float32)
  image = t.decode(z)
  jax.block_until_ready(image)
  return {"imports": imported, "load": loaded, "done": time.time()}


def child(kind: str, arg: str) -> None:
  t0 = float(os.environ["JAXGEN_STARTUP_T0"])
  marks = _child_first_step(arg) if kind == "first_step" else _child_load(arg)
  print("RESULT " + json.dumps({k: round(v - t0, 3) for k, v in marks.items()}), flush=True)


# ------------------------------------------------------------------ in the parent
def run_child(tree: str, kind: str, arg: str, cache: str) -> dict:
  env = dict(os.environ, PYTHONPATH=tree, JAXGEN_COMPILATION_CACHE=cache,
             JAXGEN_STARTUP_T0=repr(time.time()))
  cmd = [sys.executable, os.path.abspath(__file__), "--child", kind, arg]
  p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree, timeout=600)
  line = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
  if p.returncode or not line:
    raise RuntimeError(f"{kind} in {tree} failed:\n{p.stderr[-3000:]}")
  return json.loads(line[-1][len("RESULT "):])


def measure(tree: str, workdir: str, repeats: int, log) -> dict:
  out = {}
  for kind in ("first_step", "load"):
    cold, warm = [], []
    for _ in range(repeats):
      with tempfile.TemporaryDirectory(prefix="jaxgen_startup_cache_") as cache:
        arg = cache if kind == "first_step" else os.path.abspath(workdir)
        cold.append(run_child(tree, kind, arg, cache))
        warm.append(run_child(tree, kind, arg, cache))
    out[kind] = {"cold": cold, "warm": warm,
                 "cold_median_s": statistics.median(r["done"] for r in cold),
                 "warm_median_s": statistics.median(r["done"] for r in warm)}
    log(f"  {tree}: {kind:10s} cold {out[kind]['cold_median_s']:5.2f} s, "
        f"warm {out[kind]['warm_median_s']:5.2f} s (median of {repeats})")
  return out


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--workdir", help="a trained vae_mnist workdir (for the load figure)")
  parser.add_argument("--trees", nargs="+", default=[ROOT], help="checkouts to measure")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--out", default="results/startup", help="output folder")
  parser.add_argument("--child", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    return child(*args.child)
  if not args.workdir:
    parser.error("--workdir is required: a trained vae_mnist workdir")
  from benchmarks.cli import machine_line
  log = lambda s: print(s, flush=True)  # noqa: E731
  machine = machine_line()
  log(machine)
  results = {}
  for tree in args.trees:
    tree = os.path.abspath(tree)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=tree).stdout.strip()
    results[tree] = {"commit": commit, **measure(tree, args.workdir, args.repeats, log)}
  os.makedirs(args.out, exist_ok=True)
  record = {"machine": machine, "date": time.strftime("%Y-%m-%d"), "repeats": args.repeats,
            "command": "python -m benchmarks.startup " + " ".join(argv or sys.argv[1:]),
            "results": results}
  with open(os.path.join(args.out, "startup.json"), "w") as f:
    json.dump(record, f, indent=1)
  log(f"wrote {os.path.join(args.out, 'startup.json')}")


if __name__ == "__main__":
  main()
