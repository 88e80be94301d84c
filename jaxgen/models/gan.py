"""Generative adversarial network (Goodfellow et al., 2014): the two-player game.

The state holds two sub-states — generator and discriminator — each with its own params,
optax state and batch statistics. One ``train_step`` makes ``config.gan.d_steps``
discriminator updates (descent on -E log D(x) - E log(1 - D(G(z))), i.e. ascent on its
objective) and then one generator update against the *updated* discriminator, with the
``saturating`` loss E log(1 - D(G(z))) or the ``non_saturating`` loss -E log D(G(z)).
Real and generated batches go through D in separate calls, so BatchNorm and the
minibatch layers see one kind of batch at a time. Each player is a
:class:`~jaxgen.models.state.TrainState` updated through ``apply_gradients``.

The stabilizers, each off by default (``gan.*``): the hinge game
(``discriminator_loss``/``generator_loss`` = 'hinge'), PacGAN packing (``pack``: D judges
packs of m real or m generated samples), spectral normalization of D (``spectral_norm``:
the power-iteration vectors live in D's ``batch_stats``, so they are saved, restored and
per seed like every other state), the R1 penalty on real data (``r1_gamma``; lazily,
scaled up, every ``r1_every`` steps) and
differentiable augmentation (``augment``: every image D sees, in both players' updates,
:mod:`jaxgen.nets.augment`). With all of them off the computation is the plain game's.
"""
from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

from jaxgen import losses
from jaxgen.models.inputs import check_batch
from jaxgen.models.state import Optimization, TrainState, guard_nonfinite, learning_rate
from jaxgen.nets import adversarial as gan_nets
from jaxgen.nets import augment as augment_lib
from jaxgen.scale.sharding import batch_rows


@flax.struct.dataclass
class GANState:
  """Both players (each a :class:`TrainState`: params, optimizer state, BatchNorm
  statistics, update count), plus ``generator_ema``: an exponential moving average of G's
  params when ``config.gan.g_ema`` > 0, else None (an empty pytree node)."""
  step: jax.Array
  generator: TrainState
  discriminator: TrainState
  generator_ema: Any


def make_optimizer(opt_config, optimization: Optimization,
                   updates_per_step: int = 1) -> optax.GradientTransformation:
  """Adam from a ``gan.g_optimizer``/``gan.d_optimizer`` group (learning_rate 0 =
  ``optimization.learning_rate``), on ``optimization``'s schedule."""
  lr = opt_config.learning_rate or optimization.learning_rate
  return optax.adam(learning_rate(lr, optimization, updates_per_step), b1=opt_config.b1,
                    b2=opt_config.b2)


class GAN:
  """A GAN as pure functions of (state, batch, key); see :mod:`jaxgen.models.interface`.

  Examples of shape (dim,) are points (a linear generator output); of shape (H, W, C),
  images (a tanh output for data preprocessed to [-1, 1], else a sigmoid).

  Settings: the config's ``model`` and ``gan`` groups, ``optimization``
  (:class:`~jaxgen.models.state.Optimization`), ``data_range`` (the value range of the
  preprocessed data, :func:`jaxgen.value_range.output_range`) and ``num_mode_samples``,
  the size of the sample cloud :meth:`pictures` draws for points (``eval.num_mode_samples``).
  """

  has_likelihood = False
  condition = "none"
  progress_metrics = ("d_loss", "g_loss")
  eval_metrics = ("d_real", "d_fake")

  def __init__(self, example_shape: tuple[int, ...], model, gan, optimization: Optimization,
               data_range: tuple[float, float] = (0.0, 1.0), num_mode_samples: int = 2500):
    m, g = model, gan
    self.example_shape = tuple(example_shape)
    self.points = len(self.example_shape) == 1
    self.noise_dim = int(m.latent_dim)
    self.d_steps = int(g.d_steps)
    self.real_label = float(g.real_label)
    self.g_ema = float(g.g_ema)
    self.generator_loss = losses.GENERATOR_LOSSES[g.generator_loss]
    self.hinge = g.discriminator_loss == "hinge"
    self.pack = int(g.pack)
    self.r1_gamma = float(g.r1_gamma)
    self.r1_every = int(g.r1_every)
    self.truncation = float(g.truncation)
    self.symmetric = tuple(data_range) == (-1.0, 1.0)     # data preprocessed to [-1, 1]
    if self.points:
      output = "linear"
    else:
      output = "tanh" if self.symmetric else "sigmoid"
    self.augment = () if self.points else augment_lib.parse_policy(g.augment)
    # d_loss: the game's loss alone; r1: the penalty D adds to it; g_grad_norm: the global
    # norm of G's gradient (the saturating loss's vanishing gradient shows there)
    self.train_metrics = ("d_loss", "d_real", "d_fake") + (("r1",) if self.r1_gamma else ()) + (
        "g_loss", "g_grad_norm")
    if m.net == "dcgan":
      self.G = gan_nets.DCGANGenerator(features=g.features, out_shape=self.example_shape)
      self.D = gan_nets.DCGANDiscriminator(features=g.d_features or g.features, minibatch=g.minibatch,
                                           mb_kernels=g.mb_kernels, mb_dims=g.mb_dims,
                                           mb_normalize=g.mb_normalize, pack=self.pack,
                                           spectral_norm=g.spectral_norm)
    else:
      self.G = gan_nets.MLPGenerator(tuple(m.hidden), self.example_shape, output=output)
      self.D = gan_nets.MLPDiscriminator(tuple(g.d_hidden), minibatch=g.minibatch,
                                         mb_kernels=g.mb_kernels, mb_dims=g.mb_dims,
                                         mb_normalize=g.mb_normalize,
                                         maxout_pieces=g.maxout_pieces, pack=self.pack,
                                         spectral_norm=g.spectral_norm)
    self.g_tx = guard_nonfinite(make_optimizer(g.g_optimizer, optimization), optimization)
    self.d_tx = guard_nonfinite(make_optimizer(g.d_optimizer, optimization, g.d_steps),
                                optimization)
    self.num_mode_samples = int(num_mode_samples)

  # ------------------------------------------------------------------ parameters
  def init(self, key: jax.Array) -> GANState:
    k_g, k_d = jax.random.split(key)
    z = jnp.zeros((2, self.noise_dim), jnp.float32)
    x = jnp.zeros((2 * self.pack,) + self.example_shape, jnp.float32)
    gv = self.G.init(k_g, z, train=False)
    dv = self.D.init(k_d, x, train=False)

    def player(variables, tx):
      return TrainState.create(variables["params"], tx, variables.get("batch_stats", {}))

    gen = player(gv, self.g_tx)
    # own buffers (the train chunk donates its state); nothing when the EMA is off
    ema = jax.tree.map(jnp.copy, gen.params) if self.g_ema > 0 else None
    return GANState(jnp.zeros((), jnp.int32), gen, player(dv, self.d_tx), ema)

  @staticmethod
  def _apply(module, params, batch_stats, x, train: bool):
    """Applies ``module``; returns (output, batch_stats after the call)."""
    if not batch_stats:
      return module.apply({"params": params}, x, train=train), batch_stats
    variables = {"params": params, "batch_stats": batch_stats}
    if not train:
      return module.apply(variables, x, train=False), batch_stats
    out, updated = module.apply(variables, x, train=True, mutable=["batch_stats"])
    return out, updated["batch_stats"]

  def noise(self, key: jax.Array, n: int) -> jax.Array:
    """G's input for training: z ~ N(0, I), [n, noise_dim]."""
    return batch_rows(jax.random.normal(key, (n, self.noise_dim), jnp.float32))

  def sample_noise(self, key: jax.Array, n: int) -> jax.Array:
    """G's input for samples (evaluation, generation): :meth:`noise`, or with
    ``gan.truncation`` = t > 0 the standard normal truncated to [-t, t] per coordinate
    (BigGAN's truncation trick: every coordinate beyond t redrawn, in law)."""
    if not self.truncation:
      return self.noise(key, n)
    t = self.truncation
    return batch_rows(jax.random.truncated_normal(key, -t, t, (n, self.noise_dim), jnp.float32))

  # ------------------------------------------------------------------ the game
  def _augmented(self, key: jax.Array, x: jax.Array) -> jax.Array:
    """``x`` through ``gan.augment``'s transformations (``x`` itself when off)."""
    return augment_lib.augment(key, x, self.augment)

  def discriminator_loss(self, real_logits: jax.Array, fake_logits: jax.Array) -> jax.Array:
    """The game's loss for D (without R1): the cross-entropy or the hinge loss."""
    if self.hinge:
      return losses.discriminator_loss_hinge(real_logits, fake_logits)
    return losses.discriminator_loss(real_logits, fake_logits, self.real_label)

  def discriminator_step(self, state: GANState, real: jax.Array, key: jax.Array):
    """One discriminator update; the generator's sub-state is returned untouched."""
    check_batch(real, self.example_shape, "GAN.discriminator_step")
    gen, disc = state.generator, state.discriminator
    fake, _ = self._apply(self.G, gen.params, gen.batch_stats,
                          self.noise(key, real.shape[0]), train=True)
    fake = jax.lax.stop_gradient(fake)
    k_aug = jax.random.fold_in(key, 1)
    real = self._augmented(jax.random.fold_in(k_aug, 0), real)
    fake = self._augmented(jax.random.fold_in(k_aug, 1), fake)

    def loss_fn(params, gamma):
      def judge_real(x):
        return self._apply(self.D, params, disc.batch_stats, x, train=True)

      if gamma:
        r1, real_logits, stats = losses.r1_penalty(judge_real, real, gamma)
      else:
        (real_logits, stats), r1 = judge_real(real), jnp.zeros((), jnp.float32)
      fake_logits, stats = self._apply(self.D, params, stats, fake, train=True)
      loss = self.discriminator_loss(real_logits, fake_logits)
      return loss + r1, (stats, real_logits, fake_logits, loss, r1)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    if self.r1_gamma and self.r1_every > 1:
      # lazy R1: gamma * r1_every on every r1_every-th step, none between (one branch runs;
      # under vmapped seeds the step is batched and both run, selected per seed)
      (_, (stats, rl, fl, loss, r1)), grads = jax.lax.cond(
          state.step % self.r1_every == 0,
          lambda p: grad_fn(p, self.r1_gamma * self.r1_every), lambda p: grad_fn(p, 0.0),
          disc.params)
    else:
      (_, (stats, rl, fl, loss, r1)), grads = grad_fn(disc.params, self.r1_gamma)
    disc = disc.apply_gradients(grads, self.d_tx, batch_stats=stats)
    metrics = {"d_loss": loss, "d_real": jnp.mean(jax.nn.sigmoid(rl)),
               "d_fake": jnp.mean(jax.nn.sigmoid(fl))}
    if self.r1_gamma:
      metrics["r1"] = r1
    return state.replace(discriminator=disc), metrics

  def generator_step(self, state: GANState, batch_size: int, key: jax.Array):
    """One generator update against the current discriminator (left untouched)."""
    gen, disc = state.generator, state.discriminator
    z = self.noise(key, batch_size)
    k_aug = jax.random.fold_in(key, 1)

    def loss_fn(params):
      fake, stats = self._apply(self.G, params, gen.batch_stats, z, train=True)
      fake = self._augmented(k_aug, fake)
      logits, _ = self._apply(self.D, disc.params, disc.batch_stats, fake, train=True)
      return self.generator_loss(logits), stats

    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(gen.params)
    gen = gen.apply_gradients(grads, self.g_tx, batch_stats=stats)
    ema = state.generator_ema
    if self.g_ema > 0:
      ema = jax.tree.map(lambda e, p: self.g_ema * e + (1.0 - self.g_ema) * p, ema, gen.params)
    metrics = {"g_loss": loss, "g_grad_norm": optax.global_norm(grads)}
    return state.replace(generator=gen, generator_ema=ema), metrics

  def train_step(self, state: GANState, batch: jax.Array, key: jax.Array):
    """``d_steps`` discriminator updates, then one generator update."""
    check_batch(batch, self.example_shape, "GAN.train_step")
    k_d, k_g = jax.random.split(key)
    for i in range(self.d_steps):
      state, d_metrics = self.discriminator_step(state, batch, jax.random.fold_in(k_d, i))
    state, g_metrics = self.generator_step(state, batch.shape[0], k_g)
    return state.replace(step=state.step + 1), {**d_metrics, **g_metrics}

  # ------------------------------------------------------------------ using G alone
  def sample(self, state: GANState, key: jax.Array, n: int) -> jax.Array:
    """n samples of G in the data's own space (eval-mode BatchNorm), from the averaged
    params ``state.generator_ema`` when ``gan.g_ema`` > 0, else from G's params."""
    return self.sample_from(state, self.sample_noise(key, n))

  def sample_from(self, state: GANState, z: jax.Array) -> jax.Array:
    """G's outputs for the noise ``z [n, noise_dim]`` as :meth:`sample` computes them."""
    gen = state.generator
    params = state.generator_ema if self.g_ema > 0 else gen.params
    out, _ = self._apply(self.G, params, gen.batch_stats, z, train=False)
    return out

  def generate(self, state: GANState, key: jax.Array, n: int) -> jax.Array:
    """n samples: images mapped to [0, 1], points as they are."""
    return self.generate_from(state, self.sample_noise(key, n))

  def generate_from(self, state: GANState, z: jax.Array) -> jax.Array:
    """:meth:`generate`'s outputs for the noise ``z [n, noise_dim]`` (a latent walk)."""
    x = self.sample_from(state, z)
    if not self.points and self.symmetric:
      x = (x + 1.0) / 2.0
    return x

  # ------------------------------------------------------------------ evaluation
  def eval_batch(self, state: GANState, x: jax.Array, key: jax.Array) -> dict:
    """Per-example D(x) on test data and D(G(z)) on as many samples (eval-mode nets; the
    sigmoid of the score also for the hinge loss)."""
    check_batch(x, self.example_shape, "GAN.eval_batch")
    fake = self.sample(state, key, x.shape[0])
    return {"d_real": jax.nn.sigmoid(self.judge_each(state, x)),
            "d_fake": jax.nn.sigmoid(self.judge_each(state, fake))}

  def judge_each(self, state: GANState, x: jax.Array) -> jax.Array:
    """D's logit for every example of ``x`` (eval-mode nets, no augmentation). With
    packing, each example gets its pack's logit (consecutive examples packed; a last,
    incomplete pack filled with the batch's first examples)."""
    disc, n, m = state.discriminator, x.shape[0], self.pack
    if n % m:
      x = jnp.concatenate([x, x[:m - n % m]])
    logits, _ = self._apply(self.D, disc.params, disc.batch_stats, x, train=False)
    return jnp.repeat(logits, m)[:n]

  def pictures(self, state: GANState, key: jax.Array, x: jax.Array) -> dict:
    """A grid of samples (images) or a sample cloud to scatter (points)."""
    n = self.num_mode_samples if self.points else x.shape[0]
    return {"samples": self.generate(state, key, n)}
