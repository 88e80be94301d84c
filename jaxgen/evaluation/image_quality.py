"""How close is an output image to its target, and what does it look like? Image-to-image metrics.

The metrics of the image-to-image tasks (super-resolution, colorization, style transfer).
They take NumPy arrays of NHWC float images in [0, 1], shape [N, H, W, C], compute on the
host in float64 and return one value per image, an array [N] (callers take means):

* :func:`psnr` — peak signal-to-noise ratio 10 log10(range^2 / MSE) in dB (``+inf`` for
  identical images), as ``skimage.metrics.peak_signal_noise_ratio`` per image;
* :func:`ssim` — the structural similarity of Wang et al. 2004 with the defaults of
  ``skimage.metrics.structural_similarity(..., channel_axis=-1)`` (7x7 uniform window,
  K1 = 0.01, K2 = 0.03, sample covariances, mean over the valid interior and the channels),
  vectorised over the batch;
* :func:`colourfulness` — Hasler & Süsstrunk's (2003) colourfulness of RGB images;
* :func:`sharpness` — the mean gradient magnitude (forward differences);
* :func:`slant` — the slant of a digit from its second central moments (positive for a
  digit leaning right, like '/'), and :func:`correlation` to compare slants of inputs and
  outputs;
* :func:`upsample` — the 'bicubic' / 'nearest' baselines of super-resolution
  (``jax.image.resize``, clipped to [0, 1]).
"""
from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

SSIM_WIN = 7      # skimage's default window (uniform, 7 x 7)
SSIM_K1 = 0.01    # Wang et al. 2004, skimage's defaults
SSIM_K2 = 0.03
UPSAMPLE_METHODS = ("bicubic", "nearest")


def _pair(truth, pred, name: str) -> tuple[np.ndarray, np.ndarray]:
  """``truth`` and ``pred`` as float64 NHWC arrays of one shape (ValueError otherwise)."""
  t, p = np.asarray(truth, np.float64), np.asarray(pred, np.float64)
  if t.shape != p.shape or t.ndim != 4:
    raise ValueError(f"{name} needs two image batches [N, H, W, C] of the same shape, got "
                     f"{list(t.shape)} and {list(p.shape)}")
  return t, p


def _batch(images, name: str, channels: int | None = None) -> np.ndarray:
  """``images`` as a float64 NHWC array, optionally with exactly ``channels`` channels."""
  x = np.asarray(images, np.float64)
  if x.ndim != 4:
    raise ValueError(f"{name} needs images [N, H, W, C], got shape {list(x.shape)}")
  if channels is not None and x.shape[-1] != channels:
    raise ValueError(f"{name} needs {channels}-channel images [N, H, W, {channels}], "
                     f"got shape {list(x.shape)}")
  return x


# ------------------------------------------------------------------ fidelity to the target
def psnr(truth, pred, data_range: float = 1.0) -> np.ndarray:
  """Peak signal-to-noise ratio [N] in dB: 10 log10(data_range^2 / MSE_i), MSE_i the mean
  squared error of image i over all its pixels and channels.

  An image identical to its target has MSE 0 and gets ``+inf`` (no warning); the mean of a
  batch holding one is then ``inf`` too, so report such batches separately or clip."""
  t, p = _pair(truth, pred, "psnr")
  mse = np.mean((t - p) ** 2, axis=(1, 2, 3))
  with np.errstate(divide="ignore"):
    return 10.0 * np.log10(float(data_range) ** 2 / mse)


def ssim(truth, pred, data_range: float = 1.0) -> np.ndarray:
  """Structural similarity [N] of each image pair, skimage's definition and defaults.

  Per channel: local means, variances and covariance over 7x7 uniform windows (the
  variances with the sample normalisation 49/48), the SSIM map
  ``(2 mx my + C1)(2 vxy + C2) / ((mx^2 + my^2 + C1)(vx + vy + C2))`` with
  ``C1 = (0.01 R)^2``, ``C2 = (0.03 R)^2``, R = ``data_range``, averaged over the pixels
  whose window lies inside the image (3 pixels cropped at each border); then the mean over
  channels. Equals ``skimage.metrics.structural_similarity(truth[i], pred[i],
  data_range=R, channel_axis=-1)`` (for C = 1 also the 2-D call), computed for the whole
  batch at once. 1 for identical images; needs H, W >= 7."""
  t, p = _pair(truth, pred, "ssim")
  if min(t.shape[1:3]) < SSIM_WIN:
    raise ValueError(f"ssim needs images at least {SSIM_WIN}x{SSIM_WIN} (its window), got "
                     f"{t.shape[1]}x{t.shape[2]}")

  def box(x):  # the 7x7 window mean over H and W; every image and channel on its own
    return ndimage.uniform_filter(x, size=SSIM_WIN, axes=(1, 2))

  cov_norm = SSIM_WIN ** 2 / (SSIM_WIN ** 2 - 1)            # sample covariance
  mx, my = box(t), box(p)
  vx = cov_norm * (box(t * t) - mx * mx)
  vy = cov_norm * (box(p * p) - my * my)
  vxy = cov_norm * (box(t * p) - mx * my)
  c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2
  s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
  pad = (SSIM_WIN - 1) // 2                                  # windows that fit in the image
  return s[:, pad:s.shape[1] - pad, pad:s.shape[2] - pad, :].mean(axis=(1, 2, 3))


# ------------------------------------------------------------------ appearance
def colourfulness(images) -> np.ndarray:
  """Hasler & Süsstrunk's (2003) colourfulness [N] of RGB images [N, H, W, 3] in [0, 1].

  On the channels scaled to [0, 255]: rg = R - G and yb = (R + G) / 2 - B per pixel, and
  M = sqrt(std_rg^2 + std_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2), with the population
  standard deviations and means over the pixels of the image. 0 for any gray image."""
  x = _batch(images, "colourfulness", channels=3) * 255.0
  r, g, b = x[..., 0], x[..., 1], x[..., 2]
  rg, yb = r - g, 0.5 * (r + g) - b
  std = np.sqrt(rg.var(axis=(1, 2)) + yb.var(axis=(1, 2)))
  mean = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
  return std + 0.3 * mean


def sharpness(images) -> np.ndarray:
  """Mean gradient magnitude [N] of images [N, H, W, C]: sqrt(dx^2 + dy^2) of the forward
  differences dx = I[i, j+1] - I[i, j] and dy = I[i+1, j] - I[i, j], at the (H-1)(W-1)
  pixels where both exist, averaged over those pixels and the channels (in intensity units
  per pixel: 1 / (W-1) for a one-pixel 0-to-1 vertical step edge). Needs H, W >= 2."""
  x = _batch(images, "sharpness")
  if min(x.shape[1:3]) < 2:
    raise ValueError(f"sharpness needs images at least 2x2, got {x.shape[1]}x{x.shape[2]}")
  dx = x[:, :-1, 1:, :] - x[:, :-1, :-1, :]
  dy = x[:, 1:, :-1, :] - x[:, :-1, :-1, :]
  return np.sqrt(dx ** 2 + dy ** 2).mean(axis=(1, 2, 3))


def power_spectrum(images) -> np.ndarray:
  """The power spectrum [H, W] of images [N, H, W, C], averaged over the set: |FFT2|^2 of
  each image's channel mean with the image mean removed (zero frequency at [0, 0])."""
  x = _batch(images, "power_spectrum").mean(axis=-1)
  x = x - x.mean(axis=(1, 2), keepdims=True)
  return (np.abs(np.fft.fft2(x)) ** 2).mean(axis=0)


def periodic_peak(images, period: int) -> float:
  """How much a set of images [N, H, W, C] carries a pattern repeating every ``period``
  pixels (the checkerboard of strided transposed convolutions, Odena et al. 2016), in dB.

  The power spectrum of each image (channel mean, image mean removed) is averaged over the
  set; at each frequency whose period divides ``period`` in both axes (the bins (a H/p,
  b W/p) but (0, 0)) it is compared with the mean power of the other bins whose radial
  frequency is within one unit of its own (frequencies folded to [0, N/2]). Returns
  10 log10 of the sum over those bins of the power over the sum of the ring means: about
  0 dB for white noise or any image with no such peak, large for a periodic pattern. H and
  W must be multiples of ``period``."""
  h, w = _batch(images, "periodic_peak").shape[1:3]
  period = int(period)
  if period < 2 or h % period or w % period:
    raise ValueError(f"periodic_peak: period must be >= 2 and divide the image size "
                     f"{h}x{w}, got {period}")
  power = power_spectrum(images)
  fu = np.minimum(np.arange(h), h - np.arange(h))[:, None]
  fv = np.minimum(np.arange(w), w - np.arange(w))[None, :]
  radius = np.sqrt(fu ** 2 + fv ** 2)
  peak = (np.arange(h)[:, None] % (h // period) == 0) & (np.arange(w)[None, :] % (w // period) == 0)
  peak[0, 0] = False
  others = ~peak
  others[0, 0] = False
  # each peak bin's reference: the mean power of the other bins within one frequency unit
  # of its radius (a corner bin such as (N/2, N/2) has no other bin at its own radius)
  near = np.abs(radius[others][None, :] - radius[peak][:, None]) <= 1.0
  expected = (near * power[others][None, :]).sum(axis=1) / np.maximum(near.sum(axis=1), 1)
  tiny = 1e-12 * power.sum() + 1e-30     # a spectrum with exact zeros there (nearest
  return float(10 * np.log10((power[peak].sum() + tiny) / (expected.sum() + tiny)))  # upsampling)


def slant(images) -> np.ndarray:
  """Slant [N] of single-channel digit images [N, H, W, 1] or [N, H, W] (intensities >= 0).

  With x the column index and y the row index (pointing down), and the intensity-weighted
  central moments mu11 = sum I (x - x̄)(y - ȳ), mu02 = sum I (y - ȳ)^2:
  ``slant = -mu11 / mu02``, the least-squares slope of x against the height (-y): the
  horizontal shift of the digit, in pixels, per row going up. A digit leaning right (top to
  the right of its bottom, like '/') has a positive slant; a bar x = x0 + s (y0 - y) has
  slant s. Flipping left-right negates it; shifting the digit leaves it unchanged. An empty
  image, or one whose ink lies in a single row (mu02 = 0), gets 0."""
  x = np.asarray(images, np.float64)
  if x.ndim == 4 and x.shape[-1] == 1:
    x = x[..., 0]
  if x.ndim != 3:
    raise ValueError(f"slant needs single-channel images [N, H, W, 1] or [N, H, W], got shape "
                     f"{list(x.shape)}")
  rows = np.arange(x.shape[1], dtype=np.float64)[None, :, None]
  cols = np.arange(x.shape[2], dtype=np.float64)[None, None, :]
  mass = x.sum(axis=(1, 2))
  safe_mass = np.where(mass > 0, mass, 1.0)
  y_bar = (x * rows).sum(axis=(1, 2)) / safe_mass
  x_bar = (x * cols).sum(axis=(1, 2)) / safe_mass
  dy = rows - y_bar[:, None, None]
  dx = cols - x_bar[:, None, None]
  mu11 = (x * dx * dy).sum(axis=(1, 2))
  mu02 = (x * dy * dy).sum(axis=(1, 2))
  ok = mu02 > 1e-12 * mass        # False for an empty image (both 0) or a single row of ink
  return np.where(ok, -mu11 / np.where(ok, mu02, 1.0), 0.0)


def correlation(a, b) -> float:
  """Pearson correlation of two 1-D arrays of the same length (e.g. the slants of inputs
  and of outputs), in float64.

  NaN-safe: pairs where either value is NaN are dropped first. Returns NaN (no warning,
  no exception) when fewer than 2 pairs remain or either array is constant on them."""
  a, b = np.asarray(a, np.float64).reshape(-1), np.asarray(b, np.float64).reshape(-1)
  if a.shape != b.shape:
    raise ValueError(f"correlation needs two 1-D arrays of the same length, got {a.size} and "
                     f"{b.size}")
  keep = ~(np.isnan(a) | np.isnan(b))
  a, b = a[keep], b[keep]
  if a.size < 2:
    return float("nan")
  da, db = a - a.mean(), b - b.mean()
  denom = np.sqrt(np.sum(da * da) * np.sum(db * db))
  if denom == 0:
    return float("nan")
  return float(np.clip(np.sum(da * db) / denom, -1.0, 1.0))


# ------------------------------------------------------------------ baselines
def upsample(images, shape: Sequence[int], method: str) -> np.ndarray:
  """Low-resolution images [N, h, w, C] upsampled to ``shape`` = (H, W) >= (h, w), i.e.
  [N, H, W, C], by ``method`` 'bicubic' (Keys' cubic kernel, a = -0.5, as PIL's BICUBIC)
  or 'nearest' (pixel replication for integer factors), with ``jax.image.resize``
  (half-pixel centres; its antialiasing acts only when downsampling), then clipped to
  [0, 1]. Returns a float32 NumPy array."""
  if method not in UPSAMPLE_METHODS:
    raise ValueError(f"upsample method must be one of {UPSAMPLE_METHODS}, got {method!r}")
  x = np.asarray(images, np.float32)
  if x.ndim != 4:
    raise ValueError(f"upsample needs images [N, h, w, C], got shape {list(x.shape)}")
  shape = tuple(int(s) for s in shape)
  if len(shape) != 2 or shape[0] < x.shape[1] or shape[1] < x.shape[2]:
    raise ValueError(f"upsample needs shape=(H, W) at least the input's "
                     f"({x.shape[1]}, {x.shape[2]}), got {shape}")
  out = jax.image.resize(jnp.asarray(x), (x.shape[0], *shape, x.shape[3]), method=method)
  return np.clip(np.asarray(out, np.float32), 0.0, 1.0)
