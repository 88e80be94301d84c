"""The compiled step loop's wiring, seen through a spy model that returns the batch and the
key each step receives: fresh keys every step, every example once per epoch, a new order
each epoch, chunks that start mid-epoch, and the preprocessing options of the data path."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import train
from jaxgen.batching import map_batches
from jaxgen.config import base_config
from jaxgen.data.preprocess import preprocess, static_binarize
from jaxgen.train import steps

N, B = 12, 4                    # 3 steps per epoch


class Spy:
  """Counts steps and reports what each step was given."""

  def train_step(self, state, batch, key):
    return state + 1, {"batch": batch, "key": jax.random.key_data(key)}


def _run(preprocess_mode, train_x, length, start=0, seed=0):
  c = base_config()
  c.batch_size = B
  c.dataset.preprocess = preprocess_mode
  keys = steps.run_keys(seed)
  fn = jax.jit(steps.make_train_chunk(Spy(), c, train_x.shape[0], length))
  state, out = fn(jnp.int32(start), jnp.asarray(train_x), keys["train"], keys["data"],
                  jnp.int32(start))
  return int(state), jax.device_get(out)


def _indices():
  """Row i of the training split holds the number i (preprocess 'none' keeps it)."""
  return np.repeat(np.arange(N, dtype=np.float32)[:, None], 2, axis=1)


def test_every_example_once_per_epoch_in_a_new_order():
  state, out = _run("none", _indices(), 9)             # 3 epochs
  assert state == 9
  rows = out["batch"][..., 0].astype(int)              # [step, batch]
  epochs = rows.reshape(3, N)                          # the 3 steps of each epoch, in order
  for e in range(3):
    assert sorted(epochs[e]) == list(range(N)), f"epoch {e} is not a permutation"
  assert len({tuple(e) for e in epochs}) == 3          # each epoch its own order


def test_a_chunk_starting_mid_epoch_continues_that_epoch():
  _, whole = _run("none", _indices(), 9)
  _, tail = _run("none", _indices(), 5, start=4)       # steps 4..8: epoch 1 from its 2nd step
  np.testing.assert_array_equal(tail["batch"], whole["batch"][4:])
  np.testing.assert_array_equal(tail["key"], whole["key"][4:])


def test_every_step_gets_its_own_key_and_preprocessing_draw():
  grey = np.full((N, 64), 128, np.uint8)               # p = 0.502 per pixel
  _, out = _run("dynamic_binarize", grey, 6)
  keys = {tuple(np.ravel(k)) for k in out["key"]}
  assert len(keys) == 6, "a model key was reused"
  bits = out["batch"].reshape(6, -1)
  assert set(np.unique(bits)) == {0.0, 1.0}
  assert len({tuple(b) for b in bits}) == 6, "a binarization draw was reused"
  # the same rows in two epochs are binarized afresh (dynamic), and another seed differs
  _, other = _run("dynamic_binarize", grey, 6, seed=1)
  assert not np.array_equal(other["batch"], out["batch"])


def test_static_binarization_is_drawn_once_when_the_split_is_loaded(vae_config):
  vae_config.dataset.preprocess = "static_binarize"
  run = train.build_run(vae_config)
  raw = run.dataset.train
  np.testing.assert_array_equal(np.asarray(run.train_x), static_binarize(raw, vae_config.seed))
  assert set(np.unique(np.asarray(run.train_x))) == {0, 255}
  grey = (raw > 0) & (raw < 255)
  assert grey.mean() > 0.05                             # the raw digits have grey levels
  # the training chunk then sees fixed 0/1 images: example i is the same in every epoch
  _, out = _run("static_binarize", np.asarray(run.train_x)[:N].reshape(N, -1), 6)
  rows = _run("none", _indices(), 6)[1]["batch"][..., 0].astype(int).ravel()   # same order
  images = out["batch"].reshape(6 * B, -1)
  assert set(np.unique(images)) == {0.0, 1.0}
  for i in range(N):                                     # each example appears in 2 epochs
    seen = images[rows == i]
    assert len(seen) == 2
    np.testing.assert_array_equal(seen[0], seen[1])


@pytest.mark.parametrize("mode", ["threshold", "unit"])
def test_the_test_split_gets_the_evaluation_preprocessing(vae_config, mode):
  vae_config.dataset.eval_preprocess = mode
  run = train.build_run(vae_config)
  want = preprocess(jnp.asarray(run.dataset.test), run.keys[0]["eval"], mode)
  np.testing.assert_array_equal(run.test_x, want)
  assert (set(np.unique(np.asarray(run.test_x))) == {0.0, 1.0}) == (mode == "threshold")


def test_keys_differ_by_purpose_and_by_seed():
  """init, train, data and eval keys are four different streams; another seed, four others."""
  a, b = steps.run_keys(0), steps.run_keys(1)
  assert list(a) == list(steps.KEY_PURPOSES)
  datas = {tuple(np.ravel(jax.random.key_data(k))) for k in (*a.values(), *b.values())}
  assert len(datas) == 8


def test_evaluation_batches_get_their_own_keys():
  x = jnp.zeros((10, 1))
  out = map_batches(lambda xb, k: jnp.broadcast_to(jax.random.key_data(k)[None],
                                                   (xb.shape[0],) + jax.random.key_data(k).shape),
                    x, 4, jax.random.PRNGKey(0))                       # 3 batches (4, 4, 2)
  rows = {tuple(np.ravel(r)) for r in np.asarray(out)}
  assert len(rows) == 3 and out.shape[0] == 10
