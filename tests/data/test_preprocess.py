"""Preprocessing modes: unit, symmetric, threshold, dynamic and static binarization."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.data import preprocess
from jaxgen.data.preprocess import static_binarize


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
