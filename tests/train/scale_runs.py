"""Training runs on meshes of forced CPU devices, for tests/train/test_scale.py.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python tests/train/scale_runs.py OUT WORK

(a script, not a test module: the device count must be fixed before JAX starts, so it runs
in its own process). Writes ``OUT`` (JSON): for each named run its final parameters' hash,
the largest parameter difference from its reference run, its eval.json and how many times
its training chunk was traced. ``WORK`` receives the workdirs (the 4-device VAE run is the
reference of the multi-process tests).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time

import jax
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))   # tests/ (conftest's helpers)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))   # the repository

from conftest import _load_config, _tiny  # noqa: E402
from jaxgen.train import steps  # noqa: E402
from jaxgen.train.loop import train  # noqa: E402

TRACES = {"n": 0}
_make = steps.make_train_chunk


def _counting_make(*args, **kwargs):
  fn = _make(*args, **kwargs)

  def counted(*a):
    TRACES["n"] += 1      # Python runs only while JAX traces: once per compilation
    return fn(*a)
  return counted


steps.make_train_chunk = _counting_make
_make_streamed = steps.make_streamed_chunk


def _counting_make_streamed(*args, **kwargs):
  fn = _make_streamed(*args, **kwargs)

  def counted(*a):
    TRACES["n"] += 1
    return fn(*a)
  return counted


steps.make_streamed_chunk = _counting_make_streamed

# The multi-process tests' config (test_scale.MP_OVERRIDES): the tiny MLP VAE.
VAE = {"batch_size": 48, "num_steps": 40, "checkpoint_every": 10, "log_every": 10,
       "eval_every": 40, "keep_checkpoints": 10}
GAN = {"batch_size": 48, "num_steps": 20, "model.hidden": (32,), "gan.d_hidden": (32,),
       "model.latent_dim": 4}


def run(name: str, config_name: str, overrides: dict, work: str) -> dict:
  config = _tiny(_load_config(config_name), **overrides)
  TRACES["n"] = 0
  t0 = time.perf_counter()
  state, result = train(config, os.path.join(work, name), log=lambda s: None)
  seconds = time.perf_counter() - t0
  leaves = [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]
  digest = hashlib.sha256(b"".join(x.tobytes() for x in leaves)).hexdigest()
  return {"leaves": leaves, "hash": digest, "eval": result, "traces": TRACES["n"],
          "seconds": seconds}


def per_device_flops(config_name: str, overrides: dict) -> float:
  """XLA's FLOPs of one device's share of the training chunk as the trainer compiles it."""
  from jaxgen.train import run as run_lib
  config = _tiny(_load_config(config_name), **overrides)
  r = run_lib.build_run(config)
  cost = r.compile_chunk(10).lower(r.place_state(r.init_state()), *r.chunk_inputs(),
                                   np.int32(0)).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  return float(cost["flops"])


def streamed_shares() -> dict:
  """The seeds and rows of a streamed call's batches that the first and the last 4 of the 8
  devices hold (what each of two 4-device processes reads), for two meshes."""
  from jax.sharding import Mesh
  devices = jax.devices()
  out = {}
  for name, (runs, data, seeds) in {"data8": (1, 8, 1), "runs4_data2": (4, 2, 4)}.items():
    mesh = Mesh(np.array(devices).reshape(runs, data), ("runs", "data"))
    sharding = steps.batches_sharding(mesh, seeds)
    shape = ((seeds,) if seeds > 1 else ()) + (5, 48, 28, 28, 1)
    out[name] = [[[s.start, s.stop] for s in steps.local_slices(sharding, shape, seeds, half)]
                 for half in (devices[:4], devices[4:])]
  return out


def main(out: str, work: str) -> None:
  assert jax.device_count() == 8, jax.devices()
  runs = {
      "vae_1": ("vae_mnist", {**VAE, "mesh.data": 1}),
      "vae_4": ("vae_mnist", {**VAE, "mesh.data": 4}),
      "vae_8": ("vae_mnist", {**VAE, "mesh.data": 8}),
      "gan_1": ("gan_mnist", {**GAN, "mesh.data": 1}),
      "gan_8": ("gan_mnist", {**GAN, "mesh.data": 8}),
      "seeds_1": ("gan_mnist", {**GAN, "num_seeds": 4, "mesh.data": 1}),
      "seeds_runs4": ("gan_mnist", {**GAN, "num_seeds": 4, "mesh.runs": 4, "mesh.data": 1}),
      "seeds_runs4_data2": ("gan_mnist", {**GAN, "num_seeds": 4, "mesh.runs": 4,
                                          "mesh.data": 2}),
      # the training split streamed from host memory (jaxgen.data.streaming)
      "vae_8_host": ("vae_mnist", {**VAE, "mesh.data": 8, "dataset.stream": "host"}),
      "seeds_runs4_data2_host": ("gan_mnist", {**GAN, "num_seeds": 4, "mesh.runs": 4,
                                               "mesh.data": 2, "dataset.stream": "host"}),
  }
  reference = {"vae_4": "vae_1", "vae_8": "vae_1", "gan_8": "gan_1", "seeds_runs4": "seeds_1",
               "seeds_runs4_data2": "seeds_1", "vae_8_host": "vae_8",
               "seeds_runs4_data2_host": "seeds_runs4_data2"}
  results = {name: run(name, *spec, work) for name, spec in runs.items()}
  report = {}
  for name, r in results.items():
    entry = {"hash": r["hash"], "eval": r["eval"], "traces": r["traces"],
             "seconds": r["seconds"]}
    if name in reference:
      ref = results[reference[name]]
      entry["reference"] = reference[name]
      entry["max_param_diff"] = max(float(np.max(np.abs(a.astype(np.float64) - b)))
                                    for a, b in zip(r["leaves"], ref["leaves"]))
      entry["max_param_scale"] = max(float(np.max(np.abs(b))) for b in ref["leaves"])
    report[name] = entry
  # each device computes only its rows: the whole batch's work is divided by the devices
  report["flops"] = {f"gan_{n}": per_device_flops("gan_mnist", {**GAN, "batch_size": 64,
                                                                 "mesh.data": n})
                     for n in (1, 8)}
  report["local_slices"] = streamed_shares()
  with open(out, "w") as f:
    json.dump(report, f, indent=1)


if __name__ == "__main__":
  main(sys.argv[1], sys.argv[2])
