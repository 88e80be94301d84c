import os
import sys
import tempfile

import pytest

# One XLA compilation cache for the whole session, subprocesses included: many tests compile
# the same small programs. Must be set before JAX is imported.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", tempfile.mkdtemp(prefix="jaxgen_xla_cache_"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# The tests' programs are small: compiling dominates their time, and XLA's backend (LLVM)
# optimization level 0 compiles them about 40% faster in all. What the tests check does not
# depend on it (reruns and resumes compare programs compiled alike). Set the flag yourself
# in XLA_FLAGS to test at another level.
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


def load_config(name: str):
  """``get_config()`` of ``configs/<name>.py``."""
  import importlib.util
  spec = importlib.util.spec_from_file_location(f"cfg_{name}", os.path.join(ROOT, "configs", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def tiny(config, **overrides):
  """Shrinks a config to a few seconds of CPU work."""
  config.model.hidden = (32,)
  config.model.latent_dim = 4
  config.batch_size = 50
  config.num_steps = 20
  config.log_every = 10
  config.eval_every = 20
  config.checkpoint_every = 10
  config.eval.nll_samples = 20
  config.eval.num_images = 16
  config.progress = False
  for k, v in overrides.items():
    target = config
    *path, last = k.split(".")
    for p in path:
      target = target[p]
    target[last] = v
  return config


def run_chunks_compiling_once(config, chunk: int, calls: int):
  """Runs ``calls`` compiled training chunks of ``chunk`` steps, each with new buffers and a
  new start step, asserting that the chunk is traced (so compiled) only once."""
  import chex
  import jax
  from jaxgen import trainer
  dataset, model = trainer.prepare(config)
  keys = trainer.run_keys(0)
  train_x, _ = trainer.device_splits(config, dataset, keys)
  fn = chex.assert_max_traces(trainer.make_train_chunk(model, config, train_x.shape[0], chunk), n=1)
  run = jax.jit(fn, donate_argnums=0)
  state = model.init(keys["init"])
  for i in range(calls):
    state, metrics = run(state, train_x, keys["train"], keys["data"], jax.numpy.int32(chunk * i))
  return state, metrics


@pytest.fixture
def vae_config():
  return tiny(load_config("vae_mnist"))


@pytest.fixture
def ae_config():
  return tiny(load_config("ae_mnist"))


def x64():
  """Context manager for float64 (jax.enable_x64 in new JAX, jax.experimental in old)."""
  import jax
  if hasattr(jax, "enable_x64"):
    return jax.enable_x64(True)
  from jax.experimental import enable_x64  # pragma: no cover - older JAX
  return enable_x64()
