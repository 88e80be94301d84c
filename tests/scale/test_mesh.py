"""The training mesh's shape (jaxgen.scale.mesh.mesh_shape): what the defaults choose, and
one-line refusals; in this process, the seeds of a run laid over jaxgen's per-core CPU
devices with every seed's bits unchanged. The multi-device and multi-process runs are in
tests/train/test_scale.py (slow tier)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen import xla_options
from jaxgen.scale import mesh as mesh_lib
from jaxgen.train import build_run


@pytest.mark.parametrize("overrides, message", [
    ({"batch_size": 50, "mesh.data": 8}, "does not split over the 8 devices"),
    ({"mesh.data": 16}, "there are 8"),
    ({"mesh.runs": 3}, "does not divide the 8 devices"),
    ({"num_seeds": 2, "mesh.runs": 4, "mesh.data": 2}, "num_seeds=2 does not split"),
    ({"mesh.runs": -1}, "must be >= 0"),
])
@pytest.mark.parametrize("seeds_only", [False, True])
def test_mesh_that_does_not_fit_is_refused_in_one_line(load_config, tiny, overrides, message,
                                                       seeds_only):
  config = tiny(load_config("vae_mnist"), **overrides)
  if seeds_only and message == "does not divide the 8 devices":
    message = "does not split over the 3 devices"     # data is 1 there: the seeds do not split
    config.num_seeds = 4
  with pytest.raises(config_lib.ConfigError, match=message) as e:
    mesh_lib.mesh_shape(config, num_devices=8, seeds_only=seeds_only)
  assert "\n" not in str(e.value) and "--config." in str(e.value)


def _shape(load_config, tiny, devices, seeds_only, **overrides):
  config = tiny(load_config("gan_mnist"), batch_size=48, **overrides)
  return mesh_lib.mesh_shape(config, num_devices=devices, seeds_only=seeds_only)


def test_accelerators_split_the_batch_over_every_device_the_seeds_leave(load_config, tiny):
  shape = lambda **o: _shape(load_config, tiny, 8, False, **o)
  assert shape() == (1, 8)                                  # one seed: the batch over all
  assert shape(num_seeds=4) == (4, 2)                       # seeds over as many as divide them
  assert shape(num_seeds=10) == (2, 4)                      # ... and divide the devices
  assert shape(num_seeds=3) == (1, 8)
  assert shape(num_seeds=4, seed_batching="vmap") == (1, 8)  # vmapped seeds stay on one row
  assert shape(num_seeds=4, **{"mesh.runs": 1}) == (1, 8)    # the user's choice wins
  assert shape(num_seeds=4, **{"mesh.data": 1}) == (4, 1)
  assert shape(num_seeds=10, **{"mesh.data": 1}) == (5, 1)


def test_jaxgens_cpu_devices_serve_the_seeds_never_a_split_batch(load_config, tiny):
  shape = lambda devices, **o: _shape(load_config, tiny, devices, True, **o)
  assert shape(2) == (1, 1)                                 # one seed: one device, as before
  assert shape(16) == (1, 1)
  assert shape(2, num_seeds=10) == (2, 1)                   # 10 seeds on 2 cores: 5 per core
  assert shape(16, num_seeds=10) == (10, 1)
  assert shape(4, num_seeds=6) == (3, 1)
  assert shape(2, num_seeds=3) == (1, 1)                    # no even split: one device
  assert shape(2, num_seeds=10, seed_batching="vmap") == (1, 1)
  assert shape(2, num_seeds=10, **{"mesh.runs": 1}) == (1, 1)
  assert shape(2, num_seeds=10, **{"mesh.data": 2}) == (1, 2)  # asked for: the batch splits


def test_seeds_only_means_jaxgens_own_cpu_devices_in_one_process(load_config, tiny):
  """The default of ``seeds_only``: this pytest process imported jaxgen, which gave JAX one CPU
  device per core (unless the environment chose)."""
  config = tiny(load_config("gan_mnist"), batch_size=48, num_seeds=jax.device_count())
  runs, data = mesh_lib.mesh_shape(config)
  if xla_options.own_cpu_devices():
    assert (runs, data) == (jax.device_count(), 1)
  else:
    assert data * runs == jax.device_count()


@pytest.mark.skipif(jax.device_count() < 2 or not xla_options.own_cpu_devices(),
                    reason="needs jaxgen's per-core CPU devices (a machine with 2+ cores)")
def test_a_multi_seed_run_trains_its_seeds_over_the_cores_with_the_same_bits(load_config, tiny):
  """The default mesh puts the seeds over the devices; every seed's state after a few steps is
  the one of the run on one device (each device runs the same per-seed program)."""
  finals = {}
  for runs in (0, 1):
    config = tiny(load_config("gan_ring"), batch_size=16, num_seeds=2 * jax.device_count(),
                  **{"mesh.runs": runs, "model.hidden": (16, 16), "gan.d_hidden": (16, 16)})
    run = build_run(config)
    assert dict(run.mesh.shape) == ({"runs": jax.device_count(), "data": 1} if runs == 0
                                    else {"runs": 1, "data": 1})
    state, _ = run.compile_chunk(5)(run.place_state(run.init_state()), *run.chunk_inputs(),
                                    jnp.int32(0))
    if runs == 0:
      assert len(jax.tree.leaves(state)[0].sharding.device_set) == jax.device_count()
    finals[runs] = [np.asarray(x) for x in jax.tree.leaves(state)]
  for a, b in zip(finals[0], finals[1]):
    np.testing.assert_array_equal(a, b)
