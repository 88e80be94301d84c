"""Checkpointer: save and restore, keep the last N, skip damaged checkpoints; only the
writer moves a damaged one aside, never deleting it."""
import glob
import os

import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.checkpoint import CheckpointError, CheckpointMismatch, Checkpointer


def _state(value):
  return {"w": jnp.full((3, 2), value, jnp.float32), "step": jnp.int32(value)}


def _damage(directory, step):
  for f in glob.glob(os.path.join(directory, str(step), "**", "*"), recursive=True):
    if os.path.isfile(f) and os.path.getsize(f) > 0:
      with open(f, "r+b") as fh:
        fh.truncate(max(0, os.path.getsize(f) // 3))


@pytest.fixture
def opened():
  """``opened(directory, ...)``: a Checkpointer, closed when the test ends."""
  made = []

  def make(*args, **kwargs):
    made.append(Checkpointer(*args, **kwargs))
    return made[-1]
  yield make
  for ckpt in made:
    ckpt.close()


def _saved(directory, steps, max_to_keep=3):
  ckpt = Checkpointer(directory, max_to_keep, log=lambda s: None, writer=True)
  for s in steps:
    ckpt.save(s, _state(s))
  ckpt.close()


def test_save_restore_and_keep_the_last_n(tmp_path, opened):
  d = str(tmp_path / "ckpt")
  _saved(d, [1, 2, 3, 4], max_to_keep=2)
  ckpt = opened(d)
  assert ckpt.all_steps() == [3, 4] and ckpt.latest_step() == 4
  restored = ckpt.restore(_state(0))
  np.testing.assert_array_equal(restored["w"], np.full((3, 2), 4.0))
  assert ckpt.restored_step == 4
  np.testing.assert_array_equal(ckpt.restore(_state(0), 3)["w"], np.full((3, 2), 3.0))
  ckpt.save(4, _state(99))                                      # overwrites nothing
  np.testing.assert_array_equal(opened(d).restore(_state(0))["w"], np.full((3, 2), 4.0))


@pytest.mark.parametrize("template, named", [
    ({"w": jnp.zeros((4, 2)), "step": jnp.int32(0)}, "other shapes: w (3, 2) -> (4, 2)"),
    ({**_state(0), "ema": jnp.zeros(3)}, "only in this run: ema"),
    ({"w": jnp.zeros((3, 2))}, "only in the checkpoint: step"),
])
def test_a_different_state_is_refused_by_name_and_left_in_place(tmp_path, opened, template, named):
  """A readable checkpoint of another state (a config change that adds an EMA copy, another
  width) is not 'damaged': the error names the differing arrays, and even the writer moves
  nothing aside, nor falls back to an older step."""
  d = str(tmp_path / "ckpt")
  _saved(d, [1, 2])
  messages = []
  with pytest.raises(CheckpointMismatch, match="holds a different training state") as e:
    opened(d, log=messages.append, writer=True).restore(template)
  assert named in str(e.value) and "step 2" in str(e.value)
  assert isinstance(e.value, CheckpointError) and messages == []
  assert sorted(os.listdir(d)) == ["1", "2"]


def test_reader_skips_a_damaged_checkpoint_and_moves_nothing(tmp_path, opened):
  d = str(tmp_path / "ckpt")
  _saved(d, [1, 2])
  _damage(d, 2)
  messages = []
  restored = opened(d, log=messages.append).restore(_state(0))
  assert int(restored["step"]) == 1
  assert len(messages) == 1 and "step 2" in messages[0] and "damaged" in messages[0]
  assert "moved" not in messages[0]
  assert sorted(os.listdir(d)) == ["1", "2"]


def test_writer_moves_a_damaged_checkpoint_aside(tmp_path, opened):
  d = str(tmp_path / "ckpt")
  _saved(d, [1, 2])
  os.makedirs(os.path.join(d, "damaged-2"))                     # an earlier one: not replaced
  _damage(d, 2)
  messages = []
  ckpt = opened(d, log=messages.append, writer=True)
  restored = ckpt.restore(_state(0))
  assert int(restored["step"]) == 1 and ckpt.restored_step == 1
  assert any("step 2" in m and "moved to damaged-2-1" in m for m in messages)
  assert sorted(os.listdir(d)) == ["1", "damaged-2", "damaged-2-1"]
  assert ckpt.all_steps() == [1] and ckpt.latest_step() == 1
  ckpt.save(2, _state(2))                                       # step 2 may be saved again
  np.testing.assert_array_equal(opened(d).restore(_state(0))["w"], np.full((3, 2), 2.0))


def test_nothing_readable_is_an_error(tmp_path, opened):
  d = str(tmp_path / "ckpt")
  _saved(d, [1])
  _damage(d, 1)
  with pytest.raises(CheckpointError, match="step 1"):
    opened(d, log=lambda s: None).restore(_state(0))
  assert os.path.isdir(os.path.join(d, "1"))
