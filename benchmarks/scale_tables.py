"""How jaxgen's models grow from 1 to 1,000 devices: the tables of docs/scale.md.

    python -m benchmarks.scale_tables [--out results/scale/scale_tables.md] [--models vae_mnist,...]
        [--no-sharded] [--utilization 0.4]

For each model, built as the trainer builds it (``jaxgen.train.prepare``: the config's
dataset, ``models.build``; the step ``jaxgen.train.steps.make_step_at``: gather from the
on-device split, preprocess, ``model.train_step``), compiled, never run:

* trainable parameters of every player (a GAN's G and D) and the gradient bytes all-reduced
  per step (float32 and bfloat16; a player updated k times per step counts k times);
* FLOPs per example of one training step by XLA's cost analysis, the difference of the
  step at two batch sizes (so the optimizer update and other fixed work drop out), and
  XLA's temporary buffers per example (``memory_analysis``, same difference);
* with 8 host devices (``--xla_force_host_platform_device_count=8``, set below before jax is
  imported; ``--no-sharded`` skips it): the step partitioned over a ``data`` axis of 8 as
  ``jaxgen.scale.mesh`` partitions it; its per-device FLOPs beside the ideal split and the
  all-reduces in the compiled program.

Then the crossover model of docs/scale.md (data parallelism on n devices, per-device batch
b): compute ``T_c = b F / (P u)``, ring all-reduce ``T_ar = 2 (n-1)/n G / BW + k 2 (n-1)
alpha`` (k: all-reduces that must run one after another: 1 for a VAE, 2 for a GAN or
pix2pix, whose G step needs D's update), the per-device batch ``b*`` where they are equal,
the all-reduce share ``T_ar / (T_ar + T_c)`` (no overlap) for b in 32..512; the input rate
a host of 8 devices must deliver, beside host-side gathers measured here (numpy on one
core, ``timeit``, median; jaxgen's jitted gather on this machine's XLA backend); the
device memory of each training split; FSDP and bfloat16 gradients. Hardware figures and
their sources: :data:`SOURCES`. Prints markdown; ``--out`` also writes it to a file.
About 4 minutes on a 2-core CPU (compilation of 15 programs).
"""
from __future__ import annotations

import os
import sys

if __name__ == "__main__" and "--no-sharded" not in sys.argv:
  # 8 host devices for the partitioned step; must be set before jax is imported
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                             " --xla_force_host_platform_device_count=8").strip()

import argparse
import dataclasses
import datetime
import math
import re
import timeit
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from benchmarks.cli import load_config, machine_line
from jaxgen.data import pipeline
from jaxgen.data.preprocess import preprocess_batch
from jaxgen.scale import mesh as mesh_lib
from jaxgen.train import steps
from jaxgen.train.run import prepare

MODELS = ("vae_mnist", "vae_conv_mnist", "dcgan_stacked", "pix2pix_sr_photos",
          "pix2pix_sr_digits")
FLOP_BATCHES = (64, 256)          # the per-example figure is the difference of these two
BATCHES = (32, 64, 128, 256, 512)  # per-device batches of the crossover tables
SHARDED_DEVICES, SHARDED_BATCH = 8, 64
HOST_DEVICES = 8                   # accelerators per host: an HGX node, a v5e host
ADAM_BYTES_PER_PARAM = 16          # fp32 params + grads + Adam m + v

# Hardware figures: vendor values (dense, no sparsity) and where they were read.
SOURCES = {
    "h100": "NVIDIA H100 datasheet table as reproduced at "
            "https://archive-lib.hpctech.co.jp/gpuproduct/nvidia-h100.html (SXM: FP32 67, "
            "TF32 989 and BF16 1,979 TFLOP/s *with sparsity*, \"1/2 lower without\"; NVLink "
            "900 GB/s; 80 GB) and https://glennklockwood.com/garden/processors/h100 (dense "
            "TF32 494.7, BF16 989.4, FP32 66.9 TFLOP/s)",
    "h200": "NVIDIA's own MLPerf system description "
            "https://raw.githubusercontent.com/mlcommons/inference_results_v4.1/main/closed/"
            "NVIDIA/systems/H200-SXM-141GBx8_TRT_MaxQ.json (\"18x 4th Gen NVLink, 900GB/s\", "
            "141 GB HBM3e); 4.8 TB/s HBM from third-party spec pages (unverified at nvidia.com)",
    "ndr": "https://docs.nvidia.com/networking/display/ConnectX7VPI/Introduction "
           "(ConnectX-7: single-port NDR 400 Gb/s)",
    "v5e": "https://docs.cloud.google.com/tpu/docs/v5e (197 TFLOP/s bf16 per chip; 16 GB HBM, "
           "819 GB/s; ICI 1,600 Gbps = 400 GB/s bidirectional per chip over 4 ports; 8 chips "
           "per host; 256-chip pod, 2D torus; 2 x 100 Gbps NIC per host)",
    "jax_precision": "https://docs.jax.dev/en/latest/201/precision.html (float32 dots and "
                     "convolutions run as TF32 on recent GPUs and bfloat16 on TPU by default)",
}


# ---------------------------------------------------------------------- the hardware
@dataclasses.dataclass(frozen=True)
class Link:
  """One level of a collective: ``bandwidth`` bytes/s each device sends (one direction),
  ``alpha`` seconds per hop (an assumption: see docs/scale.md)."""
  name: str
  bandwidth: float
  alpha: float


NVLINK4 = Link("NVLink 4", 450e9, 5e-6)        # 900 GB/s bidirectional per GPU
IB_NDR = Link("IB NDR", 50e9, 10e-6)            # 400 Gb/s per GPU (one NIC per GPU)
ICI_V5E = Link("ICI", 200e9, 5e-6)              # 1,600 Gbps = 200 GB/s out, over 4 ports
DCN_V5E = Link("DCN", 25e9 / 8, 20e-6)          # 2 x 100 Gbps per host of 8 chips


@dataclasses.dataclass(frozen=True)
class Fabric:
  """How ``n`` devices all-reduce: levels (group size, link) from the innermost out; the
  data of level i is the gradient divided by the group sizes inside it (reduce-scatter
  inside, all-reduce of the shard across, all-gather inside: the same bytes per link as a
  flat ring over the inner group)."""
  name: str
  levels: tuple[tuple[int, Link], ...]

  @property
  def devices(self) -> int:
    return math.prod(g for g, _ in self.levels)


@dataclasses.dataclass(frozen=True)
class System:
  """An accelerator at one precision: peak FLOP/s, bytes per gradient element, HBM bytes,
  HBM bandwidth, and its fabric for 8, 64 and 1,024 devices."""
  name: str
  peak: float
  grad_bytes: int
  hbm: float
  hbm_bandwidth: float
  fabrics: tuple[Fabric, ...]


def _gpu_fabrics() -> tuple[Fabric, ...]:
  return (Fabric("8, NVLink", ((8, NVLINK4),)), Fabric("64, IB", ((64, IB_NDR),)),
          Fabric("1024, IB", ((1024, IB_NDR),)))


SYSTEMS = (
    System("H100/H200 SXM, fp32 as TF32", 494.7e12, 4, 80e9, 3.35e12, _gpu_fabrics()),
    System("H100/H200 SXM, bf16 compute + grads", 989.4e12, 2, 80e9, 3.35e12, _gpu_fabrics()),
    System("TPU v5e, fp32 (bf16 passes)", 197e12, 4, 16e9, 819e9,
           (Fabric("8, ICI", ((8, ICI_V5E),)), Fabric("64, ICI", ((64, ICI_V5E),)),
            Fabric("1024 = 4 pods, ICI + DCN", ((256, ICI_V5E), (4, DCN_V5E))))),
)

# One H200 data point: dcgan_mnist (features 64, batch 64), 221.2 steps/s over its best
# 250-step window (results/gpu_h200_2026-11-27/dcgan/metrics.jsonl, shared with four other
# jobs), 22.6 GFLOP per step by XLA's count (docs/performance.md).
H200_DCGAN_MNIST = {"steps_per_sec": 221.2, "flop_per_step": 22.6e9}
MEASURED_UTILIZATION = (H200_DCGAN_MNIST["steps_per_sec"] * H200_DCGAN_MNIST["flop_per_step"]
                        / SYSTEMS[0].peak)


def allreduce_seconds(num_bytes: float, fabric: Fabric, phases: int,
                      latency: str = "ring") -> float:
  """Seconds to all-reduce ``num_bytes`` per device over ``fabric`` in ``phases``
  all-reduces run one after another (their bytes summed): bandwidth term
  2 (g-1)/g bytes / BW per level, latency term phases x 2 (g-1) alpha ('ring') or
  phases x 2 ceil(log2 g) alpha ('tree')."""
  total, shard = 0.0, float(num_bytes)
  for g, link in fabric.levels:
    hops = (g - 1) if latency == "ring" else math.ceil(math.log2(g))
    total += 2 * (g - 1) / g * shard / link.bandwidth + phases * 2 * hops * link.alpha
    shard /= g
  return total


def compute_seconds(batch: float, flops_per_example: float, system: System, u: float) -> float:
  return batch * flops_per_example / (system.peak * u)


# ---------------------------------------------------------------------- the models
@dataclasses.dataclass
class ModelFigures:
  """What one config's training step costs, from its compiled programs."""
  name: str
  kind: str
  params: dict[str, int]            # trainable parameters per player
  updates: dict[str, int]           # optimizer updates per step per player
  flops: dict[int, float]           # global batch -> XLA flops of one step
  temp: dict[int, float]            # global batch -> XLA temporary bytes of one step
  example_shapes: tuple[tuple[int, ...], ...]   # uint8 arrays of one training example
  num_train: int
  split_bytes: int
  batch_stats: int                  # BatchNorm statistics (elements)
  sharded: dict | None = None

  @property
  def num_params(self) -> int:
    return sum(self.params.values())

  @property
  def phases(self) -> int:
    """All-reduces per step that must run one after another (one per player update)."""
    return sum(self.updates.values())

  def grad_bytes(self, bytes_per_element: int = 4) -> int:
    return sum(self.params[k] * self.updates[k] for k in self.params) * bytes_per_element

  @property
  def flops_per_example(self) -> float:
    (b1, f1), (b2, f2) = sorted(self.flops.items())
    return (f2 - f1) / (b2 - b1)

  @property
  def fixed_flops(self) -> float:
    b1, f1 = min(self.flops.items())
    return f1 - b1 * self.flops_per_example

  @property
  def temp_per_example(self) -> float:
    (b1, t1), (b2, t2) = sorted(self.temp.items())
    return (t2 - t1) / (b2 - b1)

  @property
  def example_bytes(self) -> int:
    return sum(math.prod(s) for s in self.example_shapes)


def _first(cost: Any) -> dict:
  """``cost_analysis()`` is a dict in recent jax, a list of one dict per program in older."""
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else {}
  return dict(cost or {})


def _players(state) -> dict[str, Any]:
  """``{player: params}``: one TrainState's params, or a GAN/pix2pix state's G and D."""
  if hasattr(state, "generator"):
    return {"G": state.generator.params, "D": state.discriminator.params}
  return {"model": state.params}


def _count(tree) -> int:
  return sum(math.prod(x.shape) for x in jax.tree.leaves(tree))


def _split_specs(dataset, model) -> tuple[Any, tuple[tuple[int, ...], ...], int]:
  """Shape specs of the training split as the trainer holds it on the device (uint8;
  ``{"x", "cond"}`` for pix2pix), the uint8 shapes of one example, the split's bytes."""
  x = jax.ShapeDtypeStruct(dataset.train.shape, dataset.train.dtype)
  shapes, nbytes = [dataset.train.shape[1:]], dataset.train.nbytes
  if model.condition == "image":
    c = dataset.train_inputs
    shapes.append(c.shape[1:])
    nbytes += c.nbytes
    x = {"x": x, "cond": jax.ShapeDtypeStruct(c.shape, c.dtype)}
  elif model.condition == "label":
    x = {"x": x, "cond": jax.ShapeDtypeStruct(dataset.train_labels.shape, jnp.int32)}
  return x, tuple(tuple(s) for s in shapes), int(nbytes)


def _step_args(state, train_x, num_train: int) -> tuple:
  key = jax.eval_shape(lambda: jax.random.PRNGKey(0))
  return (state, train_x, jax.ShapeDtypeStruct((num_train,), jnp.int32),
          jax.ShapeDtypeStruct((), jnp.int32), key)


def _shape_bytes(text: str) -> int:
  sizes = {"f32": 4, "s32": 4, "u32": 4, "bf16": 2, "f16": 2, "f64": 8, "u8": 1, "pred": 1}
  total = 0
  for dtype, dims in re.findall(r"\b(f32|s32|u32|bf16|f16|f64|u8|pred)\[([\d,]*)\]", text):
    total += sizes[dtype] * math.prod(int(d) for d in dims.split(",") if d)
  return total


def all_reduces(hlo_text: str) -> list[int]:
  """Bytes of each all-reduce in a compiled module's text (sync or async start)."""
  out = []
  for line in hlo_text.splitlines():
    m = re.search(r"=\s*(.*?)\s+all-reduce(?:-start)?\(", line)
    if m:
      out.append(_shape_bytes(m.group(1)))
  return out


def measure_model(name: str, sharded: bool = True,
                  log: Callable[[str], None] = print) -> ModelFigures:
  """Compiles the training step of config ``name`` at the batches of FLOP_BATCHES (and,
  with ``sharded``, partitioned over 8 host devices) and returns its figures."""
  config = load_config(name)
  dataset, model = prepare(config)
  state = jax.eval_shape(model.init, jax.random.PRNGKey(0))
  players = _players(state)
  params = {k: _count(v) for k, v in players.items()}
  updates = {k: 1 for k in params}
  if "D" in updates:
    adversarial = getattr(model, "adversarial", True)
    updates["D"] = int(getattr(model, "d_steps", 1)) if adversarial else 0
  stats = _count(state.generator.batch_stats) + _count(state.discriminator.batch_stats) \
      if hasattr(state, "generator") else _count(state.batch_stats)
  train_x, shapes, nbytes = _split_specs(dataset, model)
  num_train = int(dataset.train.shape[0])
  flops, temp = {}, {}
  for b in FLOP_BATCHES:
    config.batch_size = b
    compiled = jax.jit(steps.make_step_at(model, config)).lower(
        *_step_args(state, train_x, num_train)).compile()
    flops[b] = float(_first(compiled.cost_analysis()).get("flops", 0.0))
    mem = compiled.memory_analysis()
    temp[b] = float(getattr(mem, "temp_size_in_bytes", 0) or 0)
    log(f"  {name}: batch {b}: {flops[b] / 1e9:.3f} GFLOP, temp {temp[b] / 2**20:.1f} MiB")
  kind = {"vae": f"VAE ({config.model.net})", "gan": f"GAN ({config.model.net})",
          "pix2pix": "pix2pix (U-Net + PatchGAN)"}.get(config.model.name, config.model.name)
  fig = ModelFigures(name, kind, params, updates, flops, temp, shapes, num_train, nbytes, stats)
  if sharded:
    fig.sharded = measure_sharded(config, model, state, train_x, num_train, fig)
    if fig.sharded:
      log(f"  {name}: {SHARDED_DEVICES} devices: {fig.sharded['flops'] / 1e9:.3f} GFLOP per "
          f"device, {len(fig.sharded['all_reduces'])} all-reduces")
  return fig


def measure_sharded(config, model, state, train_x, num_train: int,
                    fig: ModelFigures) -> dict | None:
  """The step at global batch SHARDED_BATCH partitioned as jaxgen.scale.mesh does (batch
  rows over ``data``, state and split replicated) over 8 CPU devices: per-device flops and
  the all-reduces of the compiled program. None where there are fewer than 8 CPU devices."""
  cpus = jax.devices("cpu")
  if len(cpus) < SHARDED_DEVICES:
    return None
  mesh = Mesh(np.array(cpus[:SHARDED_DEVICES]).reshape(1, SHARDED_DEVICES),
              (mesh_lib.RUNS, mesh_lib.DATA))
  config.batch_size = SHARDED_BATCH
  config.mesh.data = SHARDED_DEVICES
  same = NamedSharding(mesh, P())
  fn = mesh_lib.OnMesh(jax.jit(steps.make_step_at(model, config), in_shardings=(same,) * 5,
                               out_shardings=(same, same)), mesh)
  compiled = fn.lower(*_step_args(state, train_x, num_train)).compile()
  flops = float(_first(compiled.cost_analysis()).get("flops", 0.0))
  ideal = fig.fixed_flops + fig.flops_per_example * SHARDED_BATCH / SHARDED_DEVICES
  return {"flops": flops, "ideal": ideal, "single": fig.fixed_flops
          + fig.flops_per_example * SHARDED_BATCH, "all_reduces": all_reduces(compiled.as_text())}


# ---------------------------------------------------------------------- host-side input
def numpy_gather_seconds(shapes: Sequence[tuple[int, ...]], batch: int, repeat: int = 7) -> float:
  """Median seconds (``timeit``, ``repeat`` runs) of one batch on one core: random row
  indices, a gather from uint8 arrays of ``shapes`` (one array per shape, e.g. target and
  input image) larger than the last-level cache, and the uint8 -> float32 conversion."""
  rng = np.random.default_rng(0)
  per = sum(math.prod(s) for s in shapes)
  num = int(min(60_000, max(4 * batch, (256 << 20) // per)))
  arrays = [rng.integers(0, 256, (num,) + tuple(s), dtype=np.uint8) for s in shapes]
  scale = np.float32(1 / 255)

  def one():
    idx = rng.integers(0, num, batch)
    return [a[idx].astype(np.float32) * scale for a in arrays]

  timer = timeit.Timer(one)
  number, _ = timer.autorange()
  return float(np.median(timer.repeat(repeat, number))) / number


def jaxgen_gather_seconds(shapes: Sequence[tuple[int, ...]], batch: int, repeat: int = 7,
                          steps_per_call: int = 16) -> float:
  """Median seconds per batch of jaxgen's own gather (``pipeline.batch_at`` from the
  device-resident uint8 split, then ``preprocess_batch`` 'unit') on this machine's default
  device: ``steps_per_call`` batches per jitted call (a scan, as in the training chunk),
  each added into a float32 buffer of the batch's shape (so the converted batch is
  written, as numpy writes it, without a stacked output XLA:CPU is slow to write)."""
  rng = np.random.default_rng(0)
  per = sum(math.prod(s) for s in shapes)
  num = int(min(60_000, max(4 * batch, (256 << 20) // per)))
  arrays = [rng.integers(0, 256, (num,) + tuple(s), dtype=np.uint8) for s in shapes]
  data = jax.device_put(arrays[0] if len(arrays) == 1 else {"x": arrays[0], "cond": arrays[1]})
  perm = jax.random.permutation(jax.random.PRNGKey(0), num)
  key = jax.random.PRNGKey(1)

  def one(data, perm, t):
    return preprocess_batch(pipeline.batch_at(data, perm, t, batch), key, "unit")

  @jax.jit
  def gather(data, perm, start):
    def body(acc, t):
      return jax.tree.map(jnp.add, acc, one(data, perm, t)), None
    init = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype),
                        jax.eval_shape(one, data, perm, start))
    return jax.lax.scan(body, init, start + jnp.arange(steps_per_call))[0]

  jax.block_until_ready(gather(data, perm, 0))
  calls = iter(range(10**9))
  timer = timeit.Timer(lambda: jax.block_until_ready(gather(data, perm, next(calls))))
  number, _ = timer.autorange()
  return float(np.median(timer.repeat(repeat, number))) / number / steps_per_call


# ---------------------------------------------------------------------- formatting
def _si(x: float, unit: str = "", digits: int = 3) -> str:
  for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
    if abs(x) >= factor:
      return f"{x / factor:.{digits}g} {prefix}{unit}"
  return f"{x:.{digits}g} {unit}".strip()


def _us(seconds: float) -> str:
  return f"{seconds * 1e6:,.0f} µs" if seconds >= 1e-4 else f"{seconds * 1e6:.1f} µs"


def _bstar(x: float) -> str:
  return f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
  return "\n".join(lines) + "\n"


def model_table(figs: Sequence[ModelFigures]) -> str:
  rows = []
  for f in figs:
    players = " + ".join(f"{k} {v:,}" for k, v in f.params.items()) if len(f.params) > 1 \
        else f"{f.num_params:,}"
    rows.append((f"`{f.name}`", f.kind, players, f"{f.num_params:,}",
                 _si(f.grad_bytes(4), "B"), _si(f.grad_bytes(2), "B"), f.phases,
                 _si(f.flops_per_example, "FLOP"),
                 f"{f.flops_per_example / (6 * f.num_params):.2f}",
                 _si(f.fixed_flops, "FLOP"), _si(f.temp_per_example, "B"),
                 f"{f.batch_stats:,}"))
  return _table(("config", "model", "trainable params per player", "total params",
                 "G per step, fp32", "G, bf16", "k (sequential all-reduces)",
                 "F = FLOPs/example (XLA)", "F / (6 x params)", "fixed FLOPs/step",
                 "XLA temp bytes/example", "BatchNorm stats"), rows)


def crossover_table(f: ModelFigures, u: float, u_low: float) -> str:
  rows = []
  for s in SYSTEMS:
    g = f.grad_bytes(s.grad_bytes)
    for fab in s.fabrics:
      t_ar = allreduce_seconds(g, fab, f.phases)
      t_tree = allreduce_seconds(g, fab, f.phases, "tree")
      per_ex = compute_seconds(1, f.flops_per_example, s, u)
      shares = [t_ar / (t_ar + compute_seconds(b, f.flops_per_example, s, u)) for b in BATCHES]
      rows.append((s.name, fab.name, _us(t_ar), _bstar(t_ar / per_ex),
                   _bstar(t_ar / per_ex * u_low / u), _bstar(t_tree / per_ex),
                   *[f"{x:.0%}" for x in shares]))
  return _table(("system", "n, fabric", "T_ar (ring)", f"b* (u={u:g})",
                 f"b* (u={u_low:.2g})", f"b* tree latency (u={u:g})",
                 *[f"b={b}" for b in BATCHES]), rows)


def input_table(figs: Sequence[ModelFigures], gathers: dict[str, dict], u: float,
                u_low: float) -> str:
  s = SYSTEMS[0]
  rows = []
  for f in figs:
    g = gathers[f.name]
    ceiling = HOST_DEVICES * s.peak * u / f.flops_per_example
    low = ceiling * u_low / u
    t = compute_seconds(128, f.flops_per_example, s, u) + allreduce_seconds(
        f.grad_bytes(4), s.fabrics[0], f.phases)
    at128 = HOST_DEVICES * 128 / t
    np_rate = 128 / g["numpy"]
    rows.append((f"`{f.name}`", f"{f.example_bytes:,}", _si(ceiling, "ex/s"),
                 _si(ceiling * f.example_bytes, "B/s"), _si(low, "ex/s"), _si(at128, "ex/s"),
                 _si(np_rate, "ex/s"), f"{ceiling / np_rate:,.0f} / {low / np_rate:,.1f}",
                 _si(128 / g["jaxgen"], "ex/s"),
                 _si(s.hbm_bandwidth / (5 * f.example_bytes), "ex/s")))
  return _table(("config", "uint8 bytes/example", f"host ceiling 8 P u / F (u={u:g})",
                 "as uint8", f"ceiling (u={u_low:.2g})", f"at b=128, n=8 NVLink (u={u:g})",
                 "numpy gather, 1 core, b=128", f"cores needed (u={u:g} / {u_low:.2g})",
                 "jaxgen gather here, b=128", "on-device gather, HBM bound (H100)"), rows)


def reference_gather_table(gathers: dict[str, dict]) -> str:
  rows = []
  for label, g in gathers.items():
    rows.append((label, g["batch"], f"{g['bytes']:,}", _us(g["numpy"]),
                 _si(g["batch"] / g["numpy"], "ex/s"),
                 _si(g["batch"] * g["bytes"] / g["numpy"], "B/s"), _us(g["jaxgen"]),
                 _si(g["batch"] / g["jaxgen"], "ex/s")))
  return _table(("example shape(s), uint8", "batch", "bytes/example", "numpy, 1 core: per batch",
                 "numpy ex/s", "numpy uint8 B/s", "jaxgen gather: per batch",
                 "jaxgen ex/s"), rows)


def memory_table(figs: Sequence[ModelFigures]) -> str:
  rows = []
  for f in figs:
    state = ADAM_BYTES_PER_PARAM * f.num_params
    fits = []
    for hbm in (80e9, 141e9, 16e9):
      fits.append(f"{0.5 * hbm / f.example_bytes / 1e6:,.0f} M")
    b_max = [(hbm - state - f.split_bytes) / f.temp_per_example for hbm in (80e9, 16e9)]
    rows.append((f"`{f.name}`", f"{f.num_train:,}", _si(f.split_bytes, "B"),
                 f"{f.split_bytes / 80e9:.2e} / {f.split_bytes / 16e9:.2e}", *fits,
                 _si(state, "B"), _si(state / 8, "B"), _si(state / 64, "B"),
                 f"{b_max[0]:,.0f} / {b_max[1]:,.0f}"))
  return _table(("config", "training examples", "split on each device (uint8)",
                 "share of 80 GB / 16 GB", "examples fitting in half of 80 GB",
                 "... of 141 GB", "... of 16 GB (v5e)", "params+grads+Adam (16 B/param)",
                 "FSDP over 8", "FSDP over 64", "largest per-device batch, 80 / 16 GB"), rows)


def sharded_table(figs: Sequence[ModelFigures]) -> str:
  """The partitioned step as compiled, beside the ideal split; T_ar of the model (k
  all-reduces of all gradients) and of the compiled program (its all-reduces, their bytes)
  on 8 GPUs over NVLink and 1,024 over IB."""
  rows = []
  nvl, _, ib = SYSTEMS[0].fabrics
  for f in figs:
    sh = f.sharded
    if not sh:
      continue
    ar = sh["all_reduces"]
    t = [(allreduce_seconds(f.grad_bytes(4), fab, f.phases),
          allreduce_seconds(sum(ar), fab, len(ar))) for fab in (nvl, ib)]
    rows.append((f"`{f.name}`", _si(sh["single"], "FLOP"), _si(sh["ideal"], "FLOP"),
                 _si(sh["flops"], "FLOP"), f"{sh['single'] / sh['flops']:.2f}x",
                 f"{len(ar)}", _si(sum(ar), "B"), _si(f.grad_bytes(4), "B"),
                 *[f"{_us(a)} / {_us(b)}" for a, b in t]))
  if not rows:
    return "(skipped: fewer than 8 CPU devices; run without --no-sharded)\n"
  return _table(("config", "1 device, batch 64", f"ideal per device (batch 64 / {SHARDED_DEVICES})",
                 "measured per device", "speed-up of the work", "all-reduces in the program",
                 "their bytes", "all params' grads (fp32)", "T_ar n=8 NVLink: model / program",
                 "T_ar n=1024 IB: model / program"), rows)


def changes_table(figs: Sequence[ModelFigures], u: float) -> str:
  """b* at n=1024 on IB for fp32 grads vs bf16 grads (same TF32 compute), and the
  all-reduce share at b=512 vs b=2048."""
  s = SYSTEMS[0]
  fab = s.fabrics[2]
  rows = []
  for f in figs:
    per_ex = compute_seconds(1, f.flops_per_example, s, u)
    t32 = allreduce_seconds(f.grad_bytes(4), fab, f.phases)
    t16 = allreduce_seconds(f.grad_bytes(2), fab, f.phases)
    bw32 = allreduce_seconds(f.grad_bytes(4), fab, 0)
    bw16 = allreduce_seconds(f.grad_bytes(2), fab, 0)
    share = lambda b, t: t / (t + b * per_ex)
    rows.append((f"`{f.name}`", _us(bw32), _us(bw16), _us(t32 - bw32), _bstar(t32 / per_ex),
                 _bstar(t16 / per_ex), f"{share(512, t32):.0%}", f"{share(2048, t32):.0%}",
                 f"{share(8192, t32):.0%}"))
  return _table(("config", "bandwidth term fp32", "bandwidth term bf16", "latency term (ring)",
                 "b* fp32 grads", "b* bf16 grads", "share at b=512", "b=2048", "b=8192"), rows)


REFERENCE_SHAPES = {"MNIST 28x28x1": ((28, 28, 1),), "64x64x3": ((64, 64, 3),)}


def build_report(figs: Sequence[ModelFigures], u: float, gathers: dict[str, dict],
                 model_gathers: dict[str, dict]) -> str:
  u_low = MEASURED_UTILIZATION
  parts = [f"<!-- generated by `python -m benchmarks.scale_tables` on "
           f"{datetime.date.today().isoformat()}; {machine_line()} -->", "",
           "### Models (compiled on this machine, XLA cost analysis)", "", model_table(figs)]
  parts += [f"### Crossover: all-reduce share T_ar / (T_ar + T_c) at per-device batch b "
            f"(u = {u:g}; b* also at u = {u_low:.2g}, the H200 DCGAN figure)", ""]
  for f in figs:
    parts += [f"#### `{f.name}`: {f.num_params:,} params, {_si(f.flops_per_example, 'FLOP')}"
              f"/example, k = {f.phases}", "", crossover_table(f, u, u_low)]
  parts += ["### bf16 gradients and bigger batches (H100/H200, TF32 compute, n = 1024 on IB)",
            "", changes_table(figs, u)]
  parts += ["### Input: host-side gather throughput measured here", "",
            reference_gather_table(gathers), "",
            f"### Input: what a host of {HOST_DEVICES} H100/H200 must deliver (TF32 peak)", "",
            input_table(figs, model_gathers, u, u_low)]
  parts += ["### Device memory: the training split on every device, the training state", "",
            memory_table(figs)]
  parts += [f"### jaxgen's data-parallel step today: partitioned over {SHARDED_DEVICES} host "
            f"devices (XLA:CPU), global batch {SHARDED_BATCH}", "", sharded_table(figs)]
  return "\n".join(parts)


def main(argv=None) -> None:
  p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  p.add_argument("--out", default=None, help="also write the markdown here")
  p.add_argument("--models", default=",".join(MODELS), help="comma-separated config names")
  p.add_argument("--utilization", type=float, default=0.4, help="u of the crossover model")
  p.add_argument("--no-sharded", action="store_true",
                 help="skip the step partitioned over 8 host devices")
  args = p.parse_args(argv)
  log = lambda s: print(s, file=sys.stderr, flush=True)
  log(machine_line())
  figs = []
  for name in args.models.split(","):
    figs.append(measure_model(name, sharded=not args.no_sharded, log=log))
  wanted = dict(REFERENCE_SHAPES)
  for f in figs:
    if f.example_shapes not in wanted.values():
      wanted[" + ".join("x".join(map(str, s)) for s in f.example_shapes)] = f.example_shapes
  gathers = {}
  for label, shapes in wanted.items():
    gathers[label] = {"batch": 128, "bytes": sum(math.prod(s) for s in shapes), "shapes": shapes,
                      "numpy": numpy_gather_seconds(shapes, 128),
                      "jaxgen": jaxgen_gather_seconds(shapes, 128)}
    log(f"  gather {label}: numpy {gathers[label]['numpy'] * 1e6:.0f} µs, "
        f"jaxgen {gathers[label]['jaxgen'] * 1e6:.0f} µs per batch of 128")
  model_gathers = {f.name: next(g for g in gathers.values() if g["shapes"] == f.example_shapes)
                   for f in figs}
  report = build_report(figs, args.utilization, gathers, model_gathers)
  print(report)
  if args.out:
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
      fh.write(report)


if __name__ == "__main__":
  main()
