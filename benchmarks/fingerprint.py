"""Fingerprints of training runs: what a change of code must leave bit-for-bit the same.

    python -m benchmarks.fingerprint --out results/fingerprints/NAME.json [--quick] [CONFIG ...]
    python -m benchmarks.fingerprint --compare A.json B.json

For each shipped config (default: all of them), runs ``train.py`` as a user does, then
``--mode sample``, and records: the final ``eval.json``, the train/eval scalars of
``metrics.jsonl`` (without the wall-clock ``steps_per_sec``), a SHA-256 of every array of
the final checkpoint (read with orbax directly) and of ``samples.npy``. It imports nothing
from jaxgen and drives only ``train.py``, so the same script fingerprints any commit (the
one before a change and the one after it). Every config
runs for a few hundred steps (200, log/eval/checkpoint every 100, K = 100 importance
samples; the PacGAN configs with 2 seeds); ``vae_mnist`` and ``gan_ring`` also run at full
length (``--quick`` skips those two).

``--compare`` reports every difference between two fingerprint files and exits 1 if there
is any. The state arrays are compared as a multiset of hashes of the floating-point arrays
(parameters, optimizer moments, batch statistics), so that a change in how the state is
nested does not hide or fake an equality; integer counters are listed separately.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHORT = ["--config.num_steps=200", "--config.log_every=100", "--config.eval_every=100",
         "--config.checkpoint_every=100", "--config.eval.nll_samples=100"]
EXTRA = {"gan_ring_pacgan": ["--config.num_seeds=2"], "gan_grid_pacgan": ["--config.num_seeds=2"]}
FULL = ("vae_mnist", "gan_ring")


def shipped_configs() -> list[str]:
  return sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
                if not os.path.basename(p).startswith("_"))


def _hash(a: np.ndarray) -> str:
  a = np.ascontiguousarray(a)
  h = hashlib.sha256(f"{a.dtype}{a.shape}".encode())
  h.update(a.tobytes())
  return h.hexdigest()[:24]


def _leaves(tree, prefix=""):
  if isinstance(tree, dict):
    for k in sorted(tree):
      yield from _leaves(tree[k], f"{prefix}/{k}")
  elif isinstance(tree, (list, tuple)):
    for i, v in enumerate(tree):
      yield from _leaves(v, f"{prefix}/{i}")
  elif tree is not None:
    yield prefix, np.asarray(tree)


def checkpoint_hashes(workdir: str) -> dict:
  """Hashes of the arrays of the latest checkpoint in ``workdir/checkpoints``."""
  import orbax.checkpoint as ocp
  ckpt = os.path.join(workdir, "checkpoints")
  step = max(int(n) for n in os.listdir(ckpt) if n.isdigit())
  tree = ocp.StandardCheckpointer().restore(os.path.join(ckpt, str(step), "default"))
  floats, ints = [], {}
  for path, a in _leaves(tree):
    if np.issubdtype(a.dtype, np.floating):
      floats.append(_hash(a))
    else:
      ints[path] = a.tolist()
  return {"step": step, "float_arrays": sorted(floats), "int_arrays": ints}


def run_config(name: str, full: bool, log) -> dict:
  args = [] if full else SHORT + EXTRA.get(name, [])
  with tempfile.TemporaryDirectory(prefix=f"fp_{name}_") as work:
    base = [sys.executable, os.path.join(ROOT, "train.py"), "--config",
            os.path.join(ROOT, "configs", f"{name}.py"), "--workdir", work,
            "--config.progress=False", *args]
    t0 = time.perf_counter()
    for mode in ("train", "sample"):
      p = subprocess.run(base + [f"--mode={mode}"], capture_output=True, text=True, cwd=ROOT)
      if p.returncode:
        raise RuntimeError(f"{name} --mode {mode} failed:\n{p.stderr[-3000:]}")
    seconds = time.perf_counter() - t0
    with open(os.path.join(work, "eval.json")) as f:
      eval_json = json.load(f)
    scalars = []
    with open(os.path.join(work, "metrics.jsonl")) as f:
      for line in f:
        row = json.loads(line)
        row.pop("train/steps_per_sec", None)
        scalars.append(row)
    samples = np.load(os.path.join(work, "samples.npy"))
    out = {"args": args, "eval": eval_json, "metrics": scalars, "state": checkpoint_hashes(work),
           "samples": _hash(samples), "seconds": round(seconds, 1)}
  log(f"{name}{' (full)' if full else ''}: {seconds:.0f} s, step {out['state']['step']}, "
      f"{len(out['state']['float_arrays'])} float arrays")
  return out


def machine() -> dict:
  cpu = ""
  try:
    with open("/proc/cpuinfo") as f:
      text = f.read()
    cpu = next((l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("model name")), "")
    flags = next((l.split(":", 1)[1].split() for l in text.splitlines() if l.startswith("flags")), [])
    ext = sorted(f for f in flags if f.startswith(("avx", "fma", "sse4")))
  except OSError:
    ext = []
  commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=ROOT).stdout.strip()
  return {"cpu": cpu or platform.processor(), "vector_extensions": ext, "commit": commit}


def _canon(x):
  return json.dumps(x, sort_keys=True)     # NaN entries (a std over an inf) compare equal


def compare(a: dict, b: dict) -> list[str]:
  """Every difference between two fingerprint files (runs present in both)."""
  out = []
  for name in sorted(set(a["runs"]) | set(b["runs"])):
    if name not in a["runs"] or name not in b["runs"]:
      out.append(f"{name}: only in {'the first' if name in a['runs'] else 'the second'} file")
      continue
    ra, rb = a["runs"][name], b["runs"][name]
    for key in ("eval", "metrics", "samples"):
      if _canon(ra[key]) != _canon(rb[key]):
        out.append(f"{name}: {key} differs")
    if ra["state"]["float_arrays"] != rb["state"]["float_arrays"]:
      diff = len(set(ra["state"]["float_arrays"]) ^ set(rb["state"]["float_arrays"]))
      out.append(f"{name}: final state differs ({diff} array hashes not in both)")
    if ra["state"]["step"] != rb["state"]["step"]:
      out.append(f"{name}: latest checkpoint step {ra['state']['step']} vs {rb['state']['step']}")
  return out


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("configs", nargs="*", help="config names (default: all shipped configs)")
  parser.add_argument("--out", help="where to write the fingerprints (JSON)")
  parser.add_argument("--quick", action="store_true", help="skip the full-length runs")
  parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two files")
  args = parser.parse_args(argv)
  if args.compare:
    with open(args.compare[0]) as f, open(args.compare[1]) as g:
      a, b = json.load(f), json.load(g)
    diffs = compare(a, b)
    for d in diffs:
      print(d)
    print(f"{len(set(a['runs']) & set(b['runs']))} runs compared "
          f"({a['machine']['commit']} vs {b['machine']['commit']}): "
          f"{'bit-identical' if not diffs else f'{len(diffs)} differences'}")
    sys.exit(1 if diffs else 0)
  if not args.out:
    parser.error("--out is required (or --compare A B)")
  names = args.configs or shipped_configs()
  runs = {}
  log = lambda s: print(s, flush=True)  # noqa: E731
  for name in names:
    runs[name] = run_config(name, False, log)
    if name in FULL and not args.quick:
      runs[f"{name}:full"] = run_config(name, True, log)
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump({"machine": machine(), "runs": runs}, f, indent=1, sort_keys=True)
  log(f"wrote {args.out}")


if __name__ == "__main__":
  main()
