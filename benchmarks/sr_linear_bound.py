"""How much is there to gain over bicubic on the held-out photographs? Linear upsamplers
fitted by least squares.

    python -m benchmarks.sr_linear_bound [--ridge 1e-3]
        [--out results/conditional/issue29/linear_bound.json]

A linear map from the whole 8x8x3 input patch (centred on its mean) to the 32x32x3
output, fitted by ridge regression (a) on the training split of ``photos_sr4`` under its 8
flips and quarter turns — what any linear model trained on those photographs reaches — and
(b) on the *test split itself* (an oracle: it has seen the answers; it bounds what a linear
map can reach on these patches, not a method). PSNR and SSIM per patch, averaged, against
bicubic on the same test inputs. Nothing here trains a network.
"""
from __future__ import annotations

import argparse
import datetime
import time

import numpy as np

from benchmarks.cli import machine_line, write_report
from jaxgen.data import paired
from jaxgen.evaluation import image_quality as iq


def dihedral(x: np.ndarray) -> np.ndarray:
  """The 8 flips and quarter turns of images [N, H, W, C], stacked along N."""
  out = []
  for k in range(4):
    r = np.rot90(x, k, axes=(1, 2))
    out += [r, r[:, :, ::-1]]
  return np.concatenate(out)


def fit(inputs: np.ndarray, targets: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
  """Ridge regression of targets on inputs (both centred on each input's mean): (W, b)."""
  a = inputs.reshape(len(inputs), -1)
  m = a.mean(axis=1, keepdims=True)
  a, y = a - m, targets.reshape(len(targets), -1) - m
  a1 = np.concatenate([a, np.ones((len(a), 1))], axis=1)
  gram = a1.T @ a1 + ridge * len(a1) * np.eye(a1.shape[1])
  coef = np.linalg.solve(gram, a1.T @ y)
  return coef[:-1], coef[-1]


def apply(w: np.ndarray, b: np.ndarray, inputs: np.ndarray, shape) -> np.ndarray:
  a = inputs.reshape(len(inputs), -1)
  m = a.mean(axis=1, keepdims=True)
  return np.clip((a - m) @ w + b + m, 0, 1).reshape((len(inputs),) + tuple(shape))


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--ridge", type=float, default=1e-3)
  parser.add_argument("--out", default="")
  args = parser.parse_args(argv)
  t0 = time.perf_counter()
  ds = paired.load("photos_sr4")
  f = lambda a: a.astype(np.float64) / 255.0          # noqa: E731
  truth, low = f(ds.test), f(ds.test_inputs)
  rows = {"bicubic": iq.upsample(low.astype(np.float32), truth.shape[1:3], "bicubic")}
  w, b = fit(dihedral(f(ds.train_inputs)), dihedral(f(ds.train)), args.ridge)
  rows["linear, fitted on the training photographs"] = apply(w, b, low, truth.shape[1:])
  w, b = fit(dihedral(low), dihedral(truth), args.ridge)
  rows["linear, fitted on the test patches (oracle)"] = apply(w, b, low, truth.shape[1:])
  report = {"rows": {}, "ridge": args.ridge, "machine": machine_line(),
            "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.sr_linear_bound " + " ".join(argv or [])}
  for name, out in rows.items():
    out = out.astype(np.float32)
    report["rows"][name] = {"psnr": float(np.mean(iq.psnr(truth.astype(np.float32), out))),
                            "ssim": float(np.mean(iq.ssim(truth.astype(np.float32), out)))}
    print(f"{name}: PSNR {report['rows'][name]['psnr']:.2f} dB, "
          f"SSIM {report['rows'][name]['ssim']:.3f}")
  report["wall_seconds"] = time.perf_counter() - t0
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
