"""Where a DCGAN step's time goes, layer by layer, in jaxgen and in PyTorch.

    python -m benchmarks.dcgan_layers [--size 64] [--batch 64] [--repeats 7] [--out FILE.json]

For every convolution of the DCGAN at ``--size`` (64: the 64x64x3 networks of
``benchmarks.suite``'s 64x64 workloads; 28: ``dcgan_mnist``), times three passes alone —
the forward pass, the input gradient and the kernel gradient — each jitted on its own
(jaxgen's :mod:`jaxgen.nets.layers` forms, XLA DCE keeping only the gradient asked for) and
with PyTorch's ``F.conv2d`` / ``F.conv_transpose2d`` and ``aten.convolution_backward`` (the
kernels its autograd calls), on the same shapes and threads. Prints ms per pass (median of
``--repeats``), the ratio jaxgen / PyTorch time, and each pass's GFLOP/s, so a gap can be
named op by op. Run it under different ``XLA_FLAGS`` to see what a flag changes where.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.cli import machine_line, write_report
from jaxgen.nets import adversarial, layers


def dcgan_convs(size: int, channels: int, features: int, latent: int) -> list[dict]:
  """The convolutions of jaxgen's DCGAN generator and discriminator at ``size``: name, kind
  ('transpose' or 'conv'), input shape without the batch, kernel shape, stride, padding
  (the layouts of :class:`jaxgen.nets.adversarial.DCGANGenerator` and
  :class:`~jaxgen.nets.adversarial.DCGANDiscriminator`)."""
  convs = []
  start, mults = adversarial.dcgan_generator_layout(size, size)
  g = [(1, latent, mults[0] * features, start, 1, "VALID")]
  h, c = start, mults[0] * features
  for mult in mults[1:]:
    g.append((h, c, mult * features, 4, 2, "SAME"))
    h, c = 2 * h, mult * features
  g.append((h, c, channels, 4, 2, "SAME"))
  for i, (hw, cin, cout, k, s, pad) in enumerate(g):
    convs.append(dict(name=f"G{i + 1} {hw}x{hw}x{cin} -> {cout}", kind="transpose",
                      x=(hw, hw, cin), k=(k, k, cin, cout), s=s, pad=pad))
  hw, cin, block = size, channels, 0
  while block == 0 or hw > 4:                 # the discriminator's blocks: 4x4, stride 2, pad 1
    cout = features * 2 ** min(block, 3)
    convs.append(dict(name=f"D{block + 1} {hw}x{hw}x{cin} -> {cout}", kind="conv",
                      x=(hw, hw, cin), k=(4, 4, cin, cout), s=2, pad=((1, 1), (1, 1))))
    hw, cin, block = (hw + 2 - 4) // 2 + 1, cout, block + 1
  return convs


def _op(conv):
  s = (conv["s"], conv["s"])
  if conv["kind"] == "transpose":
    return lambda x, k: layers.conv_transpose(x, k, s, conv["pad"])
  return lambda x, k: layers.conv2d(x, k, s, conv["pad"])


def _median_ms(fn, repeats: int) -> float:
  fn()
  times = []
  for _ in range(repeats):
    tic = time.perf_counter()
    fn()
    times.append(time.perf_counter() - tic)
  return 1000 * float(np.median(times))


def time_jax(conv: dict, batch: int, repeats: int) -> dict:
  """ms of jaxgen's forward, input-gradient and kernel-gradient passes of one conv."""
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.normal(size=(batch,) + conv["x"]), jnp.float32)
  k = jnp.asarray(rng.normal(size=conv["k"]) * 0.02, jnp.float32)
  op = _op(conv)
  y = op(x, k)
  g = jnp.asarray(rng.normal(size=y.shape), jnp.float32)
  fwd = jax.jit(op)
  dx = jax.jit(lambda x, k, g: jax.vjp(lambda x: op(x, k), x)[1](g)[0])
  dk = jax.jit(lambda x, k, g: jax.vjp(lambda k: op(x, k), k)[1](g)[0])
  out = {}
  for name, fn, args in (("fwd", fwd, (x, k)), ("dx", dx, (x, k, g)), ("dk", dk, (x, k, g))):
    out[name] = _median_ms(lambda: jax.block_until_ready(fn(*args)), repeats)
  out["out_shape"] = list(y.shape)
  return out


def time_torch(conv: dict, batch: int, repeats: int) -> dict | None:
  """The same three passes with PyTorch's kernels (NCHW, as its conv layers run)."""
  try:
    import torch  # lazy: optional (pip install -e '.[bench]')
  except ImportError:
    return None
  import torch.nn.functional as F  # lazy: with torch
  torch.manual_seed(0)
  hw, _, cin = conv["x"]
  kh, kw, _, cout = conv["k"]
  s = conv["s"]
  x = torch.randn(batch, cin, hw, hw)
  transposed = conv["kind"] == "transpose"
  pad = 0 if conv["pad"] == "VALID" else (kh - s) // 2 if transposed else (kh - 1) // 2
  w = torch.randn(cin, cout, kh, kw) * 0.02 if transposed else torch.randn(cout, cin, kh, kw) * 0.02
  if transposed:
    fwd = lambda: F.conv_transpose2d(x, w, stride=s, padding=pad)
  else:
    fwd = lambda: F.conv2d(x, w, stride=s, padding=pad)
  with torch.no_grad():
    y = fwd()
    g = torch.randn_like(y)
    def bwd(mask):
      return lambda: torch.ops.aten.convolution_backward(g, x, w, None, [s, s], [pad, pad], [1, 1],
                                                         transposed, [0, 0], 1, mask)
    out = {"fwd": _median_ms(fwd, repeats), "dx": _median_ms(bwd([True, False, False]), repeats),
           "dk": _median_ms(bwd([False, True, False]), repeats)}
  out["out_shape"] = [batch, y.shape[2], y.shape[3], y.shape[1]]
  return out


def unused(layer: str, part: str) -> bool:
  """Whether a training step never needs this pass: only the generator's first layer's
  input gradient (the gradient with respect to the noise z). The discriminator's first
  layer's input gradient is needed: the generator's update reaches G through it."""
  return part == "dx" and layer.startswith("G1")


def flops(conv: dict, batch: int, out_shape) -> float:
  """Multiply-adds x 2 of one pass: for a transposed conv, every input pixel meets every
  tap; for a conv, every output pixel does."""
  kh, kw, cin, cout = conv["k"]
  pixels = conv["x"][0] * conv["x"][1] if conv["kind"] == "transpose" else out_shape[1] * out_shape[2]
  return 2.0 * batch * pixels * kh * kw * cin * cout


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--size", type=int, default=64, choices=(28, 64))
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--features", type=int, default=64)
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--no-torch", action="store_true", help="jaxgen only")
  parser.add_argument("--out", default="", help="also write the rows as JSON")
  args = parser.parse_args(argv)
  channels = 3 if args.size == 64 else 1
  convs = dcgan_convs(args.size, channels, args.features, 100)
  print(f"{machine_line()}; XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}")
  print(f"DCGAN {args.size}x{args.size}x{channels}, features {args.features}, batch {args.batch}; "
        f"ms per pass, median of {args.repeats} (jaxgen / PyTorch)")
  rows, totals = [], {"jax": 0.0, "torch": 0.0}
  for conv in convs:
    j = time_jax(conv, args.batch, args.repeats)
    t = None if args.no_torch else time_torch(conv, args.batch, args.repeats)
    gf = flops(conv, args.batch, j["out_shape"]) / 1e9
    row = dict(layer=conv["name"], gflop_per_pass=gf, jax=j, torch=t)
    rows.append(row)
    cells = []
    for p in ("fwd", "dx", "dk"):
      if unused(conv["name"], p):
        note = " (unused)"
      else:
        note = ""
        totals["jax"] += j[p]
        totals["torch"] += t[p] if t else 0.0
      ratio = f" {j[p] / t[p]:.2f}x" if t else ""
      cells.append(f"{p} {j[p]:7.2f}/{t[p] if t else float('nan'):7.2f} ms{ratio} "
                   f"({gf / j[p] * 1e3:4.0f} GFLOP/s){note}")
    print(f"{conv['name']:26s} " + " | ".join(cells), flush=True)
  print(f"total of the passes a step needs once (jaxgen / PyTorch): {totals['jax']:.1f} / "
        f"{totals['torch']:.1f} ms")
  report = {"machine": machine_line(), "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "size": args.size, "batch": args.batch, "features": args.features,
            "repeats": args.repeats, "rows": rows, "totals_ms": totals}
  write_report(report, args.out)
  if args.out:
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
      f.write(markdown(report) + "\n")


def markdown(report: dict) -> str:
  """The rows as a markdown table: ms per pass, jaxgen / PyTorch, GFLOP/s (jaxgen)."""
  lines = [f"{report['machine']}; XLA_FLAGS={report['xla_flags']!r}; DCGAN {report['size']}x"
           f"{report['size']}, features {report['features']}, batch {report['batch']}, median of "
           f"{report['repeats']}", "",
           "| layer | GFLOP per pass | forward, ms jaxgen / PyTorch (time ratio) | input gradient | "
           "kernel gradient |", "|---|---|---|---|---|"]
  for r in report["rows"]:
    cells = []
    for p in ("fwd", "dx", "dk"):
      j, t = r["jax"][p], (r["torch"] or {}).get(p)
      cell = f"{j:.1f} / {t:.1f} ({j / t:.2f}×)" if t else f"{j:.1f}"
      cells.append(f"({cell}, unused)" if unused(r["layer"], p) else cell)
    lines.append(f"| {r['layer']} | {r['gflop_per_pass']:.2f} | " + " | ".join(cells) + " |")
  tot = report["totals_ms"]
  if tot.get("torch"):
    lines.append(f"| **all passes a step needs once** | | **{tot['jax']:.0f} / {tot['torch']:.0f} ms "
                 f"({tot['jax'] / tot['torch']:.2f}×)** | | |")
  return "\n".join(lines)


if __name__ == "__main__":
  main()
