"""Hand-written backward passes in jaxgen.nets.layers agree with autodiff: the convolutions,\nthe dense layer's bias and the minibatch similarity."""
import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from jaxgen import xla_options
from jaxgen.nets import layers


_DN = ("NHWC", "HWIO", "NHWC")


def _lax_conv(x, k, strides, padding):
  return jax.lax.conv_general_dilated(x, k, strides, layers._explicit_pads(x.shape, k.shape, strides,
                                                                         padding), dimension_numbers=_DN)


def _lax_conv_transpose(x, k, strides, padding):
  return jax.lax.conv_transpose(x, k, strides, padding, dimension_numbers=_DN)


@pytest.mark.parametrize("op,reference,strides,padding,shape,kernel", [
    (layers.conv2d, _lax_conv, (2, 2), "SAME", (3, 8, 8, 2), (4, 4)),
    (layers.conv2d, _lax_conv, (2, 3), "VALID", (2, 9, 11, 3), (3, 2)),
    (layers.conv2d, _lax_conv, (1, 1), "SAME", (2, 6, 6, 3), (5, 5)),
    (layers.conv2d, _lax_conv, (2, 2), ((1, 2), (0, 1)), (2, 9, 9, 2), (4, 4)),
    (layers.conv2d, _lax_conv, (2, 2), "SAME", (2, 7, 7, 1), (4, 4)),
    (layers.conv_transpose, _lax_conv_transpose, (2, 2), "SAME", (3, 7, 7, 4), (4, 4)),
    (layers.conv_transpose, _lax_conv_transpose, (2, 2), "VALID", (2, 5, 5, 3), (4, 4)),
    (layers.conv_transpose, _lax_conv_transpose, (1, 1), "VALID", (2, 1, 1, 6), (4, 4)),
    (layers.conv_transpose, _lax_conv_transpose, (2, 2), ((1, 2), (1, 2)), (2, 4, 4, 2), (4, 4)),
    (layers.conv_transpose, _lax_conv_transpose, (3, 3), "SAME", (2, 3, 3, 2), (4, 4)),
    (layers.conv_transpose, _lax_conv_transpose, (1, 1), "SAME", (2, 5, 5, 2), (3, 3)),
    (layers.conv_transpose, _lax_conv_transpose, (2, 3), ((2, 1), (0, 3)), (2, 4, 5, 2), (4, 3)),
    (layers.conv_transpose, _lax_conv_transpose, (3, 2), "VALID", (2, 3, 4, 2), (2, 5))])
def test_conv_gradients_match_autodiff(op, reference, strides, padding, shape, kernel, x64):
  """Values equal lax's; gradients equal autodiff's of lax's and pass check_grads."""
  with x64():
    x = jax.random.normal(jax.random.PRNGKey(0), shape, jnp.float64)
    k = jax.random.normal(jax.random.PRNGKey(1), kernel + (shape[-1], 5), jnp.float64)
    plain = lambda x, k: jnp.sum(jnp.sin(reference(x, k, strides, padding)))
    custom = lambda x, k: jnp.sum(jnp.sin(op(x, k, strides, padding)))
    np.testing.assert_allclose(op(x, k, strides, padding), reference(x, k, strides, padding),
                               rtol=1e-12, atol=1e-12)
    chex.assert_trees_all_close(jax.grad(custom, (0, 1))(x, k), jax.grad(plain, (0, 1))(x, k),
                                rtol=1e-10, atol=1e-10)
    check_grads(lambda x, k: op(x, k, strides, padding), (x, k), order=1, modes=["rev"])



def _numpy_input_dilated_conv(g, kernel, strides, pads):
  """The stride-dilated, padded (negative: cropped) input correlated with the kernel, in numpy."""
  g, kernel = np.asarray(g), np.asarray(kernel)
  n, h, w, c = g.shape
  dilated = np.zeros((n, (h - 1) * strides[0] + 1, (w - 1) * strides[1] + 1, c))
  dilated[:, ::strides[0], ::strides[1]] = g
  (a, b), (e, f) = pads
  big = np.pad(dilated, ((0, 0), (max(a, 0), max(b, 0)), (max(e, 0), max(f, 0)), (0, 0)))
  big = big[:, max(-a, 0):big.shape[1] - max(-b, 0), max(-e, 0):big.shape[2] - max(-f, 0)]
  kh, kw = kernel.shape[:2]
  oh, ow = big.shape[1] - kh + 1, big.shape[2] - kw + 1
  return sum(big[:, i:i + oh, j:j + ow] @ kernel[i, j] for i in range(kh) for j in range(kw))


@pytest.mark.parametrize("form", ["_input_dilated_conv", "_scatter_conv"])
@pytest.mark.parametrize("shape,kernel,strides,pads", [
    ((2, 7, 7, 3), (4, 4), (2, 2), ((2, 2), (2, 2))),       # a DCGAN layer's geometry
    ((2, 1, 1, 3), (7, 7), (1, 1), ((6, 6), (6, 6))),       # 1 x 1 input: the first layer
    ((2, 1, 1, 3), (4, 3), (2, 3), ((1, 3), (2, 0))),
    ((2, 5, 6, 3), (3, 5), (3, 2), ((0, 2), (4, 1))),       # kernel not a multiple of the stride
    ((2, 6, 5, 3), (2, 2), (3, 3), ((1, 0), (0, 1))),       # kernel shorter than the stride
    ((2, 4, 4, 3), (4, 4), (2, 2), ((-1, 2), (3, -1))),     # negative padding crops
    ((2, 3, 8, 3), (5, 1), (1, 2), ((4, 2), (0, 0)))])
def test_input_dilated_conv_forms_match_numpy(form, shape, kernel, strides, pads, x64):
  """Both ways of running a stride-dilated convolution without dilating (the phase
  decomposition and the matrix product + col2im) equal the literal dilated form."""
  with x64():
    g = jax.random.normal(jax.random.PRNGKey(0), shape, jnp.float64)
    k = jax.random.normal(jax.random.PRNGKey(1), kernel + (3, 4), jnp.float64)
    np.testing.assert_allclose(getattr(layers, form)(g, k, strides, pads),
                               _numpy_input_dilated_conv(g, k, strides, pads), rtol=1e-12, atol=1e-12)



@pytest.mark.parametrize("strides,padding,shape,kernel", [
    ((2, 2), "SAME", (2, 8, 8, 3), (4, 4)), ((2, 3), "VALID", (2, 9, 11, 3), (3, 2)),
    ((1, 1), "SAME", (2, 6, 6, 2), (5, 5)), ((2, 2), ((1, 2), (0, 1)), (2, 9, 9, 2), (4, 4))])
def test_both_kernel_gradient_forms_agree(strides, padding, shape, kernel, x64):
  """Each layer picks its kernel gradient's form by channel counts (the convolution form or
  one matrix product); the autodiff test above runs one form, so the two must agree."""
  with x64():
    x = jax.random.normal(jax.random.PRNGKey(0), shape, jnp.float64)
    k_shape = kernel + (shape[-1], 4)
    pads = layers._explicit_pads(shape, k_shape, strides, padding)
    g = jax.random.normal(jax.random.PRNGKey(1), layers.conv2d(x, jnp.zeros(k_shape), strides, padding).shape)
    dk_pads = [(lo, k - 1 + (o - 1) * s + 1 - n - lo) for n, k, s, (lo, _), o
               in zip(shape[1:3], kernel, strides, pads, g.shape[1:3])]
    np.testing.assert_allclose(layers._patch_kernel_grad(x, g, k_shape, strides, pads),
                               layers._kernel_grad(x, g, dk_pads, rhs_dilation=strides), rtol=1e-12, atol=1e-12)
    tpads = layers._transpose_pads(k_shape, strides, padding)
    y = layers.conv_transpose(x, jnp.zeros(k_shape), strides, padding)
    g = jax.random.normal(jax.random.PRNGKey(2), y.shape)
    np.testing.assert_allclose(layers._transpose_patch_kernel_grad(x, g, k_shape, strides, tpads),
                               layers._transpose_kernel_grad(x, g, k_shape, strides, tpads),
                               rtol=1e-12, atol=1e-12)


def test_conv_transpose_module_matches_flax():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 7, 7, 3))
  ours = layers.ConvTranspose(5, (4, 4), strides=(2, 2))
  theirs = nn.ConvTranspose(5, (4, 4), strides=(2, 2))
  params = ours.init(jax.random.PRNGKey(1), x)
  chex.assert_trees_all_equal_shapes(params, theirs.init(jax.random.PRNGKey(1), x))
  np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), rtol=1e-5, atol=1e-6)


def test_conv_module_matches_flax():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 3))
  for kwargs in ({"padding": "SAME"}, {"padding": ((1, 1), (1, 1)), "use_bias": False}):
    ours = layers.Conv(5, (4, 4), strides=(2, 2), **kwargs)
    theirs = nn.Conv(5, (4, 4), strides=(2, 2), **kwargs)
    params = ours.init(jax.random.PRNGKey(1), x)
    chex.assert_trees_all_equal_shapes(params, theirs.init(jax.random.PRNGKey(1), x))
    np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), rtol=1e-5,
                               atol=1e-6)


def test_dense_matches_flax_and_bias_gradient_is_exact():
  x = jax.random.normal(jax.random.PRNGKey(0), (9, 4))
  ours, theirs = layers.Dense(3), nn.Dense(3)
  params = ours.init(jax.random.PRNGKey(1), x)
  np.testing.assert_allclose(ours.apply(params, x), theirs.apply(params, x), rtol=1e-6)
  g1 = jax.grad(lambda p: jnp.sum(jnp.tanh(ours.apply(p, x))))(params)
  g2 = jax.grad(lambda p: jnp.sum(jnp.tanh(theirs.apply(p, x))))(params)
  chex.assert_trees_all_close(g1, g2, rtol=1e-5, atol=1e-6)
  for width in (1, 3):
    y = jax.random.normal(jax.random.PRNGKey(2), (6, width))
    b = jnp.zeros((width,))
    g = jax.grad(lambda b: jnp.sum(jnp.sin(layers.add_bias(y, b))))(b)
    np.testing.assert_allclose(g, jnp.sum(jnp.cos(y), axis=0), rtol=1e-5)


def test_minibatch_similarity_backward_matches_autodiff(x64):
  minibatch_similarity = layers.minibatch_similarity

  def plain(m):
    c = jnp.exp(-jnp.sum(jnp.abs(m[:, None] - m[None, :]), -1))
    return jnp.einsum("ijb,ij->ib", c, 1.0 - jnp.eye(m.shape[0], dtype=m.dtype))

  with x64():
    m = jnp.asarray(np.random.default_rng(1).normal(size=(20, 10, 5)) * 0.3, jnp.float64)
    r = jnp.asarray(np.random.default_rng(0).normal(size=(20, 10)), jnp.float64)
    np.testing.assert_allclose(minibatch_similarity(m), plain(m), rtol=1e-12)
    a = jax.grad(lambda x: jnp.sum(r * plain(x)))(m)
    b = jax.grad(lambda x: jnp.sum(r * minibatch_similarity(x)))(m)
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    check_grads(minibatch_similarity, (m[:6, :3, :2],), order=1, modes=["rev"])


def _pairs_plain(v):
  """sum_{j != i} exp(-|v_i - v_j|) for v [N, B], the one-line pairwise form."""
  return jnp.sum(jnp.exp(-jnp.abs(v[:, None] - v[None, :])), axis=1) - 1.0


@pytest.mark.parametrize("n,spread", [(1, 1.0), (2, 1.0), (9, 0.3), (33, 5.0), (64, 2.0)])
def test_sorted_similarity_equals_the_pairwise_sums_and_their_gradient(x64, n, spread):
  """Kernels of one dimension go through the O(N log N) sorted form: the same sums as the
  pairwise form and the same gradient as the pairwise form's hand-written backward, at
  batch sizes odd and even, 1 (no pairs) and just past a power of two (the prefix scan's
  odd lengths)."""
  with x64():
    v = jnp.asarray(np.random.default_rng(n).normal(size=(n, 4)) * spread, jnp.float64)
    r = jnp.asarray(np.random.default_rng(7).normal(size=(n, 4)), jnp.float64)
    np.testing.assert_allclose(layers.sorted_similarity(v), _pairs_plain(v), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layers.minibatch_similarity(v[..., None]), _pairs_plain(v),
                               rtol=1e-12, atol=1e-14)
    a = jax.jit(jax.grad(lambda x: jnp.sum(r * _pairs_plain(x))))(v)
    b = jax.jit(jax.grad(lambda x: jnp.sum(r * layers.sorted_similarity(x))))(v)
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    if n <= 9:
      check_grads(layers.sorted_similarity, (v,), order=1, modes=["rev"])


def test_sorted_similarity_leaves_tied_pairs_out_of_the_gradient_as_the_pairwise_form_does(x64):
  """Equal values (a collapsed generator's identical samples) have no derivative of |.|;
  both hand-written backward passes give such pairs sign 0, so the gradients agree, and a
  batch of identical values gets no gradient at all."""
  with x64():
    v = jnp.asarray(np.round(np.random.default_rng(3).normal(size=(30, 3)) * 2), jnp.float64)
    r = jnp.asarray(np.random.default_rng(4).normal(size=(30, 3)), jnp.float64)
    assert len(np.unique(np.asarray(v[:, 0]))) < 30                     # ties present
    pair = jax.jit(jax.grad(lambda x: jnp.sum(r * layers.pairwise_similarity(x[..., None]))))(v)
    srt = jax.jit(jax.grad(lambda x: jnp.sum(r * layers.sorted_similarity(x))))(v)
    np.testing.assert_allclose(srt, pair, rtol=1e-10, atol=1e-12)
    same = jnp.ones((6, 2), jnp.float64)
    np.testing.assert_array_equal(layers.sorted_similarity(same), 5.0)
    np.testing.assert_array_equal(jax.grad(lambda x: jnp.sum(r[:6, :2] * layers.sorted_similarity(x)))(same), 0.0)


def test_one_dimensional_kernels_build_no_pairwise_tensor():
  """The point of the sorted form: with C = 1 the largest intermediate of the forward and
  backward pass (under vmap over seeds) grows linearly with the batch, not with its
  square; with C = 2 the pairwise [N, N, B] tensor is there."""
  b = 4

  def largest(fn, m):
    jaxpr = jax.make_jaxpr(jax.vmap(jax.grad(lambda x: jnp.sum(jnp.sin(fn(x))))))(m)
    out = []
    def walk(j):                              # every equation, inside sub-jaxprs too
      for eqn in j.eqns:
        out.extend(int(np.prod(v.aval.shape)) for v in eqn.outvars if hasattr(v.aval, "shape"))
        for p in eqn.params.values():
          inner = getattr(p, "jaxpr", p)
          if hasattr(inner, "eqns"):
            walk(inner)
    walk(jaxpr.jaxpr)
    return max(out)

  one = [largest(layers.minibatch_similarity, jnp.ones((3, n, b, 1))) for n in (64, 128)]
  two = [largest(layers.minibatch_similarity, jnp.ones((3, n, b, 2))) for n in (64, 128)]
  assert one[1] <= 2.1 * one[0] and one[1] < 128 * 128, one
  assert two[1] >= 3.9 * two[0] and two[1] >= 3 * 128 * 128 * b, two


def test_the_few_channel_policy_picks_the_kernel_gradient_form_and_keeps_the_values(monkeypatch):
  """Where few-channel convolutions are slow (CPUs without AVX-512) the kernel gradients
  of a 3-channel conv2d, of a 32-channel conv2d with a 3 x 3 output and of a 3-channel
  conv_transpose are matrix products of patches; elsewhere one more convolution each; the
  values agree with autodiff of lax either way."""
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 16, 3))   # output 8 x 8: not "small"
  k = jax.random.normal(jax.random.PRNGKey(1), (4, 4, 3, 5)) * 0.1
  xs = jax.random.normal(jax.random.PRNGKey(4), (2, 7, 7, 32))   # output 3 x 3: "small"
  ks = jax.random.normal(jax.random.PRNGKey(5), (4, 4, 32, 5)) * 0.1
  kt = jax.random.normal(jax.random.PRNGKey(2), (4, 4, 5, 3)) * 0.1
  h = jax.random.normal(jax.random.PRNGKey(3), (2, 4, 4, 5))
  pads = ((1, 1), (1, 1))
  cases = [(lambda k: layers.conv2d(x, k, (2, 2), "SAME"), lambda k: _lax_conv(x, k, (2, 2), "SAME"), k),
           (lambda k: layers.conv2d(xs, k, (2, 2), pads), lambda k: _lax_conv(xs, k, (2, 2), pads), ks),
           (lambda k: layers.conv_transpose(h, k, (2, 2), "SAME"),
            lambda k: _lax_conv_transpose(h, k, (2, 2), "SAME"), kt)]
  for ours, ref, kernel in cases:
    grad = lambda f: jax.grad(lambda k: jnp.sum(jnp.sin(f(k))))
    convs = {}
    for slow in (True, False):
      monkeypatch.setattr(layers, "few_channel_convolutions_are_slow", lambda: slow)
      np.testing.assert_allclose(grad(ours)(kernel), grad(ref)(kernel), rtol=1e-4, atol=1e-5)
      convs[slow] = str(jax.make_jaxpr(grad(ours))(kernel)).count("conv_general_dilated")
    assert convs[False] == convs[True] + 1, convs


def test_the_few_channel_policy_follows_the_processor():
  """On the CPU backend the matrix-product forms are kept exactly where the processor lacks
  AVX-512 (read from /proc/cpuinfo's flags, as environment.json records them)."""
  assert jax.default_backend() == "cpu"
  has = "avx512f" in xla_options.cpu_info()["vector_extensions"]
  assert xla_options.cpu_has_avx512() == has
  assert layers.few_channel_convolutions_are_slow() == (not has)
