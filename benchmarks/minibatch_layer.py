"""The minibatch-discrimination layer's time and memory as the batch grows.

    python -m benchmarks.minibatch_layer [--batches 64 256 1024 4096] [--repeats 7] [--out FILE.json]

For each batch size N, times the similarity sums o_b(i) = sum_j exp(-||M_ib - M_jb||_1)
forward and backward (``jax.grad`` of a scalar of them, jitted; median of ``--repeats``)
and reads XLA's memory plan of that program (``compiled.memory_analysis()``: the
temporary bytes beside the inputs and outputs), for

* ``pairwise`` — :func:`jaxgen.nets.layers.pairwise_similarity`, O(N² B) time and memory
  (the [N, N, B] similarities; the L1 distance summed one kernel dimension at a time, so
  never O(N² B C));
* ``sorted`` — :func:`jaxgen.nets.layers.sorted_similarity`, kernels of one dimension
  (C = 1, the grid configs' B = 4, C = 1): O(N log N) time, O(N B) memory;

at the grid configs' B = 4, C = 1 (both forms) and the ring configs' B = 8, C = 3
(pairwise: a distance in three dimensions has no order).
"""
from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.cli import machine_line, write_report
from jaxgen.nets import layers

FORMS = {"pairwise": lambda m: layers.pairwise_similarity(m),
         "sorted": lambda m: layers.sorted_similarity(m[..., 0])}


def measure(form: str, n: int, b: int, c: int, repeats: int) -> dict:
  """Median ms of one forward + backward pass and XLA's temporary bytes for it."""
  fn = FORMS[form]
  m = jnp.asarray(np.random.default_rng(n).normal(size=(n, b, c)), jnp.float32)
  grad = jax.jit(jax.grad(lambda m: jnp.sum(jnp.sin(fn(m)))))
  compiled = grad.lower(m).compile()
  mem = compiled.memory_analysis()
  temp = getattr(mem, "temp_size_in_bytes", None) if mem is not None else None
  jax.block_until_ready(compiled(m))
  times = []
  for _ in range(repeats):
    tic = time.perf_counter()
    jax.block_until_ready(compiled(m))
    times.append(time.perf_counter() - tic)
  return dict(form=form, n=n, b=b, c=c, ms=1000 * float(np.median(times)),
              temp_mib=None if temp is None else temp / 2**20)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--batches", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048, 4096])
  parser.add_argument("--repeats", type=int, default=7)
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  print(machine_line())
  print(f"{'kernels':>10s} {'form':>9s} {'N':>6s} {'ms fwd+bwd':>11s} {'temp MiB':>9s}")
  rows = []
  for b, c, forms in ((4, 1, ("pairwise", "sorted")), (8, 3, ("pairwise",))):
    for n in args.batches:
      for form in forms:
        r = measure(form, n, b, c, args.repeats)
        rows.append(r)
        temp = "—" if r["temp_mib"] is None else f"{r['temp_mib']:.2f}"
        print(f"{f'B={b}, C={c}':>10s} {form:>9s} {n:6d} {r['ms']:11.3f} {temp:>9s}", flush=True)
  report = {"machine": machine_line(), "repeats": args.repeats, "rows": rows}
  write_report(report, args.out)
  if args.out:
    with open(os.path.splitext(args.out)[0] + ".md", "w") as f:
      f.write(markdown(report) + "\n")


def markdown(report: dict) -> str:
  """One row per batch size: ms (forward + backward) and XLA's temporary MiB of each form."""
  keys = sorted({(r["b"], r["c"], r["form"]) for r in report["rows"]}, key=lambda k: (-k[1], k[2]))
  keys = [k for k in keys if k[1] == 1] + [k for k in keys if k[1] != 1]
  head = " | ".join(f"{form}, B={b} C={c}: ms / MiB" for b, c, form in keys)
  lines = [f"{report['machine']}; median of {report['repeats']}", "", f"| N | {head} |",
           "|---|" + "---|" * len(keys)]
  for n in sorted({r["n"] for r in report["rows"]}):
    cells = []
    for b, c, form in keys:
      r = next((r for r in report["rows"] if (r["n"], r["b"], r["c"], r["form"]) == (n, b, c, form)), None)
      cells.append("—" if r is None else f"{r['ms']:.2f} / {r['temp_mib']:.2f}")
    lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


if __name__ == "__main__":
  main()
