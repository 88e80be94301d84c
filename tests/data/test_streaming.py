"""Streaming the training split from the host: the reader reads exactly the rows the
on-device pipeline gathers, each process only its share, and a streamed run is bit-identical
to an on-device run of the same config and seed (one and several seeds, conditional splits,
several calls per chunk, resumed)."""
import jax
import numpy as np
import pytest

from jaxgen import config as config_lib
from jaxgen.data import pipeline, streaming
from jaxgen.train import steps
from jaxgen.train.loop import train
from jaxgen.train.run import build_run, check_config


def _device_batches(data, key, starts, batch):
  """Step t's rows as the on-device chunk gathers them (next_permutation + batch_at)."""
  nxt = jax.jit(pipeline.next_permutation, static_argnums=(3, 4))
  get = jax.jit(pipeline.batch_at, static_argnums=3)
  n = data.shape[0]
  perm = pipeline.epoch_permutation(key, 0, n)
  out = []
  for t in range(max(starts) + 1):
    perm = nxt(key, perm, t, n, batch)
    if t in starts:
      out.append(np.asarray(get(data, perm, t, batch)))
  return out


def test_the_reader_gathers_the_rows_the_device_gathers_across_epochs():
  data = np.arange(103 * 2, dtype=np.float32).reshape(103, 2)     # 10 steps per epoch
  keys = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in (3, 4)])
  for multi in (False, True):
    reader = streaming.HostReader(data, keys if multi else keys[0], 10, 5, multi)
    calls = list(reader.calls(0, 25))
    assert len(calls) == 5                                      # steps 0, 5, ..., 20
    for seed in range(2 if multi else 1):
      want = _device_batches(data, keys[seed], list(range(25)), 10)
      got = np.concatenate([np.asarray(c[seed] if multi else c) for c in calls])
      np.testing.assert_array_equal(got, np.stack(want))
    # a reader started mid-run reads what the run would have read there
    later = streaming.HostReader(data, keys if multi else keys[0], 10, 5, multi)
    np.testing.assert_array_equal(np.asarray(next(later.calls(15, 25))),
                                  np.asarray(calls[3]))


def test_two_processes_read_disjoint_shares_that_cover_each_epoch():
  data = np.arange(103)
  key = np.asarray(jax.random.PRNGKey(0))
  shares = [streaming.HostReader(data, key, 10, 10, False, rows=rows)
            for rows in (slice(0, 5), slice(5, 10))]
  for epoch in (0, 1):
    got = [np.asarray(s.gather(epoch * 10)).ravel() for s in shares]
    assert set(got[0]).isdisjoint(got[1])
    perm = np.asarray(pipeline.epoch_permutation(key, epoch, 103))
    np.testing.assert_array_equal(np.sort(np.concatenate(got)), np.sort(perm[:100]))
  assert [s.read for s in shares] == [100, 100]     # each read its half, nothing more


def test_auto_streams_a_split_larger_than_half_the_device_memory():
  x = np.zeros((100, 10), np.uint8)          # 1,000 bytes
  assert streaming.streams("host", x) and not streaming.streams("device", x, memory=10)
  assert streaming.streams("auto", x, memory=1_999)
  assert not streaming.streams("auto", x, memory=2_000)
  assert not streaming.streams("auto", {"x": x, "cond": x}, memory=4_000)
  assert streaming.streams("auto", {"x": x, "cond": x}, memory=3_999)   # both leaves count
  if streaming.device_memory() is None:      # CPU: the device's memory is the host's
    assert not streaming.streams("auto", x)
  with pytest.raises(ValueError, match="dataset.stream"):
    streaming.streams("gpu", x)


def test_steps_per_call_is_the_largest_divisor_that_fits_the_budget():
  assert streaming.steps_per_call(500, 128 * 784, 64 << 20) == 500
  assert streaming.steps_per_call(500, 128 * 784, 1 << 20) == 10
  assert streaming.steps_per_call(7, 100, 50) == 1           # one step over budget: still 1


def test_a_bad_stream_mode_is_refused_in_one_line(vae_config):
  vae_config.dataset.stream = "gpu"
  with pytest.raises(config_lib.ConfigError, match=r"dataset.stream='gpu' is not one of"):
    check_config(vae_config)


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(jax.device_get(state))]


def _run(config, workdir, **overrides):
  c = config.copy_and_resolve_references()
  for k, v in overrides.items():
    *path, last = k.split(".")
    t = c
    for p in path:
      t = t[p]
    t[last] = v
  state, _ = train(c, str(workdir), log=lambda m: None)
  return _leaves(state)


@pytest.mark.slow       # three 30-60-step runs, streamed and on the device: 8 s
def test_a_streamed_run_equals_the_on_device_run_and_resumes(vae_config, tmp_path):
  """60 steps over two epochs (the tiny VAE's split is 2,000 examples of batch 50: 40 steps
  per epoch), 2 streamed calls per chunk of 30 (dataset.stream_mb); the streamed run
  stopped at step 30 and resumed ends with the same bits."""
  vae_config.num_steps, vae_config.log_every = 60, 30
  vae_config.eval_every, vae_config.checkpoint_every = 60, 30
  vae_config.dataset.stream_mb = 1                # 50 x 784 B per step: 15 steps per call
  run = build_run(vae_config.copy_and_resolve_references())
  assert not run.streamed                         # 'auto' on a CPU: the device
  want = _run(vae_config, tmp_path / "device", **{"dataset.stream": "device"})
  got = _run(vae_config, tmp_path / "host", **{"dataset.stream": "host"})
  assert all(np.array_equal(a, b) for a, b in zip(want, got))
  _run(vae_config, tmp_path / "resumed", **{"dataset.stream": "host", "num_steps": 30})
  resumed = _run(vae_config, tmp_path / "resumed", **{"dataset.stream": "host"})
  assert all(np.array_equal(a, b) for a, b in zip(want, resumed))


def test_the_streamed_chunk_cuts_a_chunk_into_calls_and_returns_every_steps_metrics(vae_config):
  vae_config.dataset.stream, vae_config.dataset.stream_mb = "host", 1
  run = build_run(vae_config)
  fn = run.compile_chunk(50)
  assert isinstance(fn, steps.StreamedChunk) and fn.steps_per_call == 25
  inputs = run.chunk_inputs()
  state, metrics = fn(run.place_state(run.init_state()), *inputs, np.int32(0))
  assert all(np.shape(v) == (50,) for v in metrics.values())
  assert int(state.step) == 50 and fn.reader.read == 50 * vae_config.batch_size
  # called at another step (a jump, as a resumed run does), it reads that step's rows: the
  # on-device chunk's result from the same state and start
  vae_config.dataset.stream = "device"
  on_device = build_run(vae_config)
  host = jax.device_get(state)                      # each call below donates its own copy
  want, _ = on_device.compile_chunk(50)(on_device.place_state(host), *on_device.chunk_inputs(),
                                       np.int32(130))
  got, _ = fn(run.place_state(host), *inputs, np.int32(130))     # the same inputs as before
  assert all(np.array_equal(a, b) for a, b in zip(_leaves(want), _leaves(got)))


@pytest.mark.slow  # reason: 4 pairs of short trainings, about 30 s
@pytest.mark.parametrize("name,overrides", [
    ("gan_ring", {"num_seeds": 3, "seed_batching": "map"}),
    ("gan_ring", {"num_seeds": 3, "seed_batching": "vmap"}),
    ("cvae_mnist", {}),                                      # labels streamed with the images
    ("pix2pix_sr_digits", {"pix2pix.depth": 2, "pix2pix.features": 8, "batch_size": 16}),
])
def test_streamed_runs_equal_on_device_runs_for_seeds_and_conditions(name, overrides,
                                                                      load_config, tiny,
                                                                      tmp_path):
  config = tiny(load_config(name), **overrides, num_steps=60, log_every=30, eval_every=60,
                checkpoint_every=30)
  config.dataset.stream_mb = 1
  want = _run(config, tmp_path / "device", **{"dataset.stream": "device"})
  got = _run(config, tmp_path / "host", **{"dataset.stream": "host"})
  assert all(np.array_equal(a, b) for a, b in zip(want, got))
