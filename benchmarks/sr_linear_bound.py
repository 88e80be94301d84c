"""How much is there to gain over bicubic on the held-out photographs, and where? Linear
upsamplers fitted by least squares, and trained runs, by patch difficulty.

    python -m benchmarks.sr_linear_bound [--ridge 1e-8] [--runs LABEL=WORKDIR ...]
        [--out results/conditional/issue29/linear_bound.json]

A linear map from the whole 8x8x3 input patch (centred on its mean) to the 32x32x3
output, fitted by ridge regression (a) on the training split of ``photos_sr4`` under its 8
flips and quarter turns — what any linear model trained on those photographs reaches — and
(b) on the *test split itself* (an oracle: it has seen the answers; it bounds what a linear
map can reach on these patches, not a method). PSNR and SSIM per patch, averaged, against
bicubic on the same test inputs. Each row reports both the mean of the per-patch PSNR
(what ``eval.json``'s ``psnr`` is) and the PSNR of the pooled MSE of the whole split, and
the mean gain over bicubic (dB, per patch) in each quarter of the patches ranked by
bicubic's own error (smoothest first) and per test photograph. ``--runs`` adds trained
super-resolution workdirs (at their selected step where they have one). Nothing here
trains a network.
"""
from __future__ import annotations

import argparse
import sys
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


def _mse(truth: np.ndarray, out: np.ndarray) -> np.ndarray:
  return ((np.asarray(out, np.float64) - truth) ** 2).mean(axis=(1, 2, 3))


def run_outputs(workdir: str) -> np.ndarray:
  """A super-resolution run's outputs on the test inputs, in [0, 1] (its selected step
  where it has one)."""
  import os
  from jaxgen.uses.loading import load
  selected = os.path.exists(os.path.join(workdir, "selected.json"))
  t = load(workdir, checkpoint="selected" if selected else "latest")
  return t.translations(t.test_x["cond"])


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--ridge", type=float, default=1e-8)
  parser.add_argument("--runs", nargs="*", default=[], metavar="LABEL=WORKDIR")
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
  for item in args.runs:
    label, _, workdir = item.partition("=")
    rows[label] = run_outputs(workdir)
  bicubic_mse = _mse(truth, rows["bicubic"])
  quarters = np.quantile(bicubic_mse, [0.25, 0.5, 0.75])
  group = np.searchsorted(quarters, bicubic_mse, side="right")        # 0 = smoothest
  photos = ds.info["test_photos"]
  report = {"rows": {}, "ridge": args.ridge, "machine": machine_line(),
            "bicubic_mse_quartiles": [float(q) for q in quarters],
            "date": datetime.date.today().isoformat(),
            "command": "python -m benchmarks.sr_linear_bound " + " ".join(sys.argv[1:] if argv is None else argv)}
  for name, out in rows.items():
    out = out.astype(np.float32)
    mse = _mse(truth, out)
    gain = 10 * np.log10(np.maximum(bicubic_mse, 1e-20) / np.maximum(mse, 1e-20))
    row = {"psnr": float(np.mean(iq.psnr(truth.astype(np.float32), out))),
           "ssim": float(np.mean(iq.ssim(truth.astype(np.float32), out))),
           "psnr_pooled": float(10 * np.log10(1 / np.mean(mse))),
           "gain_by_quarter": [float(np.mean(gain[group == g])) for g in range(4)],
           "psnr_by_photo": {p: float(np.mean(10 * np.log10(1 / np.maximum(
               mse[ds.info["test_photo_index"] == k], 1e-20)))) for k, p in enumerate(photos)}}
    report["rows"][name] = row
    print(f"{name}: PSNR {row['psnr']:.2f} dB (pooled {row['psnr_pooled']:.2f}), SSIM "
          f"{row['ssim']:.3f}; gain by quarter "
          + " / ".join(f"{g:+.2f}" for g in row["gain_by_quarter"]))
  report["wall_seconds"] = time.perf_counter() - t0
  write_report(report, args.out)
  return report


if __name__ == "__main__":
  main()
