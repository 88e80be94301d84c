"""The on-device input pipeline: epoch permutations and batches."""
import jax
import jax.numpy as jnp
import numpy as np

from jaxgen.data import pipeline


def test_epoch_permutations_cover_the_split_and_depend_on_epoch():
  key = jax.random.PRNGKey(0)
  data = jnp.arange(103)
  batch = 10
  seen = []
  nxt = jax.jit(pipeline.next_permutation, static_argnums=(3, 4))
  get = jax.jit(pipeline.batch_at, static_argnums=3)
  perm = pipeline.epoch_permutation(key, 0, 103)
  for t in range(20):                      # two epochs of 10 steps (3 examples dropped)
    perm = nxt(key, perm, t, 103, batch)
    seen.append(np.asarray(get(data, perm, t, batch)))
  e0, e1 = np.concatenate(seen[:10]), np.concatenate(seen[10:])
  assert len(np.unique(e0)) == 100 and len(np.unique(e1)) == 100
  assert not np.array_equal(e0, e1)
  np.testing.assert_array_equal(e1, np.asarray(pipeline.epoch_permutation(key, 1, 103))[:100])
