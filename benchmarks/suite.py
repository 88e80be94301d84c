"""jaxgen's benchmark suite: training throughput beside PyTorch twins, in one command.

    python -m benchmarks.suite                      # every workload, all implementations
    python -m benchmarks.suite --only vae_mnist dcgan_mnist --out results/benchmarks
    python -m benchmarks.suite --scaling            # throughput against batch size, + plot
    python -m benchmarks.suite --quick              # a short run (checks that it all works)
    python -m benchmarks.suite --paired --only dcgan_mnist   # jaxgen and PyTorch window for window

For each workload it runs, each in a fresh child process (so that the time to the first
step includes the interpreter, the imports and the compilation, and the peak memory is
that workload's alone):

* ``jaxgen``: the compiled, scanned training chunk that ``train.py`` runs
  (:meth:`jaxgen.train.Run.compile_chunk`: many steps per call, all seeds in one program,
  on the run's default mesh: on a CPU the seeds over its cores, :mod:`jaxgen.scale.mesh`);
* ``jit_loop``: the same jaxgen step jitted alone (a chunk of one step) and called from a
  Python loop, all seeds on one device, what a user gets without the scanned loop;
* ``torch``: the PyTorch twin (:mod:`benchmarks.torch_twins`), when torch is installed
  (``pip install -e '.[bench]'``);
* ``jaxgen_bf16`` (the DCGANs, with ``--bf16``): jaxgen's chunk with bfloat16 compute in
  the convolutions (parameters, optimizer states and losses float32).

With ``--paired`` it times instead jaxgen's chunk and the PyTorch twin in one child process,
alternating window for window (the order swapped every round), and reports the ratio of
each round's two windows, their median and range (``OUT/paired.md`` and ``.json``). On a
shared machine whose speed drifts over minutes, one process after the other can see
different machines; a round's two windows see the same one.

Each reports examples/s after compilation as the median of ``--windows`` timed windows
(each synchronised with ``block_until_ready`` / the end of PyTorch's eager work), the
seconds from process start to the first finished step (a one-step program for jaxgen),
and the peak memory (host RSS; on GPU, also the device's peak bytes). Ratios are jaxgen /
reference within this one invocation. Output: a markdown table printed and written to
``OUT/suite.md`` and ``OUT/suite.json`` with the machine, versions and thread settings.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

# Workloads: the jaxgen config spec (benchmarks.cli.load_config), an image shape for random
# data where the config's dataset is not used, and the steps per timed window (for the small
# models the length of the chunk train.py compiles for them, so that the per-call work, such
# as the epoch permutation computed at the start of each chunk, weighs as it does in training).
WORKLOADS = {
    "vae_mnist": dict(spec="vae_mnist", steps=500, twin="vae"),
    "dcgan_mnist": dict(spec="dcgan_mnist", steps=4, twin="dcgan", bf16=True),
    "dcgan64_b64": dict(spec="dcgan_mnist", shape=(64, 64, 3), steps=2, twin="dcgan", bf16=True),
    "dcgan64_b256": dict(spec="dcgan_mnist,batch_size=256", shape=(64, 64, 3), steps=1,
                         twin="dcgan", bf16=True),
    "gan_ring_1seed": dict(spec="gan_ring,num_seeds=1", steps=1000, twin="mlp_gan"),
    "gan_ring_10seeds": dict(spec="gan_ring", steps=500, twin="mlp_gan"),
}
SCALING = {"vae_mnist": (16, 64, 256, 1024), "dcgan_mnist": (16, 64, 256, 1024)}
IMPLS = ("jaxgen", "jit_loop", "torch")


# ------------------------------------------------------------------ in the child process
def _peak_rss_mib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _jaxgen_run(name: str, batch_size: int | None, bf16: bool = False, one_device: bool = False):
  """The :class:`jaxgen.train.Run` of a workload (random images where it names a shape);
  ``one_device``: all seeds on one device (``mesh.runs=1``), as a plain jitted loop has them."""
  import jax
  import jax.numpy as jnp
  from benchmarks.cli import load_config
  from jaxgen import models as models_lib
  from jaxgen.train import build_run, steps
  from jaxgen.scale import mesh as mesh_lib
  from jaxgen.train.run import Run

  w = WORKLOADS[name]
  config = load_config(w["spec"])
  if batch_size:
    config.batch_size = batch_size
  if one_device:
    config.mesh.runs = 1
  if "shape" in w:
    model = models_lib.build(config, w["shape"])
    keys = steps.seed_keys(config)
    n = max(1024, 4 * config.batch_size)
    images = np.random.default_rng(0).integers(0, 256, (n,) + tuple(w["shape"]), np.uint8)
    run = Run(config, None, model, keys, jax.device_put(images), None, mesh_lib.build_mesh(config))
  else:
    run = build_run(config)
  if bf16:
    run.model.G = run.model.G.clone(dtype=jnp.bfloat16)
    run.model.D = run.model.D.clone(dtype=jnp.bfloat16)
  return run


def _jit_loop(run, steps: int):
  """The same jaxgen step, jitted alone and called once per step from Python (all seeds
  vmapped in one call), with each epoch's permutation computed once per epoch: what a
  user writes without jaxgen's scanned chunk."""
  import jax
  import jax.numpy as jnp
  from jaxgen import batching
  from jaxgen.data import pipeline
  from jaxgen.train.steps import make_step_at
  n = batching.num_rows(run.train_x)
  spe = pipeline.steps_per_epoch(n, int(run.config.batch_size))
  step_at = make_step_at(run.model, run.config)

  def step(state, train_x, perm, t, train_key):
    return step_at(state, train_x, perm, t, train_key)[0]

  def perm(data_key, epoch):
    return pipeline.epoch_permutation(data_key, epoch, n)
  if run.num_seeds > 1:
    step, perm = jax.vmap(step, in_axes=(0, None, 0, None, 0)), jax.vmap(perm, in_axes=(0, None))
  step, perm = jax.jit(step, donate_argnums=0), jax.jit(perm)
  train_x, train_key, data_key = run.chunk_inputs()
  cache = {}

  def window(state, start):
    for t in range(start, start + steps):
      epoch = t // spe
      if epoch not in cache:
        cache.clear()
        cache[epoch] = perm(data_key, jnp.int32(epoch))
      state = step(state, train_x, cache[epoch], jnp.int32(t), train_key)
    return state
  return window


def _time_jaxgen(name, impl, steps, windows, batch_size, t0):
  import jax
  import jax.numpy as jnp
  run = _jaxgen_run(name, batch_size, bf16=impl == "jaxgen_bf16", one_device=impl == "jit_loop")
  inputs = run.chunk_inputs()
  state = run.place_state(run.init_state())  # as train.py: the chunk compiles once
  one = run.compile_chunk(1)
  state, _ = one(state, *inputs, jnp.int32(0))
  jax.block_until_ready(state)
  first = time.time() - t0
  start = 1
  if impl == "jit_loop":
    window = _jit_loop(run, steps)
  else:
    chunk = run.compile_chunk(steps)
    def window(state, start):
      return chunk(state, *inputs, jnp.int32(start))[0]
  times = []
  if windows == 0:                                   # the time to the first step only
    return dict(times=times, first_step_s=first, batch=int(run.config.batch_size),
                seeds=run.num_seeds, flops_per_step=None, device_peak_mib=None)
  state = window(state, start)                       # compiles (jaxgen) / warms up (loop)
  jax.block_until_ready(state)
  start += steps
  for _ in range(windows):
    tic = time.perf_counter()
    state = window(state, start)
    jax.block_until_ready(state)
    times.append(time.perf_counter() - tic)
    start += steps
  flops = None
  if impl == "jaxgen" and run.num_seeds == 1:
    cost = run.compile_chunk(1).lower(run.init_state(), *inputs, jnp.int32(0)).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops = float((cost or {}).get("flops", 0.0)) or None
  device = jax.devices()[0]
  stats = device.memory_stats() if device.platform != "cpu" else None
  return dict(times=times, first_step_s=first, batch=int(run.config.batch_size),
              seeds=run.num_seeds, flops_per_step=flops,
              seed_devices=int(run.mesh.shape["runs"]),
              device_peak_mib=(stats or {}).get("peak_bytes_in_use", 0) / 2**20 or None)


def _torch_step(name, batch_size, device):
  """The PyTorch twin of a workload: (one training step, sync, batch, seeds)."""
  import torch
  from benchmarks import torch_twins
  torch.manual_seed(0)
  w = WORKLOADS[name]
  from benchmarks.cli import load_config
  config = load_config(w["spec"])
  if batch_size:
    config.batch_size = batch_size
  b = int(config.batch_size)
  if "shape" in w:
    data = np.random.default_rng(0).integers(0, 256, (max(1024, 4 * b),) + tuple(w["shape"]), np.uint8)
  else:
    from jaxgen.data import load_dataset
    data = load_dataset(config.dataset).train
  if w["twin"] == "vae":
    step = torch_twins.vae_trainer(data, b, config.learning_rate, config.model.latent_dim,
                                   config.model.hidden[0], device=device)
  elif w["twin"] == "dcgan":
    step = torch_twins.dcgan_trainer(data, b, config.learning_rate, config.model.latent_dim,
                                     config.gan.features, device=device)
  else:
    step = torch_twins.mlp_gan_trainer(data, b, int(config.num_seeds), config.learning_rate,
                                       config.model.latent_dim, tuple(config.model.hidden),
                                       tuple(config.gan.d_hidden), int(config.num_steps),
                                       device=device)
  sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
  return step, sync, b, int(config.num_seeds)


def _torch_window(step, sync, steps: int) -> float:
  """Seconds for ``steps`` steps of a twin, its (GPU) work finished."""
  tic = time.perf_counter()
  for _ in range(steps):
    step()
  sync()
  return time.perf_counter() - tic


def _time_torch(name, steps, windows, batch_size, t0, device):
  import torch
  step, sync, b, seeds = _torch_step(name, batch_size, device)
  step()
  sync()
  first = time.time() - t0
  _torch_window(step, sync, steps)                  # warms up
  times = [_torch_window(step, sync, steps) for _ in range(windows)]
  peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
  return dict(times=times, first_step_s=first, batch=b, seeds=seeds,
              flops_per_step=None, device_peak_mib=peak, torch_threads=torch.get_num_threads())


def _time_paired(name, steps, windows, batch_size, device):
  """jaxgen's chunk and the PyTorch twin in one process, window for window: each round
  times one window of each, the order alternating between rounds, so that both see the
  same machine (on a shared machine the speed drifts by 10-20% over minutes, more than
  the gaps measured). Returns both window times per round."""
  import jax
  import jax.numpy as jnp
  import torch
  run = _jaxgen_run(name, batch_size)
  inputs = run.chunk_inputs()
  state = run.place_state(run.init_state())
  chunk = run.compile_chunk(steps)
  start = 0
  step, sync, b, seeds = _torch_step(name, batch_size, device)

  def jaxgen_window():
    nonlocal state, start
    tic = time.perf_counter()
    state = chunk(state, *inputs, jnp.int32(start))[0]
    jax.block_until_ready(state)
    start += steps
    return time.perf_counter() - tic

  def torch_window():
    return _torch_window(step, sync, steps)

  jaxgen_window()                                   # compiles
  torch_window()                                    # warms up
  jaxgen_times, torch_times = [], []
  for r in range(windows):
    order = (jaxgen_window, torch_window) if r % 2 == 0 else (torch_window, jaxgen_window)
    timed = {f: f() for f in order}
    jaxgen_times.append(timed[jaxgen_window])
    torch_times.append(timed[torch_window])
  return dict(times=jaxgen_times, torch_times=torch_times, batch=b, seeds=seeds,
              seed_devices=int(run.mesh.shape["runs"]), torch_threads=torch.get_num_threads())


def child(args) -> None:
  """Times one (workload, implementation) and prints one JSON line."""
  t0 = float(os.environ.get("JAXGEN_BENCH_T0", time.time()))
  if args.impl != "torch" and os.environ.get("JAXGEN_BENCH_CACHE"):
    from jaxgen.train import use_compilation_cache
    use_compilation_cache(os.environ["JAXGEN_BENCH_CACHE"])
  if args.impl == "torch":
    out = _time_torch(args.workload, args.steps, args.windows, args.batch_size, t0, args.torch_device)
  elif args.impl == "paired":
    out = _time_paired(args.workload, args.steps, args.windows, args.batch_size, args.torch_device)
  else:
    out = _time_jaxgen(args.workload, args.impl, args.steps, args.windows, args.batch_size, t0)
  out["peak_rss_mib"] = _peak_rss_mib()
  print("RESULT " + json.dumps(out), flush=True)


# ------------------------------------------------------------------ in the parent
def environment() -> dict:
  """The machine, versions and thread settings every figure belongs to."""
  import jax
  from jaxgen.train.outputs import cpu_info
  env = {"cpu": cpu_info(), "cores": os.cpu_count(), "python": platform.python_version(),
         "jax": jax.__version__, "backend": jax.default_backend(),
         "device": jax.devices()[0].device_kind,
         "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
         "threads": {"jax": "XLA:CPU's Eigen pool, one thread per core (the default)",
                     "torch": f"torch.set_num_threads default = {os.cpu_count()} cores "
                              f"(intra-op); the same cores for both"}}
  try:
    import torch
    env["torch"] = torch.__version__
    env["torch_threads"] = torch.get_num_threads()
  except ImportError:
    env["torch"] = None
  return env


def run_child(workload: str, impl: str, steps: int, windows: int, batch_size: int | None,
              torch_device: str, timeout: float, cache_dir: str = "") -> dict | None:
  """Runs one child process; ``cache_dir``: XLA's persistent compilation cache for it
  (as ``train.py`` uses one), '' for none."""
  cmd = [sys.executable, "-m", "benchmarks.suite", "--child", workload, impl,
         "--steps", str(steps), "--windows", str(windows), "--torch-device", torch_device]
  if batch_size:
    cmd += ["--batch-size", str(batch_size)]
  env = dict(os.environ, JAXGEN_BENCH_CACHE=cache_dir, JAXGEN_BENCH_T0=repr(time.time()))
  try:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  except subprocess.TimeoutExpired:
    print(f"  {workload} {impl}: timed out after {timeout:.0f} s", flush=True)
    return None
  lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
  if proc.returncode != 0 or not lines:
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    print(f"  {workload} {impl}: failed ({' | '.join(tail)})", flush=True)
    return None
  return summarize(json.loads(lines[-1][len("RESULT "):]), steps)


def summarize(out: dict, steps: int) -> dict:
  """A child's window times as rates: examples/s and ms per step (medians over windows);
  for a paired child also the twin's and the ratio of each round's windows (jaxgen's
  rate / PyTorch's = PyTorch's time / jaxgen's)."""
  if not out["times"]:
    return out
  per_window = out["batch"] * out["seeds"] * steps
  rates = [per_window / t for t in out["times"]]
  out.update(steps=steps, examples_per_s=float(np.median(rates)),
             ms_per_step=1000 * float(np.median(out["times"])) / steps)
  if "torch_times" in out:                          # paired: the ratio of each round's windows
    ratios = [t / j for j, t in zip(out["times"], out["torch_times"])]
    out.update(torch_examples_per_s=float(np.median([per_window / t for t in out["torch_times"]])),
               torch_ms_per_step=1000 * float(np.median(out["torch_times"])) / steps,
               ratios=ratios, ratio_median=float(np.median(ratios)))
  if out.get("flops_per_step"):
    out["gflop_per_s"] = out["flops_per_step"] / out["ms_per_step"] / 1e6
  return out


def cpu_line(cpu: dict) -> str:
  """'AMD EPYC (family 25, model 17; AVX-512, avx512_bf16)': the processor a row belongs to."""
  ext = cpu.get("vector_extensions", [])
  isa = ("AVX-512" + (", avx512_bf16" if "avx512_bf16" in ext else "")
         if any(e.startswith("avx512") for e in ext) else "AVX2, no AVX-512" if "avx2" in ext
         else "no AVX2")
  ids = (f"family {cpu['family']}, model {cpu['model_number']}; "
         if "family" in cpu and "model_number" in cpu else "")
  return f"{cpu.get('model', '?')} ({ids}{isa})"


def _fmt_rate(x):
  return "—" if x is None else (f"{x / 1000:.1f}k" if x >= 10_000 else f"{x:.0f}")


def table(results: dict, env: dict) -> str:
  lines = [f"CPU: {cpu_line(env['cpu'])}, {env['cores']} cores; jax {env['jax']} "
           f"({env['backend']}, {env['device']}); torch {env.get('torch')} "
           f"({env.get('torch_threads')} threads)", "",
           "| workload | batch × seeds | jaxgen ex/s | per-step jit ex/s | PyTorch ex/s | "
           "jaxgen / PyTorch | jaxgen / jit loop | first step (jaxgen / PyTorch) | "
           "peak RSS MiB (jaxgen / PyTorch) | XLA GFLOP/s |",
           "|---|---|---|---|---|---|---|---|---|---|"]
  for name, r in results.items():
    j, l, t = r.get("jaxgen"), r.get("jit_loop"), r.get("torch")
    if not j:
      continue
    rate = lambda x: x["examples_per_s"] if x else None
    ratio = lambda a, b: f"{a['examples_per_s'] / b['examples_per_s']:.2f}×" if a and b else "—"
    warm = f" ({j['first_step_warm_s']:.1f} s cached)" if j.get("first_step_warm_s") else ""
    first = f"{j['first_step_s']:.1f} s{warm} / " + (f"{t['first_step_s']:.1f} s" if t else "—")
    rss = f"{j['peak_rss_mib']:.0f} / " + (f"{t['peak_rss_mib']:.0f}" if t else "—")
    gf = f"{j['gflop_per_s']:.0f}" if j.get("gflop_per_s") else "—"
    rows = f" (over {j['seed_devices']} devices)" if j.get("seed_devices", 1) > 1 else ""
    lines.append(f"| `{name}` | {j['batch']} × {j['seeds']}{rows} | {_fmt_rate(rate(j))} | "
                 f"{_fmt_rate(rate(l))} | {_fmt_rate(rate(t))} | {ratio(j, t)} | {ratio(j, l)} | "
                 f"{first} | {rss} | {gf} |")
  bf = [(n, r) for n, r in results.items() if r.get("jaxgen_bf16") and r.get("jaxgen")]
  if bf:
    lines += ["", "| workload | float32 ex/s | bfloat16 compute ex/s | bf16 / f32 |", "|---|---|---|---|"]
    for n, r in bf:
      a, b = r["jaxgen"]["examples_per_s"], r["jaxgen_bf16"]["examples_per_s"]
      lines.append(f"| `{n}` | {_fmt_rate(a)} | {_fmt_rate(b)} | {b / a:.2f}× |")
  return "\n".join(lines)


def paired_table(results: dict, env: dict) -> str:
  """The paired rounds (``--paired``): per workload the medians of both and the ratio of
  each round's windows (jaxgen's rate / PyTorch's), median and range."""
  lines = [f"CPU: {cpu_line(env['cpu'])}, {env['cores']} cores; jax {env['jax']} "
           f"({env['backend']}, {env['device']}); torch {env.get('torch')} "
           f"({env.get('torch_threads')} threads); jaxgen's chunk and the PyTorch twin "
           "alternating window for window in one process", "",
           "| workload | batch × seeds | rounds × steps | jaxgen ex/s | PyTorch ex/s | "
           "jaxgen / PyTorch, median of rounds | lowest – highest round |",
           "|---|---|---|---|---|---|---|"]
  for name, r in results.items():
    p = r.get("paired")
    if not p:
      continue
    rows = f" (over {p['seed_devices']} devices)" if p.get("seed_devices", 1) > 1 else ""
    lines.append(f"| `{name}` | {p['batch']} × {p['seeds']}{rows} | {len(p['ratios'])} × {p['steps']} | "
                 f"{_fmt_rate(p['examples_per_s'])} | {_fmt_rate(p['torch_examples_per_s'])} | "
                 f"{p['ratio_median']:.2f}× | {min(p['ratios']):.2f}× – {max(p['ratios']):.2f}× |")
  return "\n".join(lines)


def scaling_plot(scaling: dict, path: str, env: dict) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  fig, axes = plt.subplots(1, len(scaling), figsize=(5 * len(scaling), 3.8))
  for ax, (name, rows) in zip(np.atleast_1d(axes), scaling.items()):
    for impl, style in (("jaxgen", "o-"), ("torch", "s--"), ("jit_loop", "^:")):
      pts = [(int(b), r[impl]["examples_per_s"]) for b, r in sorted(rows.items(), key=lambda x: int(x[0]))
             if r.get(impl)]
      if pts:
        ax.plot(*zip(*pts), style, label={"torch": "PyTorch twin", "jit_loop": "per-step jax.jit"}.get(impl, impl))
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(int(b) for b in rows), [str(b) for b in sorted(int(b) for b in rows)])
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("training examples / s")
    ax.set_title(name)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
  fig.suptitle(f"{cpu_line(env['cpu'])}, {env['cores']} cores ({env['backend']})", fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--only", nargs="+", choices=sorted(WORKLOADS), help="workloads to run")
  parser.add_argument("--impls", nargs="+", default=list(IMPLS), choices=IMPLS + ("jaxgen_bf16",))
  parser.add_argument("--bf16", action="store_true", help="also time bfloat16 compute (DCGANs)")
  parser.add_argument("--windows", type=int, help="timed windows (median; default 3, "
                      "with --paired 9 rounds)")
  parser.add_argument("--paired", action="store_true",
                      help="jaxgen's chunk and the PyTorch twin in one process, alternating "
                           "window for window: the ratio of each round (paired.md / .json)")
  parser.add_argument("--steps-scale", type=float, default=1.0, help="multiply steps per window")
  parser.add_argument("--scaling", action="store_true", help="throughput against batch size")
  parser.add_argument("--quick", action="store_true", help="2 short windows (a smoke test)")
  parser.add_argument("--torch-device", default="cpu", help="cpu or cuda for the twins")
  parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child")
  parser.add_argument("--out", default="results/benchmarks", help="output folder")
  parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "IMPL"), help=argparse.SUPPRESS)
  parser.add_argument("--steps", type=int, help=argparse.SUPPRESS)
  parser.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    args.workload, args.impl = args.child
    return child(args)

  names = args.only or list(WORKLOADS)
  impls = list(args.impls) + (["jaxgen_bf16"] if args.bf16 else [])
  try:
    import torch  # noqa: F401
  except ImportError:
    if "torch" in impls:
      print("torch is not installed: the PyTorch twins are skipped "
            "(pip install -e '.[bench]' to add them)")
      impls.remove("torch")
  windows = 2 if args.quick else args.windows or (9 if args.paired else 3)
  scale = 0.25 if args.quick else args.steps_scale
  env = environment()
  os.makedirs(args.out, exist_ok=True)
  print(f"{cpu_line(env['cpu'])}, {env['cores']} cores, jax {env['jax']} on {env['backend']}, "
        f"torch {env.get('torch')}; {windows} windows per figure", flush=True)

  jobs = []
  if args.paired:
    if args.scaling:
      parser.error("--paired and --scaling are separate runs: give one of them")
    if "torch" not in impls:
      parser.error("--paired times jaxgen beside the PyTorch twins: install torch "
                   "(pip install -e '.[bench]')")
    for name in names:
      jobs.append((name, "paired", max(1, int(round(WORKLOADS[name]["steps"] * scale))), None))
  elif args.scaling:
    for name, batches in SCALING.items():
      if args.only and name not in args.only:
        continue
      for b in batches:
        steps = max(1, int(round(WORKLOADS[name]["steps"] * scale * (128 if name == "vae_mnist" else 64) / b)))
        for impl in [i for i in impls if i in IMPLS]:
          jobs.append((name, impl, steps, b))
  else:
    for name in names:
      steps = max(1, int(round(WORKLOADS[name]["steps"] * scale)))
      for impl in impls:
        if impl == "jaxgen_bf16" and not WORKLOADS[name].get("bf16"):
          continue
        jobs.append((name, impl, steps, None))

  results: dict = {}
  for name, impl, steps, b in jobs:
    tic = time.time()
    with tempfile.TemporaryDirectory() as cache:
      # jaxgen as train.py runs it: with a compilation cache, cold here (the first run of
      # a config) and warm in a second process (every later run of it).
      r = run_child(name, impl, steps, windows, b, args.torch_device, args.timeout,
                    cache if impl == "jaxgen" else "")
      if r and impl == "jaxgen" and not args.scaling:
        warm = run_child(name, impl, steps, 0, b, args.torch_device, args.timeout, cache)
        r["first_step_warm_s"] = warm["first_step_s"] if warm else None
    key = str(b) if b else None
    slot = results.setdefault(name, {})
    if key:
      slot = slot.setdefault(key, {})
    slot[impl] = r
    if r and impl == "paired":
      print(f"  {name:18s} paired       {'b=' + str(r['batch']):7s} jaxgen {r['examples_per_s']:10.1f} ex/s, "
            f"PyTorch {r['torch_examples_per_s']:10.1f} ex/s, ratio {r['ratio_median']:.2f}x "
            f"(rounds {min(r['ratios']):.2f}-{max(r['ratios']):.2f})  ({time.time() - tic:.0f} s)", flush=True)
    elif r:
      print(f"  {name:18s} {impl:12s} {'b=' + str(r['batch']):7s} {r['examples_per_s']:10.1f} ex/s "
            f"{r['ms_per_step']:9.2f} ms/step  first step {r['first_step_s']:5.1f} s  "
            f"RSS {r['peak_rss_mib']:6.0f} MiB  ({time.time() - tic:.0f} s)", flush=True)

  stem = "scaling" if args.scaling else "paired" if args.paired else "suite"
  with open(os.path.join(args.out, f"{stem}.json"), "w") as f:
    json.dump({"environment": env, "windows": windows, "results": results}, f, indent=1)
  if args.scaling:
    scaling_plot(results, os.path.join(args.out, "scaling.png"), env)
    print(f"wrote {args.out}/scaling.json and scaling.png")
  else:
    md = paired_table(results, env) if args.paired else table(results, env)
    with open(os.path.join(args.out, f"{stem}.md"), "w") as f:
      f.write(md + "\n")
    print("\n" + md + f"\n\nwrote {args.out}/{stem}.md and {stem}.json")


if __name__ == "__main__":
  main()
