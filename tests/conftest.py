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

# The repository root (where configs/ and train.py live) on sys.path. The tests are
# imported with --import-mode=importlib (setup.cfg), so test files in different folders
# may share base names; test files get the helpers below as fixtures (never by importing
# this module).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
  sys.path.insert(0, ROOT)


# The slowest files (real processes, whole training runs) start first: the xdist workers
# then end together, the short tests filling the gaps, instead of one worker running a long
# test alone at the end. (A file missing here only runs later; the order changes nothing
# else: every test is independent of the others.)
SLOW_FIRST = (
    "tests/train/test_scale.py", "tests/train/test_recovery.py",
    "tests/train/test_damaged_checkpoint.py", "tests/train/test_conditional_runs.py",
    "tests/test_train_py.py", "tests/train/test_default_optimization.py",
    "tests/uses/test_uses_on_trained_runs.py", "tests/uses/test_loading_and_density.py",
    "tests/evaluation/test_sample_judges_in_runs.py", "tests/train/test_steps.py",
    "tests/train/test_loop.py", "tests/test_losses.py", "tests/models/test_options.py",
    "tests/models/test_pix2pix.py", "tests/studio/test_studio.py",
)


def pytest_collection_modifyitems(config, items):
  rank = {name: i for i, name in enumerate(SLOW_FIRST)}
  items.sort(key=lambda item: rank.get(os.path.relpath(str(item.fspath), ROOT), len(rank)))


# --------------------------------------------------------------------------- helpers


def _load_config(name: str):
  """``get_config()`` of ``configs/<name>.py``."""
  import importlib.util
  spec = importlib.util.spec_from_file_location(f"cfg_{name}", os.path.join(ROOT, "configs", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config()


def _tiny(config, **overrides):
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
  config.eval.sample_metrics = False   # no judge classifier (tests that want it ask)
  config.progress = False
  for k, v in overrides.items():
    target = config
    *path, last = k.split(".")
    for p in path:
      target = target[p]
    target[last] = v
  return config


def _run_chunks_compiling_once(config, chunk: int, calls: int):
  """Runs ``calls`` compiled training chunks of ``chunk`` steps, each with new buffers and a
  new start step, asserting that the chunk is traced (so compiled) only once."""
  import chex
  import jax
  from jaxgen.train import run as run_lib
  from jaxgen.train import steps
  dataset, model = run_lib.prepare(config)
  keys = steps.run_keys(0)
  train_x, _ = steps.device_splits(config, dataset, keys, model.condition)
  num_train = jax.tree.leaves(train_x)[0].shape[0]
  fn = chex.assert_max_traces(steps.make_train_chunk(model, config, num_train, chunk), n=1)
  run = jax.jit(fn, donate_argnums=0)
  state = model.init(keys["init"])
  for i in range(calls):
    state, metrics = run(state, train_x, keys["train"], keys["data"], jax.numpy.int32(chunk * i))
  return state, metrics


def _x64():
  """Context manager for float64 (jax.enable_x64 in new JAX, jax.experimental in old)."""
  import jax
  if hasattr(jax, "enable_x64"):
    return jax.enable_x64(True)
  from jax.experimental import enable_x64  # pragma: no cover - older JAX
  return enable_x64()


def _one_adam_update(before, after, b1: float, lr: float, b2: float = 0.999):
  """The gradient an Adam optimizer saw in the single update ``before`` -> ``after`` (two
  :class:`~jaxgen.models.state.TrainState` s, ``before`` with a fresh optimizer state),
  asserting that the step taken is Adam's first step with learning rate ``lr``.

  After one update from a fresh state, Adam's first moment is mu = (1 - b1) g and its step
  is -lr * g / (|g| + eps) (bias corrections cancel): the gradient and the learning rate a
  model used can be read back exactly and compared with a loss written by hand.
  """
  import chex
  import jax
  import jax.numpy as jnp
  import optax
  mu = optax.tree_utils.tree_get(after.opt_state, "mu")
  grad = jax.tree.map(lambda m: m / (1.0 - b1), mu)
  nu = optax.tree_utils.tree_get(after.opt_state, "nu")     # (1 - b2) g^2
  chex.assert_trees_all_close(nu, jax.tree.map(lambda g: (1.0 - b2) * g * g, grad),
                              rtol=1e-4, atol=1e-12)
  step = jax.tree.map(lambda a, b: a - b, after.params, before.params)
  want = jax.tree.map(lambda g: -lr * g / (jnp.abs(g) + 1e-8), grad)
  # float32 parameters: p1 - p0 carries a rounding error of ~1e-7 |p|, i.e. ~1e-4 lr
  chex.assert_trees_all_close(step, want, rtol=1e-3, atol=1e-3 * lr)
  return grad


def _differ(a, b) -> bool:
  """True if two trees of the same structure (asserted) differ in at least one leaf."""
  import jax
  import numpy as np
  return any(jax.tree.leaves(jax.tree.map(lambda x, y: not np.array_equal(x, y), a, b)))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fast_compiles():
  """Turns XLA's optimizations off for the module that uses it (10x faster compiles on CPU;
  ``pytestmark = pytest.mark.usefixtures("fast_compiles")``), and back on after it."""
  import jax
  previous = jax.config.read("jax_disable_most_optimizations")
  jax.config.update("jax_disable_most_optimizations", True)
  yield
  jax.config.update("jax_disable_most_optimizations", previous)


@pytest.fixture
def differ():
  """``differ(a, b) -> bool``: two trees of the same structure (asserted) differ in a leaf."""
  return _differ


@pytest.fixture
def one_adam_update():
  """``one_adam_update(before, after, b1, lr, b2=0.999) -> grad``: the gradient of a single
  Adam update, checked against the learning rate ``lr`` and Adam's second moment (b2)."""
  return _one_adam_update


@pytest.fixture
def repo_root():
  """The repository root: configs/, train.py."""
  return ROOT


@pytest.fixture
def load_config():
  """``load_config(name)``: ``get_config()`` of ``configs/<name>.py``."""
  return _load_config


@pytest.fixture
def tiny():
  """``tiny(config, **overrides)``: shrinks a config to a few seconds of CPU work
  (overrides by dotted key, e.g. ``tiny(c, **{"gan.d_steps": 2})``)."""
  return _tiny


@pytest.fixture
def run_chunks_compiling_once():
  """``run_chunks_compiling_once(config, chunk, calls) -> (state, metrics)``: runs
  ``calls`` compiled chunks, asserting that the chunk compiles only once."""
  return _run_chunks_compiling_once


@pytest.fixture
def x64():
  """``with x64(): ...`` computes in float64."""
  return _x64


@pytest.fixture
def vae_config():
  return _tiny(_load_config("vae_mnist"))


@pytest.fixture
def ae_config():
  return _tiny(_load_config("ae_mnist"))


@pytest.fixture
def ring_config():
  """A small GAN on the ring mixture: one seed, 20 steps, log/eval/checkpoint every 10."""
  c = _load_config("gan_ring")
  c.model.hidden = (16, 16)
  c.gan.d_hidden = (16, 16)
  c.num_seeds = 1
  c.num_steps = 20
  c.log_every = c.eval_every = c.checkpoint_every = 10
  c.eval.num_mode_samples = 200
  c.progress = False
  return c


_TRAINED = {}


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory):
  """``trained_tiny(name, **overrides) -> (config, workdir, state, result)``: a tiny run of
  ``configs/<name>.py`` (:func:`_tiny`) trained once per test process and shared (do not
  write into its workdir)."""
  def get(name, **overrides):
    key = (name, tuple(sorted(overrides.items())))
    if key not in _TRAINED:
      from jaxgen import train  # lazy: conftest must not import JAX before setting flags
      config = _tiny(_load_config(name), **overrides)
      workdir = str(tmp_path_factory.mktemp(name))
      state, result = train.train(config, workdir, log=lambda s: None)
      _TRAINED[key] = (config, workdir, state, result)
    return _TRAINED[key]
  return get


def _png_pixels(url):
  """A PNG data URL as uint8 pixels [H, W] (one channel) or [H, W, 3]."""
  import base64
  import io
  import numpy as np
  from PIL import Image
  return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def _as_uint8(image):
  """An image [H, W, C] in [0, 1] as the uint8 pixels a PNG of it holds ([H, W] for C = 1)."""
  import numpy as np
  x = np.round(np.clip(np.asarray(image, np.float32), 0, 1) * 255).astype(np.uint8)
  return x[..., 0] if x.shape[-1] == 1 else x


@pytest.fixture
def png_pixels():
  """``png_pixels(data_url) -> uint8 array``: the pixels of a PNG data URL (the studio's images)."""
  return _png_pixels


@pytest.fixture
def as_uint8():
  """``as_uint8(image) -> uint8 array``: an image in [0, 1] as its PNG's pixels."""
  return _as_uint8
