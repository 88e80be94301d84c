"""The compiled step loop: one compilation, a chunk equals its single steps, and several
seeds in one program."""
import os
import subprocess
import sys

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen import train
from jaxgen.train import run as run_lib
from jaxgen.train import steps


def test_step_compiles_once(vae_config, run_chunks_compiling_once):
  state, metrics = run_chunks_compiling_once(vae_config, chunk=5, calls=4)
  assert int(state.step) == 20
  chex.assert_shape(metrics["loss"], (5,))


def test_chunk_equals_single_steps(vae_config):
  """Scanning 4 steps in one call gives exactly what 4 one-step calls give."""
  dataset, model = run_lib.prepare(vae_config)
  keys = steps.run_keys(3)
  train_x, _ = steps.device_splits(vae_config, dataset, keys)
  n = train_x.shape[0]
  four = jax.jit(steps.make_train_chunk(model, vae_config, n, 4))
  one = jax.jit(steps.make_train_chunk(model, vae_config, n, 1))
  s4, m4 = four(model.init(keys["init"]), train_x, keys["train"], keys["data"], 0)
  s1 = model.init(keys["init"])
  losses = []
  for i in range(4):
    s1, m = one(s1, train_x, keys["train"], keys["data"], i)
    losses.append(float(m["loss"][0]))
  np.testing.assert_allclose(m4["loss"], losses, rtol=1e-6)
  chex.assert_trees_all_close(s4.params, s1.params, rtol=1e-5, atol=1e-6)


def test_seeds_in_one_program_equal_single_seed_runs(tmp_path, ring_config, differ):
  """Every seed of a 'map' run is bit-identical to its single-seed run, and the reported
  mean and std are NumPy's over the per-seed rows (population std)."""
  ring_config.num_seeds = 2
  ring_config.seed_batching = "map"
  many, result = train.train(ring_config, str(tmp_path / "many"), log=lambda s: None)
  assert result["num_seeds"] == 2 and len(result["per_seed"]) == 2
  for i in range(2):
    ring_config.num_seeds = 1
    ring_config.seed = i
    one, one_result = train.train(ring_config, str(tmp_path / f"one{i}"), log=lambda s: None)
    chex.assert_trees_all_equal(steps.seed_slice(many, i), one)
    assert result["per_seed"][i] == one_result, f"seed {i}: its evaluation differs"
  assert differ(steps.seed_slice(many, 0).generator.params,
                 steps.seed_slice(many, 1).generator.params)
  metrics = {"modes", "high_quality", "reverse_kl", "d_real", "d_fake"}
  assert metrics <= set(result)
  for k in metrics:
    rows = np.array([row[k] for row in result["per_seed"]], np.float64)
    np.testing.assert_allclose(result[k], rows.mean(), rtol=1e-12)
    np.testing.assert_allclose(result[f"{k}_std"], rows.std(ddof=0), rtol=1e-12, atol=1e-15)
  assert result["step"] == 20 and result["per_seed"][0]["step"] == 20


@pytest.mark.slow  # reason: three multi-seed compilations, 10 s
def test_vmapped_seeds_do_not_depend_on_the_number_of_seeds(ring_config):
  ring_config.seed_batching = "vmap"
  ring_config.num_seeds = 3
  dataset, model = run_lib.prepare(ring_config)
  keys = steps.seed_keys(ring_config)
  train_x, _ = steps.device_splits(ring_config, dataset, keys[0])
  run = jax.jit(steps.over_seeds(steps.make_train_chunk(model, ring_config, train_x.shape[0], 10),
                                 "vmap"))
  state = steps.init_state(model, keys)
  tk, dk = steps.stack_keys(keys, "train"), steps.stack_keys(keys, "data")
  three, m3 = run(state, train_x, tk, dk, jnp.int32(0))
  two, m2 = run(jax.tree.map(lambda a: a[1:], state), train_x, tk[1:], dk[1:], jnp.int32(0))
  chex.assert_trees_all_equal(steps.seed_slice(three, 2), steps.seed_slice(two, 1))
  # and it is the same computation as one seed alone, up to float rounding
  one, m1 = jax.jit(steps.make_train_chunk(model, ring_config, train_x.shape[0], 10))(
      steps.seed_slice(state, 2), train_x, keys[2]["train"], keys[2]["data"], jnp.int32(0))
  chex.assert_trees_all_close(steps.seed_slice(three, 2), one, rtol=1e-4, atol=1e-6)
  np.testing.assert_allclose(m3["d_loss"][2], m1["d_loss"], rtol=1e-4)


def test_gan_chunk_compiles_once(ring_config, run_chunks_compiling_once):
  state, metrics = run_chunks_compiling_once(ring_config, chunk=5, calls=3)
  assert int(state.step) == 15
  assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm"}
  chex.assert_tree_all_finite(metrics)


def test_build_run_is_what_the_training_loop_compiles(ring_config):
  """A Run's pieces are the functions of this module: its state is init_state of its
  keys, its chunk equals make_train_chunk over the seeds, and chunk_length lands on every
  log, eval and checkpoint step."""
  ring_config.num_seeds = 2
  ring_config.seed_batching = "map"
  run = train.build_run(ring_config)
  assert run.num_seeds == 2 and len(run.keys) == 2 and run.dataset.name == "ring"
  assert run.model.example_shape == run.dataset.example_shape == (2,)
  state = run.init_state()
  chex.assert_trees_all_equal(state, steps.init_state(run.model, steps.seed_keys(ring_config)))
  train_x, tk, dk = run.chunk_inputs()        # placed on the run's (here 1 x 1) mesh
  np.testing.assert_array_equal(train_x, run.train_x)
  assert tk.shape[0] == dk.shape[0] == 2 and train_x.sharding.mesh == run.mesh
  want = jax.jit(steps.over_seeds(steps.make_train_chunk(run.model, ring_config,
                                                         train_x.shape[0], 5), "map"))(
      state, train_x, tk, dk, jnp.int32(0))
  got = run.compile_chunk(5)(run.init_state(), *run.chunk_inputs(), jnp.int32(0))
  chex.assert_trees_all_equal(got, want)
  assert steps.chunk_length(ring_config) == 10          # num_steps 20, everything every 10



_INIT_CHECK = r"""
import sys, jax, jax.numpy as jnp, numpy as np
sys.path.insert(0, '.')
from benchmarks.cli import load_config
from jaxgen.nets.adversarial import dcgan_scale_init, normal_init
from jaxgen.train import run as run_lib, steps

def differing(a, b):
  assert jax.tree.structure(a) == jax.tree.structure(b)
  return sum(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))

key = jax.random.PRNGKey(3)
if sys.argv[1] == "initializers":          # large draws: without the remedies hundreds differ
  for init in (dcgan_scale_init, normal_init(0.02)):
    print(differing(init(key, (100_000,)), jax.jit(init, static_argnums=1)(key, (100_000,))))
  models = [("gan_ring_mbd", 2)]
else:
  models = [("dcgan_mnist", 1), ("pix2pix_sr_digits", 1)]
for name, seeds in models:
  config = load_config(name)
  config.num_seeds = seeds
  _, model = run_lib.prepare(config)
  keys = steps.seed_keys(config)
  one_by_one = (model.init(keys[0]["init"]) if seeds == 1
                else jax.vmap(model.init)(jnp.stack([k["init"] for k in keys])))
  print(differing(one_by_one, steps.init_state(model, keys)))
"""


def _init_check(repo_root, which: str) -> list[str]:
  """Runs ``_INIT_CHECK`` in a process of its own with XLA's default optimizations (the
  suite's conftest lowers the backend's optimization level, which hides the fused
  multiply-add); returns the number of differing leaves per check."""
  env = dict(os.environ)
  env["XLA_FLAGS"] = " ".join(f for f in env.get("XLA_FLAGS", "").split()
                              if "xla_backend_optimization_level" not in f)
  p = subprocess.run([sys.executable, "-c", _INIT_CHECK, which], cwd=repo_root, env=env,
                     capture_output=True, text=True, timeout=300)
  assert p.returncode == 0, p.stderr[-3000:]
  return p.stdout.split()


@pytest.mark.slow  # reason: 12 s, every model initialised op by op
def test_initializers_give_the_same_values_compiled_and_op_by_op(repo_root):
  """``steps.init_state`` compiles ``model.init``; its values must be those of the same init
  run op by op (as jaxgen ran it before, and as every published figure was trained from).
  Compiling the initializers together, XLA folds N(0, s²)'s scale into the sampler's
  constants and XLA:CPU contracts the BatchNorm scale's 1 + 0.02 n into one fused
  multiply-add, unless jaxgen's initializers prevent it: checked on large draws of each,
  and on a model with the minibatch layer's kernel, two seeds (vmapped)."""
  assert _init_check(repo_root, "initializers") == ["0", "0", "0"]


@pytest.mark.slow     # the DCGAN's and pix2pix's op-by-op inits compile op by op (~30 s)
def test_compiled_init_equals_op_by_op_init_for_image_models(repo_root):
  """The same for the shipped DCGAN and pix2pix models (BatchNorm and instance norm scales,
  convolution kernels): every leaf of the initial state equal."""
  assert _init_check(repo_root, "models") == ["0", "0"]


class _Recording:
  """A stand-in model whose train step returns the batch it was given as its metric."""

  def train_step(self, state, batch, key):
    return state, {"batch": batch}


def test_the_step_perturbs_training_batches_at_the_configured_rate(vae_config):
  """dataset.perturb_rate = 0.3: the step's batch is its binarized batch with the values
  chosen by the step's key replaced by coin flips (about 15% of them change); at rate 0 the
  batch is the binarized batch itself."""
  from jaxgen.data.preprocess import perturb, preprocess_batch
  from jaxgen.scale.sharding import batch_rows
  from jaxgen.data import pipeline
  dataset, _ = run_lib.prepare(vae_config)
  keys = steps.run_keys(3)
  train_x, _ = steps.device_splits(vae_config, dataset, keys)
  perm = jnp.arange(train_x.shape[0])
  plain = steps.make_step_at(_Recording(), vae_config)(None, train_x, perm, 2, keys["train"])[1]
  vae_config.dataset.perturb_rate = 0.3
  noisy = steps.make_step_at(_Recording(), vae_config)(None, train_x, perm, 2, keys["train"])[1]
  k_prep, _ = jax.random.split(jax.random.fold_in(keys["train"], 2))
  raw = batch_rows(pipeline.batch_at(train_x, perm, 2, vae_config.batch_size))
  binarized = preprocess_batch(raw, k_prep, vae_config.dataset.preprocess)
  np.testing.assert_array_equal(plain["batch"], binarized)
  np.testing.assert_array_equal(noisy["batch"], perturb(
      binarized, jax.random.fold_in(k_prep, 1), 0.3, vae_config.dataset.preprocess))
  assert 0.1 < float(jnp.mean(noisy["batch"] != binarized)) < 0.2
  # dataset.dihedral: the binarized batch under the step's flips and quarter turns
  from jaxgen.data.preprocess import dihedral
  vae_config.dataset.perturb_rate, vae_config.dataset.dihedral = 0.0, True
  turned = steps.make_step_at(_Recording(), vae_config)(None, train_x, perm, 2, keys["train"])[1]
  np.testing.assert_array_equal(turned["batch"], dihedral(binarized, jax.random.fold_in(k_prep, 2)))
  assert not np.array_equal(turned["batch"], binarized)
