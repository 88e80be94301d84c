"""Tests for jaxgen.nets.conditional: the pix2pix U-Net and PatchGAN discriminator.

Shapes and errors run under ``jax.eval_shape`` (tracing, no compilation); behaviour is
checked on small jitted programs with XLA's optimizations off. Wiring (skip connections,
receptive fields) is checked through the set of input pixels with a nonzero gradient.
"""
from __future__ import annotations

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgen.nets import conditional as cn


pytestmark = pytest.mark.usefixtures("fast_compiles")   # XLA's optimizations off here


def _normal(shape, seed=0, scale=1.0):
  return (scale * np.random.RandomState(seed).standard_normal(shape)).astype(np.float32)


def _spec(*shape, dtype=jnp.float32):
  return jax.ShapeDtypeStruct(shape, dtype)


def _variables(module, *inputs, seed=0):
  """Variables of the shapes ``module.init`` gives, drawn in NumPy (nothing compiles, unlike
  a jitted init): kernels ~ N(0, 0.02), biases 0, norm scales ~ N(1, 0.02), running means 0
  and variances 1 -- the init's distributions (test_init_normal_002 checks the real one)."""
  shapes = jax.eval_shape(lambda k, *v: module.init(k, *v, train=False), jax.random.key(0),
                          *inputs)
  rng = np.random.RandomState(seed)

  def draw(path, leaf):
    name = path[-1].key
    if name == "kernel":
      return (0.02 * rng.standard_normal(leaf.shape)).astype(np.float32)
    if name == "scale":
      return (1.0 + 0.02 * rng.standard_normal(leaf.shape)).astype(np.float32)
    return np.full(leaf.shape, 1.0 if name == "var" else 0.0, np.float32)

  return jax.tree_util.tree_map_with_path(draw, shapes)


def _differs(a, b, rel=1e-3):
  """Whether a and b differ by more than ``rel`` times b's largest magnitude somewhere."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return np.abs(a - b).max() > rel * np.abs(b).max()


def _shapes(module, *inputs, train):
  """Abstract (variables, output) of init + apply, without compiling anything."""
  def run(key, *v):
    variables = module.init(key, *v, train=False)
    if train:
      out, _ = module.apply(variables, *v, train=True, mutable=["batch_stats"],
                            rngs={"dropout": key})
    else:
      out = module.apply(variables, *v, train=False)
    return variables, out
  return jax.eval_shape(run, jax.random.key(0), *inputs)


def _scaled(variables, layer, factor):
  """``variables`` with the kernel of ``layer`` multiplied by ``factor``."""
  params = dict(variables["params"])
  params[layer] = dict(params[layer], kernel=params[layer]["kernel"] * factor)
  return dict(variables, params=params)


def _square(mask):
  """(number of True pixels, (first row, last row), (first col, last col)) of a 2-D mask."""
  rows, cols = np.where(mask.any(1))[0], np.where(mask.any(0))[0]
  if rows.size == 0:
    return 0, None, None
  return int(mask.sum()), (rows.min(), rows.max()), (cols.min(), cols.max())


_SUPPORT_FNS = {}


def _unet_support(module, variables, x, pixels):
  """Per output pixel (row, col) of example 0: the input pixels (any channel) of example 0
  with a nonzero gradient of that pixel's output (all channels summed), eval mode. One
  compiled function per (module, pixels), reused across parameter values."""
  key = (repr(module), tuple(pixels), np.shape(x))
  if key not in _SUPPORT_FNS:
    rows, cols = np.array(pixels).T

    def picked(v, inp):
      return module.apply(v, inp, train=False)[0, rows, cols].sum(-1)

    _SUPPORT_FNS[key] = jax.jit(jax.jacrev(picked, argnums=1))
  jac = _SUPPORT_FNS[key](variables, x)                                 # [P, N, H, W, C]
  return np.abs(np.asarray(jac[:, 0])).sum(-1) != 0                     # [P, H, W]


# --------------------------------------------------------------------------- U-Net: shapes


@pytest.mark.parametrize("size,cin,cout,depth,widths", [
    (28, 1, 1, 2, (32, 64)),
    (32, 1, 3, 5, (32, 64, 128, 256, 256)),
    (32, 3, 3, 5, (32, 64, 128, 256, 256)),
])
@pytest.mark.parametrize("train", [True, False])
def test_unet_shapes_and_layers(size, cin, cout, depth, widths, train):
  g = cn.UNet(cout, depth=depth)                            # features 32, max 256, batch norm
  variables, y = _shapes(g, _spec(4, size, size, cin), train=train)
  assert y.shape == (4, size, size, cout) and y.dtype == jnp.float32
  assert cn.unet_widths(32, depth, 256) == widths
  p = variables["params"]
  # Encoder: 4x4 stride-2 convs, each halving the map; bias only where no norm follows.
  for i in range(depth):
    assert p[f"down_{i}"]["kernel"].shape == (4, 4, cin if i == 0 else widths[i - 1], widths[i])
    assert ("bias" in p[f"down_{i}"]) == (i in (0, depth - 1))
  # Decoder: the innermost up-conv sees the bottleneck, the others skip + up (2x channels).
  assert p[f"up_{depth - 1}"]["kernel"].shape[2] == widths[-1]
  for i in range(depth - 1):
    assert p[f"up_{i}"]["kernel"].shape[2] == 2 * widths[i]
  assert [p[f"up_{i}"]["kernel"].shape[3] for i in range(depth)] == [cout, *widths[:-1]]
  assert "bias" in p["up_0"] and all("bias" not in p[f"up_{i}"] for i in range(1, depth))
  expected_norms = {f"down_norm_{i}" for i in range(1, depth - 1)} | \
      {f"up_norm_{i}" for i in range(1, depth)}
  assert set(variables["batch_stats"]) == expected_norms
  assert set(p) == expected_norms | {f"down_{i}" for i in range(depth)} | \
      {f"up_{i}" for i in range(depth)}


def test_unet_norm_none_instance_and_bottleneck_layers():
  v, _ = _shapes(cn.UNet(1, depth=2, norm="none", bottleneck_blocks=2), _spec(2, 28, 28, 1),
                 train=True)
  assert set(v) == {"params"}
  p = v["params"]
  assert set(p) == {"down_0", "down_1", "up_1", "up_0", "bottleneck_0", "bottleneck_1"}
  assert all("bias" in layer for layer in p.values())       # no norm: every conv has a bias
  assert p["bottleneck_1"]["kernel"].shape == (3, 3, 64, 64)
  v, y = _shapes(cn.UNet(3, depth=3, norm="instance", features=8, max_features=16),
                 _spec(2, 16, 16, 2), train=True)
  assert y.shape == (2, 16, 16, 3) and set(v) == {"params"}  # instance norm: no batch_stats
  assert set(v["params"]) >= {"down_norm_1", "up_norm_1", "up_norm_2"}
  assert v["params"]["down_2"]["kernel"].shape == (4, 4, 16, 16)   # capped at max_features


def test_unet_rejects_sizes_that_do_not_fit():
  cases = [((28, 28), 3, "28x28 allows depth <= 2"), ((32, 32), 6, "32x32 allows depth <= 5"),
           ((32, 28), 3, "32x28 allows depth <= 2"), ((27, 27), 1, "no depth fits 27x27"),
           ((32, 32), 0, "at least 1")]
  for (h, w), depth, message in cases:
    with pytest.raises(ValueError, match=message):
      _shapes(cn.UNet(1, depth=depth), _spec(1, h, w, 1), train=False)
  assert [cn.unet_max_depth(*s) for s in [(28, 28), (32, 32), (32, 28), (27, 27)]] == [2, 5, 2, 0]
  for field, message in [({"norm": "layer"}, "unknown norm"),
                         ({"output": "relu"}, "unknown output"),
                         ({"dropout": 1.0}, "dropout must be in")]:
    with pytest.raises(ValueError, match=message):
      _shapes(cn.UNet(1, depth=2, **field), _spec(1, 28, 28, 1), train=False)


def test_unet_bfloat16_compute():
  v, y = _shapes(cn.UNet(3, depth=5, features=8, dtype=jnp.bfloat16), _spec(2, 32, 32, 3),
                 train=True)
  assert y.dtype == jnp.float32
  assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(v))


# --------------------------------------------------------------------------- U-Net: behaviour
# Most tests use one small net: depth 2 on 28x28x1, 8 features, no norm.

_SMALL = dict(depth=2, features=8, norm="none")


def test_unet_output_activations():
  x = _normal((2, 28, 28, 1))
  nets = {o: cn.UNet(1, output=o, **_SMALL) for o in ("linear", "tanh", "sigmoid")}
  variables = _scaled(_variables(nets["linear"], x), "up_0", 3e4)  # push outputs past [-1, 1]
  outs = jax.jit(lambda v, x: {o: g.apply(v, x, train=False) for o, g in nets.items()})(
      variables, x)
  chex.assert_shape(list(outs.values()), (2, 28, 28, 1))
  linear = np.asarray(outs["linear"], np.float64)
  assert linear.min() < -1.5 and linear.max() > 1.5                # not squashed
  np.testing.assert_allclose(outs["tanh"], np.tanh(linear), atol=1e-6)
  np.testing.assert_allclose(outs["sigmoid"], 0.5 + 0.5 * np.tanh(linear / 2), atol=1e-6)
  assert np.abs(outs["tanh"]).max() <= 1.0
  assert 0.0 <= np.min(outs["sigmoid"]) and np.max(outs["sigmoid"]) <= 1.0


def _dropout_outputs(module, x):
  """{name: shape} of the Dropout layers' outputs in one training call (traced only)."""
  def run(key, v):
    variables = module.init(key, v, train=False)
    _, state = module.apply(variables, v, train=True, rngs={"dropout": key},
                            mutable=["batch_stats", "intermediates"],
                            capture_intermediates=lambda m, _: isinstance(m, nn.Dropout))
    return {k: val["__call__"][0] for k, val in state.get("intermediates", {}).items()}
  return {k: v.shape for k, v in jax.eval_shape(run, jax.random.key(0), x).items()}


def test_unet_dropout_sits_in_the_innermost_decoder_blocks():
  n = 2
  assert _dropout_outputs(cn.UNet(3, depth=5, features=8), _spec(n, 32, 32, 3)) == {
      "dropout_4": (n, 2, 2, 64), "dropout_3": (n, 4, 4, 32), "dropout_2": (n, 8, 8, 16)}
  assert _dropout_outputs(cn.UNet(1, depth=2, features=8), _spec(n, 28, 28, 1)) == {
      "dropout_1": (n, 14, 14, 8)}
  assert _dropout_outputs(cn.UNet(1, depth=1, features=8), _spec(n, 28, 28, 1)) == {}
  assert _dropout_outputs(cn.UNet(1, depth=2, features=8, dropout=0.0), _spec(n, 28, 28, 1)) == {}


def test_unet_dropout_only_in_training_and_driven_by_the_key():
  x = _normal((2, 28, 28, 1))
  g = cn.UNet(1, dropout=0.3, **_SMALL)
  variables = _variables(g, x)
  capture = lambda m, _: isinstance(m, nn.Dropout)

  @jax.jit
  def train(v, x, key):
    return g.apply(v, x, train=True, rngs={"dropout": key}, capture_intermediates=capture,
                   mutable=["intermediates"])

  @jax.jit
  def evaluate(v, x):                       # no dropout key: fails if dropout ran here
    return g.apply(v, x, train=False, capture_intermediates=capture, mutable=["intermediates"])

  (a, sa), (a2, _), (b, _) = (train(variables, x, jax.random.key(k)) for k in (7, 7, 8))
  e, se = evaluate(variables, x)
  np.testing.assert_array_equal(a, a2)                              # same key, same output
  assert _differs(a, b)                                             # other key, other output
  assert _differs(a, e)                                             # train differs from eval
  np.testing.assert_array_equal(e, evaluate(variables, x)[0])
  # The dropped fraction is the rate; kept units are scaled by 1 / (1 - rate); eval is identity.
  dropped = np.asarray(sa["intermediates"]["dropout_1"]["__call__"][0])
  clean = np.asarray(se["intermediates"]["dropout_1"]["__call__"][0])
  kept = dropped != 0
  assert abs((~kept).mean() - 0.3) < 0.05                           # 3136 units: 5 sigma
  np.testing.assert_allclose(dropped[kept], clean[kept] / 0.7, rtol=1e-5)


def test_unet_skip_connections_carry_the_input():
  # Depth 2: an output pixel sees 18x18 input pixels through the bottleneck; with the
  # innermost encoder conv zeroed, the bottleneck is constant and only the level-0 skip
  # is left: 2 encoder pixels per side, each seeing 4 input pixels -> a 6x6 window.
  x = _normal((1, 28, 28, 1))
  g = cn.UNet(1, **_SMALL)
  variables = _variables(g, x)
  cut = dict(variables, params=dict(variables["params"]))
  cut["params"]["down_1"] = jax.tree.map(np.zeros_like, cut["params"]["down_1"])
  full = _unet_support(g, variables, x, [(14, 14)])[0]
  skip = _unet_support(g, cut, x, [(14, 14)])[0]
  assert _square(full) == (18 * 18, (5, 22), (5, 22))
  assert _square(skip) == (6 * 6, (11, 16), (11, 16))


def test_unet_receptive_field_global_at_depth_5_local_at_depth_2():
  x = _normal((1, 32, 32, 3))
  g = cn.UNet(3, depth=5, features=8, norm="none")
  corners = [(0, 0), (0, 31), (31, 0), (31, 31), (16, 16)]
  assert _unet_support(g, _variables(g, x), x, corners).all()      # every pixel, every corner
  # Depth 2 on 28x28: an 18x18 window around the pixel (7x7 bottleneck); a residual 3x3
  # bottleneck block widens it by 2 bottleneck pixels = 8 input pixels (two cover 28x28).
  x = _normal((1, 28, 28, 1))
  for blocks, expected in [(0, (5, 22)), (1, (1, 26))]:
    g = cn.UNet(1, bottleneck_blocks=blocks, **_SMALL)
    mask = _unet_support(g, _variables(g, x), x, [(14, 14)])[0]
    side = expected[1] - expected[0] + 1
    assert _square(mask) == (side * side, expected, expected), blocks


def test_unet_batchnorm_statistics_move_in_training_only_and_couple_examples():
  x = _normal((4, 16, 16, 2), scale=3.0)
  g = cn.UNet(2, depth=3, features=4, dropout=0.0)
  variables = _variables(g, x)
  assert set(variables["batch_stats"]) == {"down_norm_1", "up_norm_2", "up_norm_1"}
  step = jax.jit(lambda v, x, train: g.apply(v, x, train=train, mutable=["batch_stats"]),
                 static_argnums=2)
  y_train, moved = step(variables, x, True)
  y_eval, kept = step(variables, x, False)
  changed = jax.tree.map(lambda a, b: not np.allclose(a, b), variables["batch_stats"],
                         moved["batch_stats"])
  assert all(jax.tree.leaves(changed))
  chex.assert_trees_all_equal(kept["batch_stats"], variables["batch_stats"])
  assert _differs(y_train, y_eval)                   # batch statistics vs running averages
  # Training with batch statistics: example 0's output depends on example 3.
  other = x.copy()
  other[3] = 5.0 * _normal((16, 16, 2), seed=3)
  assert _differs(step(variables, other, True)[0][0], y_train[0])


def test_unet_instance_norm_keeps_examples_apart():
  x = _normal((3, 16, 16, 1))
  g = cn.UNet(1, depth=3, features=4, dropout=0.0, norm="instance")
  variables = _variables(g, x)
  run = jax.jit(lambda v, x: g.apply(v, x, train=True))
  other = x.copy()
  other[2] = 5.0 * _normal((16, 16, 1), seed=3)
  y, y_other = run(variables, x), run(variables, other)
  np.testing.assert_allclose(y_other[0], y[0], rtol=1e-6, atol=1e-7)
  assert _differs(y_other[2], y[2])


def test_unet_gradients_finite_and_reach_every_parameter():
  # Depth 3 on 8x8: a 1x1 bottleneck like depth 5 on 32x32, with batch norm on both sides,
  # dropout and a bottleneck block.
  x = _normal((4, 8, 8, 3))
  g = cn.UNet(3, depth=3, features=4, bottleneck_blocks=1)
  variables = _variables(g, x)

  def loss(params):
    y, _ = g.apply({"params": params, "batch_stats": variables["batch_stats"]}, x, train=True,
                   mutable=["batch_stats"], rngs={"dropout": jax.random.key(0)})
    return jnp.mean(y)

  value, grads = jax.jit(jax.value_and_grad(loss))(variables["params"])
  chex.assert_tree_all_finite((value, grads))
  nonzero = jax.tree.map(lambda a: bool(np.abs(np.asarray(a)).max() > 0), grads)
  assert all(jax.tree.leaves(nonzero)), nonzero


def test_init_normal_002():
  g = cn.UNet(3, depth=2, features=64)
  d = cn.PatchDiscriminator(features=64, num_layers=1)
  x = np.zeros((1, 8, 8, 1), np.float32)
  gv, dv = jax.jit(lambda k, x: (g.init(k, x, train=False), d.init(k, x, x, train=False)))(
      jax.random.key(1), x)
  for kernel in (gv["params"]["down_1"]["kernel"], dv["params"]["conv_1"]["kernel"]):
    kernel = np.asarray(kernel)                                  # 4x4x64x128 = 131k weights
    assert kernel.shape == (4, 4, 64, 128)
    assert abs(kernel.std() - 0.02) < 0.001 and abs(kernel.mean()) < 0.001
  for scale in (gv["params"]["up_norm_1"]["scale"], dv["params"]["norm_1"]["scale"]):
    scale = np.asarray(scale)                                    # N(1, 0.02), 64 or 128 of them
    assert abs(scale.mean() - 1.0) < 0.01 and 0.01 < scale.std() < 0.03
  np.testing.assert_array_equal(gv["params"]["up_norm_1"]["bias"], 0.0)
  np.testing.assert_array_equal(gv["params"]["up_0"]["bias"], 0.0)


# --------------------------------------------------------------------------- PatchGAN


@pytest.mark.parametrize("size,maps", [(28, (12, 5, 1)), (32, (14, 6, 2))])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("train", [True, False])
def test_patch_discriminator_shapes(size, maps, num_layers, train):
  d = cn.PatchDiscriminator(features=8, num_layers=num_layers)
  variables, logits = _shapes(d, _spec(3, size, size, 1), _spec(3, size, size, 3), train=train)
  side = maps[num_layers - 1]
  assert logits.shape == (3, side, side) and logits.dtype == jnp.float32
  assert cn.patch_output_size(size, num_layers) == side
  p = variables["params"]
  widths = [8 * min(2 ** n, 8) for n in range(num_layers + 1)] + [1]
  assert [p[f"conv_{n}"]["kernel"].shape[3] for n in range(num_layers + 2)] == widths
  assert p["conv_0"]["kernel"].shape == (4, 4, 1 + 3, 8)          # condition + image channels
  assert set(variables["batch_stats"]) == {f"norm_{n}" for n in range(1, num_layers + 1)}
  assert [("bias" in p[f"conv_{n}"]) for n in range(num_layers + 2)] == \
      [True] + [False] * num_layers + [True]


def test_patch_discriminator_rejects_what_does_not_fit():
  d = cn.PatchDiscriminator(features=8, num_layers=4)
  for size in (28, 32):
    with pytest.raises(ValueError, match=f"{size}x{size} allows num_layers <= 3"):
      _shapes(d, _spec(1, size, size, 1), _spec(1, size, size, 1), train=False)
  with pytest.raises(ValueError, match="same N, H, W"):
    _shapes(cn.PatchDiscriminator(), _spec(1, 32, 32, 1), _spec(1, 28, 28, 1), train=False)
  with pytest.raises(ValueError, match="at least 1"):
    cn.patch_receptive_field(0)


def test_patch_receptive_field_values():
  assert [cn.patch_receptive_field(n) for n in (1, 2, 3, 4)] == [16, 34, 70, 142]


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_patch_receptive_field_matches_the_network(num_layers):
  # One central logit of a 96x96 input: the pixels of the condition and of the image with
  # a nonzero gradient form the same square, patch_receptive_field pixels on a side.
  size, rf = 96, cn.patch_receptive_field(num_layers)
  d = cn.PatchDiscriminator(features=4, num_layers=num_layers, norm="none")
  cond, y = _normal((1, size, size, 2)), _normal((1, size, size, 1), seed=1)
  variables = _variables(d, cond, y)
  side = cn.patch_output_size(size, num_layers)

  def logit(c, im):
    return d.apply(variables, c, im, train=False)[0, side // 2, side // 2]

  grads = jax.jit(jax.grad(logit, argnums=(0, 1)))(cond, y)
  masks = [np.abs(np.asarray(gr[0])).sum(-1) != 0 for gr in grads]
  count, rows, cols = _square(masks[0])
  assert count == rf * rf and rows[1] - rows[0] + 1 == rf and cols == rows
  assert 0 < rows[0] and rows[1] < size - 1                           # inside the image
  np.testing.assert_array_equal(masks[0], masks[1])


def test_patch_discriminator_logits_batchnorm_and_gradients():
  cond, y = _normal((4, 32, 32, 1)), _normal((4, 32, 32, 3), seed=1)
  d = cn.PatchDiscriminator(features=8, num_layers=2)
  variables = _variables(d, cond, y)
  big = _scaled(variables, "conv_3", 1000.0)

  @jax.jit
  def run(v, c, im):
    logits, moved = d.apply(v, c, im, train=True, mutable=["batch_stats"])
    still = d.apply(v, c, im, train=False, mutable=["batch_stats"])[1]
    grads = jax.grad(lambda p: jnp.mean(
        d.apply(dict(v, params=p), c, im, train=True, mutable=["batch_stats"])[0]))(v["params"])
    return logits, moved, still, grads

  logits, moved, still, grads = run(big, cond, y)
  chex.assert_shape(logits, (4, 6, 6))
  assert np.min(logits) < -1.0 and np.max(logits) > 1.0             # logits, no sigmoid
  changed = jax.tree.map(lambda a, b: not np.allclose(a, b), variables["batch_stats"],
                         moved["batch_stats"])
  assert all(jax.tree.leaves(changed))
  chex.assert_trees_all_equal(still["batch_stats"], variables["batch_stats"])
  chex.assert_tree_all_finite(grads)
  assert all(jax.tree.leaves(jax.tree.map(lambda a: bool(np.abs(a).max() > 0), grads)))


def test_resize_convolution_has_no_checkerboard_where_the_transposed_one_has():
  """A constant feature map: after a nearest resize and a 3x3 convolution every interior
  output pixel sees the same weights, so the output is constant there; a stride-2 4x4
  transposed convolution gives even and odd pixels different taps (Odena et al. 2016), so
  its interior has a period-2 pattern."""
  from jaxgen.nets.conditional import ResizeConv, _UP_PAD
  from jaxgen.nets.layers import ConvTranspose
  x = jnp.ones((1, 6, 6, 4))
  rc = ResizeConv(3)
  out = rc.apply(rc.init(jax.random.PRNGKey(0), x), x)
  assert out.shape == (1, 12, 12, 3)
  interior = np.asarray(out[0, 1:-1, 1:-1])
  np.testing.assert_allclose(interior, np.broadcast_to(interior[:1, :1], interior.shape),
                             rtol=1e-5, atol=1e-7)
  tc = ConvTranspose(3, (4, 4), strides=(2, 2), padding=_UP_PAD,
                     kernel_init=jax.nn.initializers.normal(1.0))
  t_out = np.asarray(tc.apply(tc.init(jax.random.PRNGKey(0), x), x))[0, 2:-2, 2:-2]
  assert not np.allclose(t_out[0::2, 0::2], t_out[1::2, 1::2], atol=1e-3)
  np.testing.assert_allclose(t_out[0::2, 0::2], t_out[2::2, 2::2][:1, :1] * np.ones_like(
      t_out[0::2, 0::2]), rtol=1e-5, atol=1e-6)                     # period 2, not noise


@pytest.mark.parametrize("size,depth", [(28, 2), (32, 3)])
def test_unet_with_resize_upsampling(size, depth):
  x = jax.random.normal(jax.random.PRNGKey(1), (2, size, size, 3))
  net = cn.UNet(3, depth=depth, features=8, norm="none", dropout=0.0, upsampling="resize")
  params = net.init(jax.random.PRNGKey(0), x, train=False)
  assert net.apply(params, x, train=False).shape == (2, size, size, 3)
  kernels = {k: v["conv"]["kernel"].shape for k, v in params["params"].items() if k.startswith("up_")}
  assert set(kernels) == {f"up_{i}" for i in range(depth)}
  assert all(shape[:2] == (3, 3) for shape in kernels.values())
  with pytest.raises(ValueError, match="upsampling"):
    cn.UNet(3, depth=depth, upsampling="pixelshuffle").init(jax.random.PRNGKey(0), x)
