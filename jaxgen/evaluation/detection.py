"""Anomaly-detection metrics and the two standard MNIST protocols.

Scores are oriented so that *higher means more anomalous*; AUROC is the probability that
a random anomaly scores above a random normal example (scikit-learn's
``roc_auc_score`` with the anomalies as the positive class).

Protocols (each a sweep over the ten digits ``d``):

* ``one_class`` (Ruff et al. 2018, Deep SVDD): train on digit ``d`` only; the other nine
  digits of the test split are the anomalies;
* ``leave_one_out`` (An & Cho 2015; GANomaly's framing): train on the nine other digits;
  digit ``d`` of the test split is the anomaly.
"""
from __future__ import annotations

import io
import math
import zlib

import numpy as np
from PIL import Image
from sklearn.metrics import roc_auc_score

PROTOCOLS = ("one_class", "leave_one_out")
CODECS = ("png", "zlib")


def _as_bytes_image(image: np.ndarray) -> tuple[np.ndarray, bool]:
  """An image [H, W, C] in [0, 1] as uint8 [H, W] or [H, W, C] (rounded to 8 bits), and
  whether it is binary (every value 0 or 1)."""
  x = np.asarray(image, np.float64)
  binary = bool(np.all((x == 0) | (x == 1)))
  q = np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)
  return (q[..., 0] if q.ndim == 3 and q.shape[-1] == 1 else q), binary


def code_length_nats(images, codec: str = "png") -> np.ndarray:
  """The lossless code length of each image [N, H, W, C] (values in [0, 1]) in nats: its
  size in bytes under ``codec`` times 8 ln 2. ``'png'``: Pillow's PNG encoder at its
  strongest setting, 1 bit per pixel for binary images, else 8-bit gray or RGB; ``'zlib'``:
  DEFLATE (level 9) of the raw bytes, one bit per pixel for binary images (packed), else
  one byte per value. Both lengths include the format's fixed overhead (PNG's signature and
  chunks, zlib's header and checksum), a constant per image size that shifts every score
  equally. The complexity term of Serrà et al. (2020): a likelihood score minus it."""
  if codec not in CODECS:
    raise ValueError(f"unknown codec {codec!r}; use one of {', '.join(CODECS)}")
  out = np.empty(len(images))
  for i, image in enumerate(images):
    q, binary = _as_bytes_image(image)
    if codec == "png":
      buf = io.BytesIO()
      img = Image.fromarray(q)
      (img.convert("1") if binary else img).save(buf, format="PNG", optimize=True)
      size = len(buf.getvalue())
    else:
      raw = np.packbits(q > 0).tobytes() if binary else q.tobytes()
      size = len(zlib.compress(raw, 9))
    out[i] = size * 8 * math.log(2)
  return out


def auroc(scores, is_anomaly) -> float:
  """Area under the ROC curve of ``scores`` (higher = more anomalous) for the boolean
  labels ``is_anomaly``. ValueError unless both classes are present and scores finite."""
  scores = np.asarray(scores, np.float64).reshape(-1)
  is_anomaly = np.asarray(is_anomaly, bool).reshape(-1)
  if scores.shape != is_anomaly.shape:
    raise ValueError(f"{scores.shape[0]} scores but {is_anomaly.shape[0]} labels")
  if is_anomaly.all() or not is_anomaly.any():
    raise ValueError("AUROC needs both normal and anomalous examples")
  if not np.all(np.isfinite(scores)):
    raise ValueError("AUROC of non-finite scores: the model diverged or the score overflowed")
  return float(roc_auc_score(is_anomaly, scores))


def protocol_filter(protocol: str, digit: int) -> dict:
  """The training-set filter of ``protocol`` for ``digit``: config.dataset overrides."""
  if protocol == "one_class":
    return {"classes": (int(digit),), "exclude_classes": ()}
  if protocol == "leave_one_out":
    return {"classes": (), "exclude_classes": (int(digit),)}
  raise ValueError(f"unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")


def anomalies_among(labels, normal_classes) -> np.ndarray:
  """Which of ``labels`` are anomalies: those not among ``normal_classes`` (the classes
  the model was trained on)."""
  return ~np.isin(np.asarray(labels), np.asarray(list(normal_classes)))


def summarize(per_run: list[dict], scores: list[str], digits=range(10)) -> dict:
  """Mean and (population) std over seeds of the AUROC of each score and digit, from rows
  ``{"digit": d, "seed": s, "auroc": {score: value}}``; plus the mean over digits (of the
  per-seed means: its std is the std over seeds of the per-seed mean over digits)."""
  out = {}
  for score in scores:
    table = {}
    for d in digits:
      vals = [r["auroc"][score] for r in per_run if r["digit"] == d]
      if vals:
        table[str(d)] = {"mean": float(np.mean(vals)), "std": float(np.std(vals)),
                         "seeds": len(vals)}
    seeds = sorted({r["seed"] for r in per_run})
    per_seed_means = [np.mean([r["auroc"][score] for r in per_run if r["seed"] == s])
                      for s in seeds
                      if len([r for r in per_run if r["seed"] == s]) == len(table)]
    table["mean"] = {"mean": float(np.mean([v["mean"] for v in table.values()])),
                     "std": float(np.std(per_seed_means)) if per_seed_means else float("nan"),
                     "seeds": len(per_seed_means)}
    out[score] = table
  return out


def markdown_table(summary: dict, title: str = "", percent: bool = True) -> str:
  """One row per score, one column per digit plus the mean: 'mean ± std' over seeds."""
  scores = list(summary)
  if not scores:
    return ""
  cols = list(summary[scores[0]])
  f = 100.0 if percent else 1.0
  lines = [f"### {title}", ""] if title else []
  lines += ["| score | " + " | ".join(c for c in cols) + " |", "|---" * (len(cols) + 1) + "|"]
  for s in scores:
    cells = [f"{f * summary[s][c]['mean']:.1f} ± {f * summary[s][c]['std']:.1f}" if percent
             else f"{summary[s][c]['mean']:.3f} ± {summary[s][c]['std']:.3f}" for c in cols]
    lines.append(f"| {s} | " + " | ".join(cells) + " |")
  return "\n".join(lines) + "\n"
