"""Image-to-image metrics against known answers: skimage, PIL, hand-worked images, symmetries."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import skimage.data
from PIL import Image
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from jaxgen.data import mnist_subset
from jaxgen.evaluation import image_quality as iq


def _noisy_pairs(shape, seed=0):
  """Random images and noisy copies, a different noise level per image (so that a batch
  mean or a mixed-up image index shows)."""
  rng = np.random.RandomState(seed)
  truth = rng.rand(*shape)
  scale = np.linspace(0.02, 0.3, shape[0]).reshape(-1, 1, 1, 1)
  return truth, np.clip(truth + scale * rng.randn(*shape), 0.0, 1.0)


def _digits(n=8):
  """The first ``n`` test digits of mnist_subset as float64 [n, 28, 28, 1] in [0, 1]."""
  return mnist_subset.load().test[:n].astype(np.float64) / 255.0


def _astronaut_crops():
  """Four 48x64 RGB crops of skimage's astronaut, float64 in [0, 1]."""
  img = skimage.data.astronaut().astype(np.float64) / 255.0
  corners = [(40, 180), (200, 200), (300, 60), (100, 380)]
  return np.stack([img[r:r + 48, c:c + 64] for r, c in corners])


# ------------------------------------------------------------------ PSNR
def test_psnr_hand_computed():
  truth = np.zeros((2, 4, 4, 1))
  pred = np.full((2, 4, 4, 1), 0.1)                 # MSE 0.01 -> 20 dB
  pred[1, :2] = 0.0
  pred[1, 2:] = 0.2                                 # half 0, half 0.04 -> MSE 0.02
  np.testing.assert_allclose(iq.psnr(truth, pred), [20.0, 10 * math.log10(50)], rtol=1e-12)
  # a range of 2 adds 20 log10 2
  np.testing.assert_allclose(iq.psnr(truth, pred, data_range=2.0),
                             [20.0 + 20 * math.log10(2), 10 * math.log10(200)], rtol=1e-12)


def test_psnr_matches_skimage_per_image_and_is_inf_for_identical_images():
  truth, pred = _noisy_pairs((5, 9, 11, 3))
  want = [peak_signal_noise_ratio(truth[i], pred[i], data_range=1.0) for i in range(5)]
  np.testing.assert_allclose(iq.psnr(truth, pred), want, rtol=1e-12)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    got = iq.psnr(truth, np.concatenate([truth[:1], pred[1:]]))
  assert got[0] == np.inf and np.all(np.isfinite(got[1:]))
  with pytest.raises(ValueError, match="same shape"):
    iq.psnr(truth, pred[:, :-1])


# ------------------------------------------------------------------ SSIM
@pytest.mark.parametrize("shape", [(5, 12, 17, 3), (4, 9, 8, 1)])
def test_ssim_matches_skimage_on_random_images(shape):
  truth, pred = _noisy_pairs(shape, seed=1)
  got = iq.ssim(truth, pred)
  want = [structural_similarity(truth[i], pred[i], data_range=1.0, channel_axis=-1)
          for i in range(shape[0])]
  np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
  if shape[-1] == 1:                                # single channel: the same as the 2-D call
    want_2d = [structural_similarity(truth[i, ..., 0], pred[i, ..., 0], data_range=1.0)
               for i in range(shape[0])]
    np.testing.assert_allclose(got, want_2d, atol=1e-6, rtol=0)
  assert np.ptp(got) > 0.1                          # per-image values, not one batch value


def test_ssim_matches_skimage_on_real_images():
  digits = _digits()
  lo = digits.reshape(8, 14, 2, 14, 2, 1).mean(axis=(2, 4))
  for pred in (iq.upsample(lo, (28, 28), "bicubic"), iq.upsample(lo, (28, 28), "nearest")):
    want = [structural_similarity(digits[i, ..., 0], pred[i, ..., 0].astype(np.float64),
                                  data_range=1.0) for i in range(8)]
    np.testing.assert_allclose(iq.ssim(digits, pred), want, atol=1e-6, rtol=0)

  crops = _astronaut_crops()
  rng = np.random.RandomState(2)
  blurred = ndimage.gaussian_filter(crops, sigma=(0, 1.0, 1.0, 0))
  noisy = np.clip(blurred + 0.05 * rng.randn(*crops.shape), 0, 1)
  want = [structural_similarity(crops[i], noisy[i], data_range=1.0, channel_axis=-1)
          for i in range(4)]
  np.testing.assert_allclose(iq.ssim(crops, noisy), want, atol=1e-6, rtol=0)
  # data_range carries through: the same images on [0, 255]
  want_255 = [structural_similarity(255 * crops[i], 255 * noisy[i], data_range=255.0,
                                    channel_axis=-1) for i in range(4)]
  np.testing.assert_allclose(iq.ssim(255 * crops, 255 * noisy, data_range=255.0), want_255,
                             atol=1e-6, rtol=0)


def test_ssim_is_one_for_identical_images_and_needs_the_window():
  truth, _ = _noisy_pairs((3, 10, 7, 2))
  truth[0] = 0.4                                    # a flat image too
  np.testing.assert_allclose(iq.ssim(truth, truth), 1.0, atol=1e-12)
  with pytest.raises(ValueError, match="at least 7x7"):
    iq.ssim(truth[:, :6], truth[:, :6])


# ------------------------------------------------------------------ colourfulness
def test_colourfulness_of_gray_images_is_zero():
  gray = np.repeat(np.random.RandomState(3).rand(3, 8, 8, 1), 3, axis=-1)
  np.testing.assert_allclose(iq.colourfulness(gray), 0.0, atol=1e-12)
  with pytest.raises(ValueError, match="3-channel"):
    iq.colourfulness(gray[..., :1])


def test_colourfulness_hand_computed():
  # image 0: left half pure red, right half pure blue; image 1: all red.
  # red (255, 0, 0): rg = 255, yb = 127.5; blue (0, 0, 255): rg = 0, yb = -255.
  x = np.zeros((2, 4, 4, 3))
  x[0, :, :2, 0] = 1.0
  x[0, :, 2:, 2] = 1.0
  x[1, ..., 0] = 1.0
  # half-half: population std = half the gap, mean = the midpoint
  std_rg, std_yb = 127.5, (127.5 + 255) / 2
  mean_rg, mean_yb = 127.5, (127.5 - 255) / 2
  want0 = math.hypot(std_rg, std_yb) + 0.3 * math.hypot(mean_rg, mean_yb)
  want1 = 0.3 * math.hypot(255, 127.5)
  np.testing.assert_allclose(iq.colourfulness(x), [want0, want1], rtol=1e-12)


def test_blending_toward_gray_scales_colourfulness_down():
  # toward the per-pixel channel mean, rg and yb shrink by (1 - t), and so does M
  crops = _astronaut_crops()
  gray = np.repeat(crops.mean(axis=-1, keepdims=True), 3, axis=-1)
  full = iq.colourfulness(crops)
  assert np.all(full > 1)
  previous = full
  for t in (0.3, 0.7, 1.0):
    got = iq.colourfulness((1 - t) * crops + t * gray)
    assert np.all(got < previous)                    # less saturated, less colourful
    np.testing.assert_allclose(got, (1 - t) * full, rtol=1e-9, atol=1e-9)
    previous = got


# ------------------------------------------------------------------ sharpness
def test_sharpness_hand_computed():
  x = np.zeros((4, 6, 8, 1))
  x[0, :, 4:] = 1.0                  # vertical step: dx = 1 in one of 7 columns -> 1/7
  x[1, 3:, :] = 1.0                  # horizontal step: dy = 1 in one of 5 rows -> 1/5
  x[2, 2, 2] = 1.0                   # impulse: |(-1, -1)| at itself, 1 left and above of it
  x[3, :, 4:] = 0.5                  # a half-height step
  want = [1 / 7, 1 / 5, (2 + math.sqrt(2)) / 35, 0.5 / 7]
  np.testing.assert_allclose(iq.sharpness(x), want, rtol=1e-12)
  # channels are averaged: the step in one of two channels counts half
  two = np.concatenate([x[:1], np.zeros_like(x[:1])], axis=-1)
  np.testing.assert_allclose(iq.sharpness(two), [0.5 / 7], rtol=1e-12)


def test_blurring_lowers_sharpness():
  crops = _astronaut_crops()
  values = [iq.sharpness(ndimage.gaussian_filter(crops, sigma=(0, s, s, 0))) if s else
            iq.sharpness(crops) for s in (0, 1.0, 2.0)]
  assert np.all(values[0] > values[1]) and np.all(values[1] > values[2])


# ------------------------------------------------------------------ slant
def _splat_bar(s, size=28, rows=range(4, 24), x0=14.0, y0=13.5):
  """A bar whose centre in row y is x0 + s (y0 - y): in each row, three unit masses at the
  centre and one pixel either side, each split linearly between its two neighbouring
  columns, so that every row has mass 3 and its centroid exactly on the line."""
  img = np.zeros((size, size))
  for y in rows:
    for c in np.array([-1.0, 0.0, 1.0]) + x0 + s * (y0 - y):
      j = int(np.floor(c))
      img[y, j] += 1 - (c - j)
      img[y, j + 1] += c - j
  return img


def _raster_bar(s, size=28, rows=range(4, 24), x0=14.0, y0=13.5):
  """The same bar drawn binary: three pixels around the centre rounded to a column."""
  img = np.zeros((size, size))
  for y in rows:
    j = int(np.round(x0 + s * (y0 - y)))
    img[y, j - 1:j + 2] = 1.0
  return img


SLOPES = (-0.5, 0.0, 0.3, 0.6)


def test_slant_of_bars_is_their_slope():
  splat = np.stack([_splat_bar(s) for s in SLOPES])[..., None]
  np.testing.assert_allclose(iq.slant(splat), SLOPES, atol=1e-9)   # row centroids exact
  # a bar leaning right ('/'): its top row's ink lies right of its bottom row's
  top, bottom = splat[3, 4, :, 0], splat[3, 23, :, 0]
  assert np.argmax(top) > np.argmax(bottom) and iq.slant(splat)[3] > 0
  # binary bars: each row centroid is off the line by at most 1/2 pixel (rounding), so the
  # fitted slope is off by at most 1/2 sum|y - ȳ| / sum (y - ȳ)^2 (0.075 for 20 rows)
  y = np.arange(4, 24) - 13.5
  tol = 0.5 * np.abs(y).sum() / (y ** 2).sum()
  got = iq.slant(np.stack([_raster_bar(s) for s in SLOPES]))      # [N, H, W] form
  np.testing.assert_allclose(got, SLOPES, atol=tol)
  assert np.abs(got - SLOPES).max() > 0                           # the rounding does show


def test_slant_mirror_shift_and_degenerate_images():
  digits = _digits(20)
  s = iq.slant(digits)
  assert np.ptp(s) > 0.3
  np.testing.assert_allclose(iq.slant(digits[:, :, ::-1]), -s, atol=1e-12)
  # shift digits whose ink stays inside the frame (a 3-pixel empty border)
  empty_border = np.array([d[:3].sum() + d[-3:].sum() + d[:, :3].sum() + d[:, -3:].sum() == 0
                           for d in digits])
  assert empty_border.sum() >= 10
  inner = digits[empty_border]
  shifted = np.roll(inner, shift=(2, -3), axis=(1, 2))
  np.testing.assert_allclose(iq.slant(shifted), iq.slant(inner), atol=1e-10)
  # an empty image and ink in a single row have no slant
  x = np.zeros((2, 28, 28, 1))
  x[1, 10, 5:20] = 1.0
  np.testing.assert_array_equal(iq.slant(x), [0.0, 0.0])


# ------------------------------------------------------------------ correlation
def test_correlation():
  rng = np.random.RandomState(4)
  a, b = rng.randn(50), rng.randn(50)
  assert iq.correlation(a, b) == pytest.approx(np.corrcoef(a, b)[0, 1], abs=1e-12)
  assert iq.correlation(a, 3 * a + 1) == pytest.approx(1.0)
  assert iq.correlation(a, -a) == pytest.approx(-1.0)
  a_nan = a.copy()
  a_nan[[3, 7]] = np.nan
  keep = ~np.isnan(a_nan)
  assert iq.correlation(a_nan, b) == pytest.approx(np.corrcoef(a[keep], b[keep])[0, 1],
                                                   abs=1e-12)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    assert math.isnan(iq.correlation(np.ones(5), np.arange(5.0)))
    assert math.isnan(iq.correlation([1.0], [2.0]))


# ------------------------------------------------------------------ upsampling
def test_nearest_upsampling_replicates_pixels():
  lo = np.random.RandomState(5).rand(3, 5, 4, 2)
  up = iq.upsample(lo, (10, 12), "nearest")
  assert up.dtype == np.float32 and up.shape == (3, 10, 12, 2)
  np.testing.assert_array_equal(up, np.repeat(np.repeat(lo.astype(np.float32), 2, 1), 3, 2))
  with pytest.raises(ValueError, match="bicubic"):
    iq.upsample(lo, (10, 12), "bilinear")
  with pytest.raises(ValueError, match="at least"):
    iq.upsample(lo, (4, 12), "nearest")


def test_bicubic_upsampling_matches_pil():
  rng = np.random.RandomState(6)
  lo = rng.rand(3, 7, 5, 1).astype(np.float32)
  lo[0] = 0.0
  lo[0, :, 3:] = 1.0                                # a step edge: bicubic overshoots it
  up = iq.upsample(lo, (21, 20), "bicubic")         # factors 3 and 4
  assert up.dtype == np.float32 and up.shape == (3, 21, 20, 1)
  pil = np.stack([np.asarray(Image.fromarray(im[..., 0], mode="F").resize((20, 21), Image.BICUBIC))
                  for im in lo])[..., None]
  assert pil.max() > 1.01 and pil.min() < -0.01     # so the clipping is tested
  np.testing.assert_allclose(up, np.clip(pil, 0.0, 1.0), atol=1e-4, rtol=0)


def test_bicubic_beats_nearest_on_digits():
  # mnist_subset x2 (1,000 digits): 20.0 dB bicubic vs 18.0 dB nearest; a 2 dB gap in the
  # mean cannot close on 100 digits
  digits = _digits(100)
  lo = digits.reshape(100, 14, 2, 14, 2, 1).mean(axis=(2, 4))
  bicubic = iq.psnr(digits, iq.upsample(lo, (28, 28), "bicubic")).mean()
  nearest = iq.psnr(digits, iq.upsample(lo, (28, 28), "nearest")).mean()
  assert bicubic > nearest + 1.0


def test_periodic_peak_sees_a_checkerboard_and_not_noise():
  rng = np.random.RandomState(0)
  noise = rng.rand(400, 32, 32, 3)
  assert abs(iq.periodic_peak(noise, 4)) < 0.5            # white noise: no bin stands out
  yy, xx = np.indices((32, 32))
  board2 = ((yy + xx) % 2)[None, :, :, None] * 0.1         # period 2: the (16, 16) bin
  cos4 = np.cos(2 * np.pi * xx / 4)[None, :, :, None] * 0.05   # period 4 in x: bins (0, 8), (0, 24)
  assert abs(iq.periodic_peak(noise, 2)) < 0.5
  assert iq.periodic_peak(noise + board2, 2) > 10
  assert iq.periodic_peak(noise + board2, 4) > 5           # period 4's bins include period 2's
  assert iq.periodic_peak(noise + cos4, 4) > 5
  assert abs(iq.periodic_peak(noise + cos4, 2) - iq.periodic_peak(noise, 2)) < 0.5
  # hand-computed: one image, a pure period-4 cosine along x plus a constant: all its
  # (mean-removed) power sits at (0, 8) and (0, 24), the two period bins on ring 8, whose
  # other 48 bins hold nothing; power 1 elsewhere is added by a tiny white-noise floor
  wave = np.cos(2 * np.pi * xx / 4)[None, :, :, None] + 3.0
  assert iq.periodic_peak(wave, 4) > 60
  # nearest upsampling of anything has exact zeros there (the box filter's spectrum)
  assert iq.periodic_peak(iq.upsample(rng.rand(50, 8, 8, 1), (32, 32), "nearest"), 4) < -60
  with pytest.raises(ValueError, match="divide the image size"):
    iq.periodic_peak(noise, 5)
