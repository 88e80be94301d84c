"""Convolution backward passes inside ``lax.scan`` on this machine: autodiff vs jaxgen's.

    python -m benchmarks.conv_scan [--repeats 5]

For a 2-layer stride-2 conv encoder and a 2-layer transposed-conv decoder (the shapes of
configs/vae_conv_mnist.py, batch 64), times one gradient step jitted alone and inside a
scan of 20 steps, with autodiff's backward convolutions (``lax.conv_general_dilated`` /
``lax.conv_transpose``) and with ``jaxgen.nets.layers.conv2d`` / ``conv_transpose``. Prints
medians of ``--repeats`` runs in ms per step and the ratios against the autodiff scan.
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.cli import machine_line
from jaxgen.nets import layers

DN = ("NHWC", "HWIO", "NHWC")
S2 = (2, 2)


def net(conv, conv_t):
  def loss(params, x):
    k1, k2, k3, k4 = params
    h = jax.nn.relu(conv(x, k1))                 # 28x28x1 -> 14x14x32
    h = jax.nn.relu(conv(h, k2))                 # -> 7x7x64
    h = jax.nn.relu(conv_t(h, k3))               # -> 14x14x32
    out = conv_t(h, k4)                          # -> 28x28x1
    return jnp.mean((out - x) ** 2)
  return loss


AUTODIFF = net(lambda x, k: jax.lax.conv_general_dilated(x, k, S2, "SAME", dimension_numbers=DN),
               lambda x, k: jax.lax.conv_transpose(x, k, S2, "SAME", dimension_numbers=DN))
JAXGEN = net(lambda x, k: layers.conv2d(x, k, S2, "SAME"),
             lambda x, k: layers.conv_transpose(x, k, S2, "SAME"))


def timings(loss, params, x, repeats, length=20):
  def update(p, _):
    g = jax.grad(loss)(p, x)
    return jax.tree.map(lambda a, b: a - 1e-3 * b, p, g), None
  alone = jax.jit(lambda p: update(p, None)[0])
  scanned = jax.jit(lambda p: jax.lax.scan(update, p, None, length=length)[0])
  out = {}
  for name, fn, steps in (("alone", alone, 1), ("scan", scanned, length)):
    jax.block_until_ready(fn(params))
    runs = []
    for _ in range(repeats):
      t = time.perf_counter()
      if steps == 1:
        p = params
        for _ in range(length):
          p = fn(p)
      else:
        p = fn(params)
      jax.block_until_ready(p)
      runs.append((time.perf_counter() - t) / length * 1e3)
    out[name] = float(np.median(runs))
  return out


def main():
  ap = argparse.ArgumentParser()
  ap.add_argument("--repeats", type=int, default=5)
  args = ap.parse_args()
  keys = jax.random.split(jax.random.PRNGKey(0), 5)
  params = [0.05 * jax.random.normal(k, s) for k, s in zip(
      keys, [(4, 4, 1, 32), (4, 4, 32, 64), (4, 4, 64, 32), (4, 4, 32, 1)])]
  x = jax.random.uniform(keys[4], (64, 28, 28, 1))
  print(f"{machine_line()}; median of {args.repeats}")
  ref = timings(AUTODIFF, params, x, args.repeats)
  ours = timings(JAXGEN, params, x, args.repeats)
  for name, t in (("autodiff", ref), ("jaxgen", ours)):
    print(f"{name:9s} alone {t['alone']:7.2f} ms/step   in scan {t['scan']:7.2f} ms/step")
  print(f"in scan: jaxgen is {ref['scan'] / ours['scan']:.1f}x faster than autodiff; "
        f"autodiff in scan / alone = {ref['scan'] / ref['alone']:.1f}x, "
        f"jaxgen = {ours['scan'] / ours['alone']:.1f}x")


if __name__ == "__main__":
  main()
