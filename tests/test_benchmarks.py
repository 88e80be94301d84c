"""The benchmark suite times what it says: its per-step jit loop is jaxgen's step, and the
PyTorch twins have jaxgen's layer sizes (tested only where torch is installed)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import suite


def test_jit_loop_runs_the_same_steps_as_the_trainers_chunk():
  """The suite's second reference (one jitted step per call, epoch permutations on the
  host) trains exactly as the compiled chunk does: same batches, keys and updates."""
  run = suite._jaxgen_run("gan_ring_1seed", batch_size=16)
  inputs = run.chunk_inputs()
  chunk_state, _ = run.compile_chunk(3)(run.init_state(), *inputs, jnp.int32(0))
  loop_state = suite._jit_loop(run, 3)(run.init_state(), 0)
  for a, b in zip(jax.tree.leaves(chunk_state), jax.tree.leaves(loop_state)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
  assert int(loop_state.step) == 3


def _jax_param_count(run) -> int:
  shapes = jax.eval_shape(run.model.init, jax.random.PRNGKey(0))
  params = [shapes.generator.params, shapes.discriminator.params] if hasattr(shapes, "generator") \
      else [shapes.params]
  return sum(math.prod(x.shape) for p in params for x in jax.tree.leaves(p))


@pytest.mark.parametrize("workload", ["vae_mnist", "dcgan_mnist", "dcgan64_b64", "gan_ring_1seed"])
def test_torch_twins_have_jaxgens_parameter_count(workload):
  """A twin with another width, depth or bias layout than jaxgen's model would time other
  arithmetic; equal parameter counts (every weight, bias and BatchNorm scale) catch that."""
  torch = pytest.importorskip("torch")
  from benchmarks import torch_twins
  run = suite._jaxgen_run(workload, batch_size=None)
  c, shape = run.config, suite.WORKLOADS[workload].get("shape", (28, 28, 1))
  if workload == "vae_mnist":
    nets = [torch_twins.VAE(784, c.model.hidden[0], c.model.latent_dim)]
  elif workload.startswith("dcgan"):
    nets = [torch_twins.DCGANGenerator(c.model.latent_dim, c.gan.features, shape[0], shape[2]),
            torch_twins.DCGANDiscriminator(c.gan.features, shape[0], shape[2])]
  else:
    nets = [torch_twins.mlp(c.model.latent_dim, c.model.hidden, 2, torch.nn.ReLU),
            torch_twins.mlp(2, c.gan.d_hidden, 1, torch.nn.ReLU)]
  assert sum(p.numel() for n in nets for p in n.parameters()) == _jax_param_count(run)
