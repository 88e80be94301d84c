"""DiffAugment (jaxgen.nets.augment): each transformation's exact form, per-image draws,
gradients, and independence of the kinds' keys."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxgen.nets import augment


def _images(n=16, h=8, w=8, c=1, seed=0):
  return np.random.RandomState(seed).uniform(-1, 1, (n, h, w, c)).astype(np.float32)


def _shifted(x, a, b):
  """numpy: out[i, j] = x[i + a, j + b], zero outside."""
  h, w = x.shape[:2]
  out = np.zeros_like(x)
  for i in range(h):
    for j in range(w):
      if 0 <= i + a < h and 0 <= j + b < w:
        out[i, j] = x[i + a, j + b]
  return out


def test_parse_policy():
  assert augment.parse_policy("") == ()
  assert augment.parse_policy("cutout, color") == ("color", "cutout")
  assert augment.parse_policy("color,translation,cutout") == augment.KINDS
  with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
    augment.parse_policy("color,flip")


def test_shift_matrices_by_hand():
  s = np.asarray(augment.shift_matrices(jnp.array([1, -2]), 4))
  v = np.array([10.0, 20.0, 30.0, 40.0])
  np.testing.assert_array_equal(s[0] @ v, [20, 30, 40, 0])     # v[i + 1]
  np.testing.assert_array_equal(s[1] @ v, [0, 0, 10, 20])      # v[i - 2]


def test_translation_is_a_zero_filled_shift_of_at_most_an_eighth():
  x = _images(n=32, h=16, w=16, c=2)
  out = np.asarray(jax.jit(augment.translation)(jax.random.PRNGKey(3), x))
  s = 2                                             # int(16 * 0.125 + 0.5)
  seen = set()
  for n in range(len(x)):
    found = [(a, b) for a in range(-s, s + 1) for b in range(-s, s + 1)
             if np.array_equal(out[n], _shifted(x[n], a, b))]
    assert found, f"image {n} is no zero-filled shift within {s} pixels"
    seen.add(found[0])
  assert len(seen) > 8           # drawn per image, over the whole range


def test_cutout_zeroes_one_square_of_half_the_side_per_image():
  n, h = 64, 8
  mask = np.asarray(jax.jit(augment.cutout_mask, static_argnums=(1, 2, 3))(
      jax.random.PRNGKey(4), n, h, h))[..., 0]
  sizes = set()
  for m in mask:
    rows, cols = np.where(m == 0)
    assert rows.size, "nothing cut out"
    r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
    assert np.all(m[r0:r1 + 1, c0:c1 + 1] == 0) and (m == 0).sum() == (r1 - r0 + 1) * (c1 - c0 + 1)
    assert r1 - r0 + 1 <= 4 and c1 - c0 + 1 <= 4        # int(8 * 0.5 + 0.5) = 4, clipped
    sizes.add((r1 - r0 + 1, c1 - c0 + 1))
  assert (4, 4) in sizes and len(sizes) > 2              # whole squares and clipped ones
  x = _images(n=n, h=h, w=h)
  out = augment.cutout(jax.random.PRNGKey(4), x)
  np.testing.assert_array_equal(out, x * mask[..., None])


def test_color_brightness_saturation_contrast_by_their_formulas():
  x = _images(n=16, c=3)
  out = np.asarray(jax.jit(augment.color)(jax.random.PRNGKey(5), x), np.float64)
  x = x.astype(np.float64)
  mean = x.mean(axis=(1, 2, 3))
  mean_out = out.mean(axis=(1, 2, 3))
  b = mean_out - mean                                   # brightness: only it moves the mean
  assert np.all(np.abs(b) <= 0.5) and b.std() > 0.1
  chroma, chroma_out = x - x.mean(-1, keepdims=True), out - out.mean(-1, keepdims=True)
  luma = x.mean(-1) - mean[:, None, None]
  luma_out = out.mean(-1) - mean_out[:, None, None]
  c = (luma_out * luma).sum((1, 2)) / (luma ** 2).sum((1, 2))      # contrast factor
  sc = (chroma_out * chroma).sum((1, 2, 3)) / (chroma ** 2).sum((1, 2, 3))
  np.testing.assert_allclose(luma_out, c[:, None, None] * luma, atol=1e-5)
  np.testing.assert_allclose(chroma_out, sc[:, None, None, None] * chroma, atol=1e-5)
  assert np.all((c >= 0.5) & (c < 1.5))
  s = sc / c                                            # saturation factor in [0, 2)
  assert np.all((s >= -1e-6) & (s < 2)) and s.std() > 0.2


def test_color_leaves_the_shape_of_a_gray_image():
  x = _images(n=8, c=1)
  out = np.asarray(augment.color(jax.random.PRNGKey(6), x), np.float64)
  dev = x - x.mean(axis=(1, 2, 3), keepdims=True)
  dev_out = out - out.mean(axis=(1, 2, 3), keepdims=True)
  factor = (dev_out * dev).sum((1, 2, 3)) / (dev ** 2).sum((1, 2, 3))
  np.testing.assert_allclose(dev_out, factor[:, None, None, None] * dev, atol=1e-5)


def test_kinds_draw_from_their_own_keys():
  x, key = _images(n=8), jax.random.PRNGKey(7)
  assert augment.augment(key, x, ()) is x
  k_color, k_trans, k_cut = jax.random.split(key, 3)
  both = augment.augment(key, x, ("translation", "cutout"))
  np.testing.assert_array_equal(both, augment.cutout(k_cut, augment.translation(k_trans, x)))
  np.testing.assert_array_equal(augment.augment(key, x, ("color",)), augment.color(k_color, x))
  with pytest.raises(ValueError, match="images"):
    augment.augment(key, jnp.zeros((4, 2)), ("color",))


def test_gradients_pass_through_every_kind(x64):
  with x64():
    x = jnp.asarray(_images(n=4, h=8, w=8, c=3), jnp.float64)
    w = jnp.asarray(_images(n=4, h=8, w=8, c=3, seed=1), jnp.float64)
    f = lambda v: jnp.sum(w * augment.augment(jax.random.PRNGKey(8), v, augment.KINDS) ** 2)
    check_grads(f, (x,), order=1, modes=["rev"])
    assert float(jnp.abs(jax.grad(f)(x)).sum()) > 0
