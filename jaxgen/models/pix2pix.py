"""Conditional GAN for image-to-image translation: pix2pix (Isola et al. 2017).

The generator G is a U-Net from an input image (a low-resolution image brought to the
output size, a luminance image, ...) to an output image; the discriminator D, a
PatchGAN, sees the input and an output together and returns one logit per patch. The
state is the GAN's: two players, each a :class:`~jaxgen.models.state.TrainState` with
its own optimizer and BatchNorm statistics. One ``train_step`` makes one D update
(descent on -E log D(c, y) - E log(1 - D(c, G(c)))) and then one G update against the
updated D on

    L_G = gan_weight * L_cGAN + l1_weight * E |G(c) - y|          (pix2pix: lambda = 100)

(:func:`jaxgen.losses.pix2pix_generator_loss`). With ``pix2pix.gan_weight = 0`` the same
code trains the generator on L1 alone ("L1 only", the regression baseline) and D is not
trained at all (the trainer skips its step; it keeps its initial parameters). G's noise
is dropout in its innermost decoder blocks, as in pix2pix, drawn from the step's key;
evaluation and :meth:`Pix2Pix.translate` run G in eval mode (no dropout, BatchNorm's
running averages), so a translation is a deterministic function of the input.

Batches are ``{"x": target images, "cond": input images}`` (``condition = 'image'``),
both preprocessed to the data's range ([-1, 1] with ``symmetric`` preprocessing, where
G ends in tanh, or [0, 1] with a sigmoid). An input smaller than the output (super-
resolution) is first resized to the output size by ``pix2pix.upsample`` (bicubic by
default: the bicubic baseline is then G's own starting point). With
``pix2pix.residual`` G's U-Net (linear output) predicts a correction added to that input
(to the gray image, replicated to the output's channels, for colorization): residual
learning as in VDSR (Kim et al. 2016), so an untrained G starts near the baseline and the
net learns what the baseline lacks. :meth:`Pix2Pix.translate` clips to the data range.
"""
from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp

from jaxgen import losses
from jaxgen.models.inputs import InputError, check_batch
from jaxgen.models.gan import make_optimizer
from jaxgen.models.state import Optimization, TrainState, guard_nonfinite
from jaxgen.nets import conditional as nets

UPSAMPLE_METHODS = ("bicubic", "nearest", "linear")


@flax.struct.dataclass
class Pix2PixState:
  """Both players, each a :class:`TrainState` (params, optimizer state, BatchNorm
  statistics, update count)."""
  step: jax.Array
  generator: TrainState
  discriminator: TrainState


class Pix2Pix:
  """pix2pix as pure functions of (state, batch, key); see :mod:`jaxgen.models.interface`.

  Built from the output (target) example shape, the input shape of the paired dataset
  (``dataset.input_shape``) and its settings: the config's ``pix2pix`` and ``gan`` groups,
  ``optimization`` (:class:`~jaxgen.models.state.Optimization`) and ``data_range`` (the
  value range of the preprocessed data, :func:`jaxgen.value_range.output_range`)."""

  has_likelihood = False
  condition = "image"

  def __init__(self, example_shape: tuple[int, ...], input_shape: tuple[int, ...], pix2pix,
               gan, optimization: Optimization, data_range: tuple[float, float] = (0.0, 1.0)):
    p, g = pix2pix, gan
    self.example_shape = tuple(example_shape)
    self.input_shape = tuple(input_shape)
    if len(self.example_shape) != 3 or len(self.input_shape) != 3:
      raise InputError(f"pix2pix translates images [H, W, C]; got outputs "
                       f"{list(self.example_shape)} and inputs {list(self.input_shape)}")
    self.gan_weight = float(p.gan_weight)
    self.l1_weight = float(p.l1_weight)
    self.reconstruction = losses.RECONSTRUCTION_LOSSES[p.recon_loss]
    self.adversarial = self.gan_weight > 0
    self.upsample = p.upsample
    self.real_label = float(g.real_label)
    self.generator_loss = losses.GENERATOR_LOSSES[g.generator_loss]
    self.data_range = tuple(data_range)
    self.residual = bool(p.residual)
    if self.residual:
      output = "linear"
    else:
      output = "tanh" if self.data_range == (-1.0, 1.0) else "sigmoid"
    depth = int(p.depth) or min(5, nets.unet_max_depth(*self.example_shape[:2]))
    self.G = nets.UNet(out_channels=self.example_shape[-1], features=int(p.features),
                       depth=depth, max_features=int(p.max_features),
                       dropout=float(p.dropout), norm=p.norm, output=output,
                       bottleneck_blocks=int(p.bottleneck_blocks),
                       upsampling=p.g_upsampling)
    self.D = nets.PatchDiscriminator(features=int(p.d_features), num_layers=int(p.d_layers),
                                     norm=p.norm)
    self.g_tx = guard_nonfinite(make_optimizer(g.g_optimizer, optimization), optimization)
    self.d_tx = guard_nonfinite(make_optimizer(g.d_optimizer, optimization), optimization)
    if self.adversarial:
      self.train_metrics = ("d_loss", "d_real", "d_fake", "g_gan", "l1", "g_loss")
      self.progress_metrics = ("d_loss", "l1")
      self.eval_metrics = ("l1", "d_real", "d_fake")
    else:
      self.train_metrics = ("l1", "g_loss")
      self.progress_metrics = ("l1",)
      self.eval_metrics = ("l1",)

  # ------------------------------------------------------------------ parameters
  def init(self, key: jax.Array) -> Pix2PixState:
    k_g, k_d = jax.random.split(key)
    c = jnp.zeros((2,) + self.example_shape[:2] + self.input_shape[-1:], jnp.float32)
    y = jnp.zeros((2,) + self.example_shape, jnp.float32)
    gv = self.G.init({"params": k_g}, c, train=False)
    dv = self.D.init({"params": k_d}, c, y, train=False)

    def player(variables, tx):
      return TrainState.create(variables["params"], tx, variables.get("batch_stats", {}))

    return Pix2PixState(jnp.zeros((), jnp.int32), player(gv, self.g_tx), player(dv, self.d_tx))

  # ------------------------------------------------------------------ the networks
  def model_input(self, cond: jax.Array) -> jax.Array:
    """The input image at the output's size (``pix2pix.upsample`` where it is smaller)."""
    check_batch(cond, self.input_shape, "Pix2Pix input")
    n = cond.shape[0]
    h, w = self.example_shape[:2]
    if cond.shape[1:3] == (h, w):
      return cond
    return jax.image.resize(cond, (n, h, w, cond.shape[-1]), self.upsample)

  def _generator(self, params, batch_stats, c, train: bool, key=None):
    """G(c) and BatchNorm statistics after the call (train mode: dropout from ``key``)."""
    variables = {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}
    if not train:
      out = self.G.apply(variables, c, train=False)
    else:
      mutable = ["batch_stats"] if batch_stats else []
      out, updated = self.G.apply(variables, c, train=True, rngs={"dropout": key},
                                  mutable=mutable)
      batch_stats = updated["batch_stats"] if batch_stats else batch_stats
    if self.residual:            # G predicts the correction of its (upsampled / gray) input
      out = out + jnp.broadcast_to(c if c.shape[-1] == out.shape[-1] else c[..., :1], out.shape)
    return out, batch_stats

  def _discriminator(self, params, batch_stats, c, y, train: bool):
    variables = {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}
    if not train or not batch_stats:
      return self.D.apply(variables, c, y, train=train), batch_stats
    logits, updated = self.D.apply(variables, c, y, train=True, mutable=["batch_stats"])
    return logits, updated["batch_stats"]

  # ------------------------------------------------------------------ the game
  def _split(self, batch, where: str):
    if not isinstance(batch, dict):
      raise InputError(f"{where}: pix2pix takes batches {{'x': target images, 'cond': input "
                       f"images}}, got {type(batch).__name__}")
    check_batch(batch["x"], self.example_shape, where)
    c = self.model_input(batch["cond"])
    if c.shape[0] != batch["x"].shape[0]:
      raise InputError(f"{where}: {c.shape[0]} inputs for {batch['x'].shape[0]} targets; pass "
                       f"one input per target")
    return c, batch["x"]

  def discriminator_step(self, state: Pix2PixState, batch, key: jax.Array):
    """One D update on (input, target) against (input, G(input)); G is left untouched."""
    c, y = self._split(batch, "Pix2Pix.discriminator_step")
    gen, disc = state.generator, state.discriminator
    fake, _ = self._generator(gen.params, gen.batch_stats, c, True, key)
    fake = jax.lax.stop_gradient(fake)

    def loss_fn(params):
      real_logits, stats = self._discriminator(params, disc.batch_stats, c, y, True)
      fake_logits, stats = self._discriminator(params, stats, c, fake, True)
      loss = losses.discriminator_loss(real_logits, fake_logits, self.real_label)
      return loss, (stats, real_logits, fake_logits)

    (loss, (stats, rl, fl)), grads = jax.value_and_grad(loss_fn, has_aux=True)(disc.params)
    disc = disc.apply_gradients(grads, self.d_tx, batch_stats=stats)
    metrics = {"d_loss": loss, "d_real": jnp.mean(jax.nn.sigmoid(rl)),
               "d_fake": jnp.mean(jax.nn.sigmoid(fl))}
    return state.replace(discriminator=disc), metrics

  def generator_loss_terms(self, params, state: Pix2PixState, batch, key: jax.Array):
    """(:class:`~jaxgen.losses.Pix2PixTerms`, G's BatchNorm statistics) of G's params
    ``params`` against the current D (eval-free: D in train mode, as in its own step)."""
    c, y = self._split(batch, "Pix2Pix.generator_step")
    gen, disc = state.generator, state.discriminator
    fake, stats = self._generator(params, gen.batch_stats, c, True, key)
    if self.adversarial:
      logits, _ = self._discriminator(disc.params, disc.batch_stats, c, fake, True)
    else:                   # L1 only: D is not trained and not even evaluated
      logits = jnp.zeros((1,), jnp.float32)
    terms = losses.pix2pix_generator_loss(logits, fake, y, self.gan_weight, self.l1_weight,
                                          self.generator_loss, self.reconstruction)
    return terms, stats

  def generator_step(self, state: Pix2PixState, batch, key: jax.Array):
    """One G update on gan_weight * L_cGAN + l1_weight * L1 against the current D."""
    def loss_fn(params):
      terms, stats = self.generator_loss_terms(params, state, batch, key)
      return terms.total, (terms, stats)

    (_, (terms, stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        state.generator.params)
    gen = state.generator.apply_gradients(grads, self.g_tx, batch_stats=stats)
    lo, hi = self.data_range
    metrics = {"l1": terms.l1 / (hi - lo), "g_loss": terms.total}
    if self.adversarial:
      metrics["g_gan"] = terms.adversarial
    return state.replace(generator=gen), metrics

  def train_step(self, state: Pix2PixState, batch, key: jax.Array):
    """One D update (skipped when ``gan_weight`` = 0), then one G update. ``l1`` is logged
    on the [0, 1] scale whatever the preprocessing."""
    k_d, k_g = jax.random.split(key)
    metrics = {}
    if self.adversarial:
      state, metrics = self.discriminator_step(state, batch, k_d)
    state, g_metrics = self.generator_step(state, batch, k_g)
    return state.replace(step=state.step + 1), {**metrics, **g_metrics}

  # ------------------------------------------------------------------ using G
  def translate(self, state: Pix2PixState, cond: jax.Array) -> jax.Array:
    """G's outputs for preprocessed inputs ``cond`` (eval mode), mapped to [0, 1]."""
    gen = state.generator
    out, _ = self._generator(gen.params, gen.batch_stats, self.model_input(cond), False)
    return self.to_unit(out)

  def to_unit(self, x: jax.Array) -> jax.Array:
    """Preprocessed images (the data's range) mapped to [0, 1]."""
    lo, hi = self.data_range
    return jnp.clip((x - lo) / (hi - lo), 0.0, 1.0)

  def generate(self, state: Pix2PixState, key: jax.Array, n: int) -> jax.Array:
    """Not defined: pix2pix translates given inputs (use :meth:`translate`)."""
    raise InputError("pix2pix has no unconditional samples: it translates input images; use "
                     "model.translate(state, inputs) or train.py --mode sample, which writes "
                     "the translations of the test inputs")

  # ------------------------------------------------------------------ evaluation
  def eval_batch(self, state: Pix2PixState, batch, key: jax.Array) -> dict:
    """Per-example mean absolute error of G's output ([0, 1] scale) and, for the
    adversarial model, D's probabilities on (input, target) and (input, G(input))."""
    del key
    c, y = self._split(batch, "Pix2Pix.eval_batch")
    gen, disc = state.generator, state.discriminator
    fake, _ = self._generator(gen.params, gen.batch_stats, c, False)
    lo, hi = self.data_range
    out = {"l1": jnp.mean(jnp.abs(fake - y), axis=(1, 2, 3)) / (hi - lo)}
    if self.adversarial:
      for name, img in (("d_real", y), ("d_fake", fake)):
        logits, _ = self._discriminator(disc.params, disc.batch_stats, c, img, False)
        out[name] = jnp.mean(jax.nn.sigmoid(logits), axis=(1, 2))
    return out

  def pictures(self, state: Pix2PixState, key: jax.Array, batch) -> dict:
    """``translations``: rows of eight inputs (enlarged to the output size by pixel
    repetition, so a low-resolution input shows its pixels), their outputs and the targets
    below them, for the first 16 examples."""
    del key
    c, y = self._split(batch, "Pix2Pix.pictures")
    n = min(16, (c.shape[0] // 8) * 8) or c.shape[0]
    raw = batch["cond"][:n]
    shown = self.to_unit(jax.image.resize(raw, (n,) + self.example_shape[:2] + raw.shape[-1:],
                                          "nearest"))
    if shown.shape[-1] != y.shape[-1]:
      shown = jnp.broadcast_to(shown[..., :1], shown.shape[:-1] + y.shape[-1:])
    out = self.translate(state, batch["cond"][:n])
    rows = [a.reshape((-1, 8) + a.shape[1:]) for a in (shown, out, self.to_unit(y[:n]))] \
        if n % 8 == 0 else None
    if rows is None:
      return {"translations": jnp.concatenate([shown, out, self.to_unit(y[:n])])}
    grid = jnp.stack(rows, axis=1)                    # [groups, 3, 8, H, W, C]
    return {"translations": grid.reshape((-1,) + grid.shape[3:])}
