"""Tests for jaxgen.nets.adversarial: shapes, the minibatch layers against numpy, DCGAN init.

Shape-only checks run under ``jax.eval_shape`` (tracing, no compilation); numerical
checks run small jitted programs with XLA's optimizations off (they would dominate).
"""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nets import adversarial as gan


pytestmark = pytest.mark.usefixtures("fast_compiles")   # XLA's optimizations off here


def _np(x):
  return np.asarray(x, np.float64)


def _normal(shape, seed=0, scale=1.0):
  # numpy inputs: eager jax.random calls would each compile a small program.
  return (scale * np.random.RandomState(seed).standard_normal(shape)).astype(np.float32)


def _spec(*shape):
  return jax.ShapeDtypeStruct(shape, jnp.float32)


def _init(module, x, **kwargs):
  return jax.jit(lambda k, v: module.init(k, v, **kwargs))(jax.random.key(1), x)


def _apply(module, variables, x, **kwargs):
  return jax.jit(lambda p, v: module.apply(p, v, **kwargs))(variables, x)


def _shapes(module, x, train):
  """Abstract (variables, output) of init + apply, without compiling anything."""
  def run(key, v):
    variables = module.init(key, v, train=False)
    if train:
      out, _ = module.apply(variables, v, train=True, mutable=["batch_stats"])
    else:
      out = module.apply(variables, v, train=False)
    return variables, out
  return jax.eval_shape(run, jax.random.key(0), x)


# --------------------------------------------------------------------------- MLPs


def test_mlp_generator_outputs():
  z = _normal((64, 8), scale=10.0)
  params = _init(gan.MLPGenerator((16, 16), (2,)), z)
  outs = {}
  for output in ("linear", "tanh", "sigmoid"):
    g = gan.MLPGenerator((16, 16), (2,), output=output)
    outs[output] = _apply(g, params, z)
    chex.assert_shape(outs[output], (64, 2))
  # Same parameters: the outputs are the activations of the same linear output.
  linear = _np(outs["linear"])
  assert np.abs(linear).max() > 1.0  # linear output is not squashed
  np.testing.assert_allclose(outs["tanh"], np.tanh(linear), atol=1e-5)
  np.testing.assert_allclose(outs["sigmoid"], 1 / (1 + np.exp(-linear)), atol=1e-5)
  assert np.abs(outs["tanh"]).max() <= 1.0


def test_mlp_generator_image_output():
  g = gan.MLPGenerator((32,), (28, 28, 1), output="tanh")
  z = _normal((3, 10), scale=5.0)
  x = _apply(g, _init(g, z), z)
  chex.assert_shape(x, (3, 28, 28, 1))
  assert np.abs(x).max() <= 1.0


def test_mlp_generator_rejects_unknown_output():
  g = gan.MLPGenerator((4,), (2,), output="relu")
  with pytest.raises(ValueError, match="unknown output"):
    jax.eval_shape(g.init, jax.random.key(0), _spec(2, 3))


@pytest.mark.parametrize("minibatch,extra", [("none", 0), ("discrimination", 7), ("stddev", 1)])
@pytest.mark.parametrize("pieces", [1, 3])
def test_mlp_discriminator_shapes(minibatch, extra, pieces):
  d = gan.MLPDiscriminator((16, 12), minibatch=minibatch, mb_kernels=7, mb_dims=3,
                                maxout_pieces=pieces)
  variables, logits = _shapes(d, _spec(10, 2), train=True)
  assert logits.shape == (10,)
  p = variables["params"]
  assert p["Dense_0"]["kernel"].shape == (2, 16 * pieces)
  assert p["Dense_1"]["kernel"].shape == (16, 12 * pieces)
  assert p["Dense_2"]["kernel"].shape == (12 + extra, 1)
  if minibatch == "discrimination":
    assert p["MinibatchDiscrimination_0"]["kernel"].shape == (12, 7, 3)


def test_mlp_discriminator_maxout_matches_numpy():
  d = gan.MLPDiscriminator((4,), maxout_pieces=3)
  x = _normal((5, 2))
  params = _init(d, x)
  p = jax.tree.map(_np, params["params"])
  pre = _np(x) @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"]
  h = pre.reshape(5, 4, 3).max(-1)
  expected = (h @ p["Dense_1"]["kernel"] + p["Dense_1"]["bias"])[:, 0]
  np.testing.assert_allclose(_apply(d, params, x), expected, rtol=1e-5, atol=1e-5)


def test_mlp_discriminator_leaky_relu_matches_numpy():
  d = gan.MLPDiscriminator((6,), leaky=0.1)
  x = _normal((4, 3, 3, 1))  # images are flattened
  params = _init(d, x)
  p = jax.tree.map(_np, params["params"])
  pre = _np(x).reshape(4, 9) @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"]
  h = np.where(pre > 0, pre, 0.1 * pre)
  expected = (h @ p["Dense_1"]["kernel"] + p["Dense_1"]["bias"])[:, 0]
  np.testing.assert_allclose(_apply(d, params, x), expected, rtol=1e-5, atol=1e-5)


def test_unknown_minibatch_kind():
  d = gan.MLPDiscriminator((4,), minibatch="batchnorm")
  with pytest.raises(ValueError, match="unknown minibatch layer"):
    jax.eval_shape(d.init, jax.random.key(0), _spec(2, 2))


# --------------------------------------------------------------------------- minibatch layers


def _numpy_minibatch_discrimination(f, t):
  m = np.einsum("na,abc->nbc", f, t)
  n, b = f.shape[0], t.shape[1]
  o = np.zeros((n, b))
  for i in range(n):
    for j in range(n):
      if i != j:
        o[i] += np.exp(-np.abs(m[i] - m[j]).sum(-1))
  return np.concatenate([f, o], axis=1)


def test_minibatch_discrimination_hand_example():
  f = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, -0.5]], np.float32)
  t = np.array([[[1.0, 0.0], [0.5, 0.5]],
                [[0.0, 2.0], [-1.0, 0.0]]], np.float32)  # [A=2, B=2, C=2]
  layer = gan.MinibatchDiscrimination(num_kernels=2, kernel_dims=2)
  out = _apply(layer, {"params": {"kernel": jnp.asarray(t)}}, jnp.asarray(f))
  chex.assert_shape(out, (3, 4))
  # By hand for kernel b = 0: M_{.,0} = (1, 0), (0, 2), (0.5, -1); L1 distances 3, 1.5, 3.5.
  e = np.exp
  np.testing.assert_allclose(out[:, 2], [e(-3) + e(-1.5), e(-3) + e(-3.5), e(-1.5) + e(-3.5)],
                             rtol=1e-6)
  np.testing.assert_allclose(out, _numpy_minibatch_discrimination(_np(f), _np(t)), rtol=1e-6)


def test_minibatch_discrimination_random_example_and_equivariance():
  layer = gan.MinibatchDiscrimination(num_kernels=6, kernel_dims=4)
  f = _normal((9, 5))
  params = _init(layer, f)
  assert params["params"]["kernel"].shape == (5, 6, 4)
  apply = jax.jit(layer.apply)
  out = apply(params, f)
  chex.assert_shape(out, (9, 5 + 6))
  np.testing.assert_array_equal(out[:, :5], f)
  expected = _numpy_minibatch_discrimination(_np(f), _np(params["params"]["kernel"]))
  np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
  # Permuting the batch permutes the outputs ...
  perm = np.random.RandomState(0).permutation(9)
  np.testing.assert_allclose(apply(params, f[perm]), out[perm], rtol=1e-6, atol=1e-7)
  # ... and an example's o features depend on the rest of the batch.
  g = f.copy()
  g[8] = f[0]
  assert not np.allclose(apply(params, g)[0, 5:], out[0, 5:])


def test_minibatch_discrimination_identical_samples():
  n = 7
  layer = gan.MinibatchDiscrimination(num_kernels=10, kernel_dims=5)
  f = np.tile(_normal((1, 6)), (n, 1))
  params = _init(layer, f)
  out = _apply(layer, params, f)
  chex.assert_shape(out, (n, 16))
  np.testing.assert_array_equal(out[:, 6:], np.full((n, 10), n - 1.0))
  # Gradients stay finite although every |M_i - M_j| sits at the kink of abs.
  grads = jax.jit(jax.grad(lambda p, x: layer.apply(p, x).sum(), argnums=(0, 1)))(params, f)
  chex.assert_tree_all_finite(grads)
  # normalize=True divides by n - 1: the mean similarity, 1 for identical samples.
  mean_layer = gan.MinibatchDiscrimination(num_kernels=10, kernel_dims=5, normalize=True)
  np.testing.assert_array_equal(_apply(mean_layer, params, f)[:, 6:], np.ones((n, 10)))
  g = _normal((n, 6))
  np.testing.assert_allclose(_apply(mean_layer, params, g)[:, 6:],
                             _apply(layer, params, g)[:, 6:] / (n - 1), rtol=1e-6)


def test_minibatch_stddev_vectors():
  x = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]], np.float32)
  out = _apply(gan.MinibatchStddev(), {}, x)
  chex.assert_shape(out, (3, 3))
  # Population stds: column 0 -> sqrt(8/3), column 1 -> sqrt(2); their mean is appended.
  expected = 0.5 * (np.sqrt(8 / 3) + np.sqrt(2.0))
  np.testing.assert_allclose(out[:, 2], np.full(3, expected), rtol=1e-6)
  np.testing.assert_array_equal(out[:, :2], x)


def test_minibatch_stddev_images():
  x = _normal((6, 4, 5, 3))
  out = _apply(gan.MinibatchStddev(), {}, x)
  chex.assert_shape(out, (6, 4, 5, 4))
  expected = _np(x).std(axis=0).mean()
  np.testing.assert_allclose(out[..., 3], np.full((6, 4, 5), expected), rtol=1e-5)
  np.testing.assert_array_equal(out[..., :3], x)


def test_minibatch_stddev_identical_samples():
  x = np.tile(np.array([[0.3, -1.0, 2.0]], np.float32), (5, 1))
  layer = gan.MinibatchStddev()
  out = _apply(layer, {}, x)
  np.testing.assert_array_equal(out[:, 3], np.zeros(5))
  grad = jax.jit(jax.grad(lambda v: layer.apply({}, v)[:, 3].sum()))(x)
  chex.assert_tree_all_finite(grad)


# --------------------------------------------------------------------------- DCGAN


@pytest.mark.parametrize("train", [True, False])
def test_dcgan_generator_28_shapes(train):
  g = gan.DCGANGenerator(features=8, out_shape=(28, 28, 1))
  variables, x = _shapes(g, _spec(4, 16), train)
  assert x.shape == (4, 28, 28, 1) and x.dtype == jnp.float32
  p = variables["params"]
  assert p["ConvTranspose_0"]["kernel"].shape == (7, 7, 16, 32)  # 1x1 -> 7x7, 4f
  assert p["ConvTranspose_1"]["kernel"].shape == (4, 4, 32, 16)  # 14x14, 2f
  assert p["ConvTranspose_2"]["kernel"].shape == (4, 4, 16, 1)   # 28x28, C
  assert "ConvTranspose_3" not in p
  assert "bias" not in p["ConvTranspose_0"]
  assert sorted(variables["batch_stats"]) == ["BatchNorm_0", "BatchNorm_1"]


@pytest.mark.parametrize("train", [True, False])
def test_dcgan_generator_64_shapes(train):
  g = gan.DCGANGenerator(features=4, out_shape=(64, 64, 3))
  variables, x = _shapes(g, _spec(2, 10), train)
  assert x.shape == (2, 64, 64, 3)
  shapes = [variables["params"][f"ConvTranspose_{i}"]["kernel"].shape for i in range(5)]
  assert shapes == [(4, 4, 10, 32), (4, 4, 32, 16), (4, 4, 16, 8), (4, 4, 8, 4), (4, 4, 4, 3)]
  assert len(variables["batch_stats"]) == 4


def test_dcgan_generator_bad_size():
  g = gan.DCGANGenerator(features=4, out_shape=(30, 30, 1))
  with pytest.raises(ValueError, match="divisible by 4"):
    _shapes(g, _spec(2, 3), train=False)


def test_dcgan_generator_batchnorm_train_and_eval():
  g = gan.DCGANGenerator(features=4, out_shape=(28, 28, 1))
  z = _normal((8, 6), scale=3.0)
  variables = _init(g, z, train=False)
  x_train, updates = _apply(g, variables, z, train=True, mutable=["batch_stats"])
  x_eval = _apply(g, variables, z, train=False)
  chex.assert_shape([x_train, x_eval], (8, 28, 28, 1))
  assert np.abs(x_train).max() <= 1.0 and np.abs(x_eval).max() <= 1.0
  # Training moves every running statistic (momentum 0.9) ...
  moved = jax.tree.map(lambda a, b: not np.allclose(a, b), variables["batch_stats"],
                       updates["batch_stats"])
  assert all(jax.tree.leaves(moved))
  # ... and batch statistics differ from the initial running averages (mean 0, var 1).
  assert not np.allclose(x_train, x_eval, atol=1e-4)


@pytest.mark.parametrize("size,blocks,final", [(28, 3, 3), (64, 4, 4)])
@pytest.mark.parametrize("minibatch", ["none", "discrimination", "stddev"])
@pytest.mark.parametrize("train", [True, False])
def test_dcgan_discriminator_shapes(size, blocks, final, minibatch, train):
  # 28 -> 14 -> 7 -> 3 in three blocks; 64 -> 32 -> 16 -> 8 -> 4 in four.
  channels_in = 1 if size == 28 else 3
  d = gan.DCGANDiscriminator(features=4, minibatch=minibatch, mb_kernels=5, mb_dims=3)
  variables, logits = _shapes(d, _spec(3, size, size, channels_in), train)
  assert logits.shape == (3,) and logits.dtype == jnp.float32
  p = variables["params"]
  assert sorted(k for k in p if k.startswith("Conv_")) == [f"Conv_{i}" for i in range(blocks)]
  assert [p[f"Conv_{i}"]["kernel"].shape[-1] for i in range(blocks)] == \
      [4 * 2 ** i for i in range(blocks)]
  assert p["Conv_0"]["kernel"].shape == (4, 4, channels_in, 4)
  assert len(variables["batch_stats"]) == blocks - 1  # no BatchNorm on the first block
  channels = 4 * 2 ** (blocks - 1)
  flat = {"none": final * final * channels,
          "stddev": final * final * (channels + 1),
          "discrimination": final * final * channels + 5}[minibatch]
  assert p["Dense_0"]["kernel"].shape == (flat, 1)


def test_dcgan_discriminator_any_channels():
  d = gan.DCGANDiscriminator(features=4)
  for c in (1, 2, 5):
    variables, logits = _shapes(d, _spec(2, 64, 64, c), train=False)
    assert logits.shape == (2,)
    assert variables["params"]["Conv_0"]["kernel"].shape == (4, 4, c, 4)


@pytest.mark.parametrize("minibatch", ["discrimination", "stddev"])
def test_dcgan_discriminator_runs_with_minibatch_layer(minibatch):
  d = gan.DCGANDiscriminator(features=4, minibatch=minibatch, mb_kernels=5, mb_dims=3)
  x = _normal((4, 16, 16, 2))  # 16 -> 8 -> 4: two blocks, one BatchNorm
  variables = _init(d, x, train=False)
  logits, updates = _apply(d, variables, x, train=True, mutable=["batch_stats"])
  chex.assert_shape(logits, (4,))
  chex.assert_tree_all_finite(logits)
  # The minibatch layer makes each logit depend on the other examples in the batch.
  y = x.copy()
  y[3] = x[0]
  other = _apply(d, variables, y, train=False)
  alone = _apply(d, variables, x, train=False)
  assert not np.allclose(other[1], alone[1], atol=1e-7)
  moved = jax.tree.map(lambda a, b: not np.allclose(a, b), variables["batch_stats"],
                       updates["batch_stats"])
  assert all(jax.tree.leaves(moved))


def test_dcgan_bfloat16_compute():
  g = gan.DCGANGenerator(features=4, out_shape=(28, 28, 1), dtype=jnp.bfloat16)
  d = gan.DCGANDiscriminator(features=4, dtype=jnp.bfloat16)
  z = _spec(2, 6)
  gv, x = _shapes(g, z, train=False)
  dv, logits = _shapes(d, x, train=False)
  assert x.dtype == jnp.float32 and logits.dtype == jnp.float32
  assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves((gv, dv)))


def test_dcgan_init_normal_002():
  g = gan.DCGANGenerator(features=16, out_shape=(28, 28, 1))
  variables = _init(g, np.zeros((1, 8), np.float32), train=False)
  kernel = _np(variables["params"]["ConvTranspose_1"]["kernel"])  # 4x4x64x32 = 32k weights
  assert kernel.shape == (4, 4, 64, 32)
  assert abs(kernel.std() - 0.02) < 0.002  # within 10%
  assert abs(kernel.mean()) < 0.001
  scale = _np(variables["params"]["BatchNorm_0"]["scale"])  # N(1, 0.02)
  assert abs(scale.mean() - 1.0) < 0.01 and 0.01 < scale.std() < 0.03
  np.testing.assert_array_equal(variables["params"]["BatchNorm_0"]["bias"], 0.0)
  d = gan.DCGANDiscriminator(features=8)
  dv = _init(d, np.zeros((1, 28, 28, 1), np.float32), train=False)
  dk = _np(dv["params"]["Conv_2"]["kernel"])  # 4x4x16x32 = 8k weights
  assert abs(dk.std() - 0.02) < 0.002
  assert "bias" not in dv["params"]["Conv_2"]



# --------------------------------------------------------------------------- packing, SN
def test_pack_by_hand():
  x = np.arange(4 * 2 * 2 * 3, dtype=np.float32).reshape(4, 2, 2, 3)
  p = np.asarray(gan.pack(x, 2))
  assert p.shape == (2, 2, 2, 6)
  np.testing.assert_array_equal(p[1, :, :, :3], x[2])     # pack 1 = examples 2 and 3,
  np.testing.assert_array_equal(p[1, :, :, 3:], x[3])     # along the channels
  v = np.arange(12, dtype=np.float32).reshape(6, 2)
  np.testing.assert_array_equal(gan.pack(v, 3), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  assert gan.pack(v, 1) is v
  with pytest.raises(ValueError, match="divisible by gan.pack"):
    gan.pack(v, 4)


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
def test_packed_discriminator_judges_packs(net):
  if net == "mlp":
    d, x, first = gan.MLPDiscriminator((8,), pack=3), _spec(6, 5), ("Dense_0", "kernel")
  else:
    d, x, first = gan.DCGANDiscriminator(features=4, pack=3), _spec(6, 28, 28, 2), ("Conv_0", "kernel")
  variables, out = _shapes(d, x, train=True)
  assert out.shape == (2,)
  kernel = variables["params"][first[0]][first[1]]
  assert (kernel.shape[0] if net == "mlp" else kernel.shape[2]) == (15 if net == "mlp" else 6)


def _power_iterate(module, variables, x, steps):
  """``steps`` training-mode calls, feeding the power-iteration state back each time."""
  def call(v):
    _, upd = module.apply(v, x, train=True, mutable=["batch_stats"])
    return {**v, "batch_stats": upd["batch_stats"]}
  call = jax.jit(call)
  for _ in range(steps):
    variables = call(variables)
  return variables


def _largest_singular_value(kernel):
  k = np.asarray(kernel, np.float64)
  return np.linalg.svd(k.reshape(-1, k.shape[-1]), compute_uv=False)[0]


@pytest.mark.parametrize("net", ["mlp", "dcgan"])
def test_spectral_norm_divides_each_kernel_by_its_largest_singular_value(net):
  if net == "mlp":
    d = gan.MLPDiscriminator((16, 8), spectral_norm=True)
    plain = gan.MLPDiscriminator((16, 8))
    x = _normal((6, 12))
  else:
    d = gan.DCGANDiscriminator(features=4, spectral_norm=True)
    plain = gan.DCGANDiscriminator(features=4)
    x = _normal((6, 12, 12, 1))
  variables = _init(d, x, train=False)
  assert "BatchNorm_0" not in variables["params"]           # SN-GAN's D has no BatchNorm
  variables = _power_iterate(d, variables, x, 60)
  stats = variables["batch_stats"]
  sigmas = {path: float(v) for path, v in
            ((jax.tree_util.keystr(p), v) for p, v in
             jax.tree_util.tree_leaves_with_path(stats)) if path.endswith("sigma']")}
  kernels = {k: v["kernel"] for k, v in variables["params"].items()}
  assert len(sigmas) == len(kernels) >= 3
  by_svd = {}
  for name, kernel in kernels.items():
    sigma = _largest_singular_value(kernel)
    match = [s for path, s in sigmas.items() if f"{name}/kernel/sigma" in path]
    np.testing.assert_allclose(match, [sigma], rtol=1e-3)
    by_svd[name] = sigma
  # the network with SN is the plain network with every kernel divided by its sigma
  params = {k: {**v, "kernel": v["kernel"] / by_svd[k]} for k, v in variables["params"].items()}
  out_sn = _apply(d, variables, x, train=False)
  out_plain = _apply(plain, {"params": params}, x, train=False) if net == "mlp" else None
  if net == "mlp":
    np.testing.assert_allclose(out_sn, out_plain, rtol=1e-3, atol=1e-5)
  # and each normalized kernel has spectral norm 1
  for name, kernel in kernels.items():
    np.testing.assert_allclose(_largest_singular_value(np.asarray(kernel) / by_svd[name]), 1.0,
                               rtol=1e-6)


def test_spectral_norm_state_advances_only_in_training():
  d = gan.MLPDiscriminator((8,), spectral_norm=True)
  x = _normal((4, 3))
  v = _init(d, x, train=False)
  _, upd = jax.jit(lambda v: d.apply(v, x, train=True, mutable=["batch_stats"]))(v)
  assert not np.array_equal(jax.tree.leaves(upd["batch_stats"])[1],
                            jax.tree.leaves(v["batch_stats"])[1])
  _, same = jax.jit(lambda v: d.apply(v, x, train=False, mutable=["batch_stats"]))(v)
  chex.assert_trees_all_equal(same["batch_stats"], v["batch_stats"])
