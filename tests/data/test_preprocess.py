"""Preprocessing modes: unit, symmetric, threshold, dynamic and static binarization."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.data import preprocess
from jaxgen.data.preprocess import perturb, static_binarize


def test_preprocessing_modes():
  x = jnp.array([[0, 100, 128, 200, 255]], jnp.uint8)
  np.testing.assert_allclose(preprocess(x, None, "unit"), x / 255.0, rtol=1e-6)
  np.testing.assert_allclose(preprocess(x, None, "symmetric"), x / 127.5 - 1, rtol=1e-6, atol=1e-6)
  np.testing.assert_array_equal(preprocess(x, None, "threshold"), [[0, 0, 1, 1, 1]])
  big = jnp.full((200_000,), 64, jnp.uint8)
  b1 = preprocess(big, jax.random.PRNGKey(0), "dynamic_binarize")
  b2 = preprocess(big, jax.random.PRNGKey(1), "dynamic_binarize")
  assert set(np.unique(b1)) <= {0.0, 1.0}
  assert abs(float(b1.mean()) - 64 / 255) < 0.005         # Bernoulli(pixel / 255)
  assert not np.array_equal(b1, b2)                         # a fresh draw per key
  s = static_binarize(np.full((1000, 10), 64, np.uint8), seed=0)
  assert set(np.unique(s)) <= {0, 255}
  np.testing.assert_array_equal(s, static_binarize(np.full((1000, 10), 64, np.uint8), seed=0))
  with pytest.raises(ValueError):
    preprocess(x, None, "nonsense")


@pytest.mark.parametrize("mode,low,high", [("dynamic_binarize", 0.0, 1.0), ("unit", 0.0, 1.0),
                                           ("symmetric", -1.0, 1.0)])
def test_perturb_replaces_a_share_rate_of_values_by_random_ones_in_range(mode, low, high):
  """Rate r: a binary value changes when replaced by the other bit (r / 2 of them); a
  continuous value almost surely changes when replaced (r of them); replacements stay in
  the data's range; the same key perturbs the same way; rate 0 is the identity."""
  key = jax.random.PRNGKey(0)
  x = (jax.random.bernoulli(key, 0.3, (200, 28, 28, 1)).astype(jnp.float32) * (high - low)
       + low) if mode != "unit" else jnp.full((200, 28, 28, 1), 0.5)
  y = perturb(x, jax.random.PRNGKey(1), 0.2, mode)
  changed = float(jnp.mean(y != x))
  want = 0.1 if mode == "dynamic_binarize" else 0.2
  n = x.size
  assert abs(changed - want) < 5 * np.sqrt(want * (1 - want) / n)
  assert float(y.min()) >= low and float(y.max()) <= high
  if mode == "dynamic_binarize":
    assert set(np.unique(np.asarray(y)).tolist()) <= {0.0, 1.0}
  np.testing.assert_array_equal(perturb(x, jax.random.PRNGKey(1), 0.2, mode), y)
  assert perturb(x, jax.random.PRNGKey(1), 0.0, mode) is x
  with pytest.raises(ValueError, match="known range"):
    perturb(x, key, 0.2, "none")


def test_the_dihedral_group_acts_and_keeps_super_resolution_pairs_aligned():
  """The 8 transformations of a square image are distinct (an asymmetric image), k = 0 is
  the identity, k = 1 np.rot90, k = 4 a left-right flip; in a batch each example and its
  condition get the same one, so a box-downsampled input stays the box-downsampled target."""
  from jaxgen.data.paired import box_downsample
  from jaxgen.data.preprocess import dihedral, dihedral_transform
  img = jnp.arange(16.0).reshape(4, 4, 1)
  outs = [np.asarray(dihedral_transform(img, jnp.int32(k))) for k in range(8)]
  assert len({o.tobytes() for o in outs}) == 8
  np.testing.assert_array_equal(outs[0], img)
  np.testing.assert_array_equal(outs[1], np.rot90(np.asarray(img), 1, axes=(0, 1)))
  np.testing.assert_array_equal(outs[4], np.asarray(img)[:, ::-1])
  rng = np.random.RandomState(0)
  target = rng.rand(64, 8, 8, 3).astype(np.float32)
  cond = box_downsample(target, 4)
  labels = jnp.arange(64)
  out = dihedral({"x": jnp.asarray(target), "cond": jnp.asarray(cond)}, jax.random.PRNGKey(3))
  np.testing.assert_allclose(np.asarray(out["cond"]), box_downsample(np.asarray(out["x"]), 4),
                             rtol=1e-6)
  assert not np.array_equal(np.asarray(out["x"]), target)
  # each example gets one of the 8, and over the batch all of them occur
  variants = [lambda a, r=r, f=f: (np.rot90(a, r, axes=(0, 1))[:, ::-1] if f
                                   else np.rot90(a, r, axes=(0, 1)))
              for f in (0, 1) for r in range(4)]             # k = 4 f + r, as above
  got = np.asarray(out["x"])
  ks = [next(k for k in range(8) if np.array_equal(variants[k](target[i]), got[i]))
        for i in range(64)]
  assert set(ks) == set(range(8))
  kept = dihedral({"x": jnp.asarray(target), "cond": labels}, jax.random.PRNGKey(3))
  np.testing.assert_array_equal(kept["cond"], labels)               # labels pass through
  np.testing.assert_array_equal(kept["x"], out["x"])
