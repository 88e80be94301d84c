"""Mode-collapse metrics for samples of a known 2-D Gaussian mixture (PacGAN protocol).

Every sample is assigned to its nearest true mode. A sample is *high quality* when that
distance is at most three standard deviations of the mixture's components. From this:

* ``modes``: how many modes received at least one high-quality sample;
* ``high_quality``: the percentage (0-100) of samples that are high quality;
* ``reverse_kl``: KL(q || uniform), q the histogram over modes of the high-quality
  samples, i.e. ``sum_{m: q_m > 0} q_m log(q_m M)`` in nats (``inf`` when no sample is
  high quality). It is 0 for perfectly balanced coverage and log M for one mode.

Everything runs on the host in numpy.
"""
from __future__ import annotations

import math

import numpy as np

HIGH_QUALITY_STDS = 3.0


def nearest_modes(samples, modes) -> tuple[np.ndarray, np.ndarray]:
  """Index [N] of each sample's nearest mode and the Euclidean distance [N] to it."""
  samples = np.asarray(samples, np.float64).reshape(-1, 2)
  modes = np.asarray(modes, np.float64).reshape(-1, 2)
  sq = ((samples[:, None, :] - modes[None, :, :]) ** 2).sum(-1)
  index = np.argmin(sq, axis=1)
  dist = np.sqrt(sq[np.arange(len(samples)), index])
  return index, dist


def mode_counts(samples, modes, std: float) -> np.ndarray:
  """Number of high-quality samples (within ``3 * std`` of their nearest mode) per mode [M]."""
  num_modes = np.asarray(modes).reshape(-1, 2).shape[0]
  index, dist = nearest_modes(samples, modes)
  good = dist <= HIGH_QUALITY_STDS * std
  return np.bincount(index[good], minlength=num_modes)


def mode_metrics(samples, modes, std: float) -> dict:
  """Mode coverage of ``samples`` [N, 2] against the true ``modes`` [M, 2].

  Returns ``{"modes": int, "high_quality": float percent, "reverse_kl": float nats}``;
  see the module docstring for the definitions.
  """
  samples = np.asarray(samples, np.float64).reshape(-1, 2)
  num_modes = np.asarray(modes).reshape(-1, 2).shape[0]
  counts = mode_counts(samples, modes, std)
  total = int(counts.sum())
  if total == 0:
    reverse_kl = math.inf
  else:
    q = counts[counts > 0] / total
    reverse_kl = float(np.sum(q * np.log(q * num_modes)))
    reverse_kl = max(reverse_kl, 0.0)  # only rounding can make it negative
  high_quality = 100.0 * total / len(samples) if len(samples) else 0.0
  return {"modes": int(np.count_nonzero(counts)), "high_quality": float(high_quality),
          "reverse_kl": reverse_kl}
