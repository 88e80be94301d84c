"""benchmarks/pacgan_protocol.py: ring and grid in one program are the train.py runs."""
import json
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import load_config
from jaxgen import config as config_lib
from jaxgen import trainer
from benchmarks import pacgan_protocol


def _small(name: str):
  c = load_config(name)
  c.model.hidden = c.gan.d_hidden = (16,)
  c.gan.maxout_pieces = 2
  c.num_seeds, c.num_steps = 2, 20
  c.log_every, c.eval_every, c.checkpoint_every = 10, 20, 10
  c.progress = False
  return c


def _same(a: dict, b: dict) -> bool:       # NaN entries (a std with an inf) compare equal
  return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _equal(a, b) -> bool:
  return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_one_program_equals_the_train_py_runs_and_resumes_exactly(tmp_path):
  configs = [_small("gan_ring_pacgan"), _small("gan_grid_pacgan")]
  protocol = pacgan_protocol.Protocol(configs)
  work = str(tmp_path / "both")
  state, results = pacgan_protocol.run(protocol, work, log=lambda s: None)
  assert set(results) == {"ring", "grid"}
  assert os.path.exists(os.path.join(work, "ring", "eval.json"))
  # each dataset's runs equal the trainer's compiled chunk (what train.py runs, 2 seeds)
  c, model = configs[0], protocol.models[0]
  chunk = trainer.compile_train_chunk(model, c, protocol.num_train, c.num_seeds, c.num_steps)
  for d, keys in enumerate(protocol.keys):
    alone, _ = chunk(trainer.init_state(model, c, keys), protocol.train_x[d],
                     trainer.stack_keys(keys, "train"), trainer.stack_keys(keys, "data"),
                     jnp.int32(0))
    assert _equal(protocol.dataset_state(state, d), alone), configs[d].dataset.name
  # resume from step 10 (as after --time_limit) to the same end
  shutil.rmtree(os.path.join(work, "checkpoints", "20"))
  resumed, again = pacgan_protocol.run(protocol, work, log=lambda s: None)
  assert _equal(resumed, state) and _same(again, results)


def test_refuses_configs_that_differ_beyond_the_dataset(tmp_path):
  ring, grid = _small("gan_ring_pacgan"), _small("gan_grid_pacgan")
  grid.gan.minibatch = "discrimination"
  with pytest.raises(config_lib.ConfigError, match="differ only in dataset"):
    pacgan_protocol.Protocol([ring, grid])
  # a stop before the first chunk leaves a checkpoint and no results
  grid.gan.minibatch = "none"
  _, none = pacgan_protocol.run(pacgan_protocol.Protocol([ring, grid]), str(tmp_path),
                                time_limit=0, log=lambda s: None)
  assert none == {} and os.path.isdir(tmp_path / "checkpoints" / "0")
  # then the workdir refuses another config
  ring.learning_rate = grid.learning_rate = 1e-3
  with pytest.raises(config_lib.ConfigError, match="different config"):
    pacgan_protocol.run(pacgan_protocol.Protocol([ring, grid]), str(tmp_path), log=lambda s: None)
