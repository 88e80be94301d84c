"""The 2-D GAN laboratory: a GAN on a 2-D mixture trained live, one compiled chunk at a time.

A :class:`GanLab` holds one seed's run of a GAN on 2-D points (``ring`` or ``grid``) and
trains it with the trainer's own steps (:func:`jaxgen.train.steps.make_carried_chunk`: the
same step, keys and data order as ``train.py``, the epoch permutation kept between the
short chunks), so N steps here give the parameters ``train.py`` gives for N steps of the
same config and seed. Between chunks,
:meth:`GanLab.view` returns what the page draws, all computed by the model:

* ``real``: a fixed sample of the test points; ``fake``: G's samples for the evaluation's
  own noise (the first of the ``eval.num_mode_samples`` samples the mode metrics count);
* ``heatmap``: D(x) = sigmoid(logit) on a square grid over the plane (eval-mode D, as
  :meth:`GAN.judge_each`);
* ``arrows``: the gradient each drawn sample receives, -d(generator loss)/dx scaled by the
  number of samples (the direction the generator's update pushes that point);
* ``metrics``: modes, high-quality percentage and reverse KL of the mode-collapse protocol
  (:func:`jaxgen.evaluation.mode_collapse.mode_metrics`) on the same samples, with the same
  key, as the evaluation in ``eval.json``; the last chunk's mean D and G losses.

:meth:`GanLab.configure` switches the generator loss (saturating / non-saturating: the same
parameters go on training under the other loss) or the minibatch layer (a different
discriminator, so training restarts from step 0).
"""
from __future__ import annotations

import copy
import threading
import time
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from jaxgen import config as config_lib
from jaxgen.evaluation.mode_collapse import mode_metrics
from jaxgen.losses import GENERATOR_LOSSES
from jaxgen.nets.adversarial import MINIBATCH_KINDS
from jaxgen.data import pipeline
from jaxgen.studio.views import StudioError
from jaxgen.train import steps
from jaxgen.train.run import build_run

REAL_POINTS = 500     # test points drawn
FAKE_POINTS = 500     # generated points drawn (and given arrows)
GRID = 48             # heatmap resolution (GRID x GRID cells)
MAX_STEPS_PER_CALL = 5_000


def single_seed(config, seed_index: int = 0):
  """``config`` for seed ``config.seed + seed_index`` alone (``num_seeds`` = 1): with the
  trainer's default ``seed_batching='map'`` that seed trains bit-identically in a run of
  several seeds, so a seed of a multi-seed workdir continues here exactly."""
  c = copy.deepcopy(config)
  with c.unlocked():
    c.seed = int(config.seed) + int(seed_index)
    c.num_seeds = 1
    c.progress = False
  return c


class GanLab:
  """One seed of a 2-D GAN, trained ``steps_per_update`` steps per :meth:`step` call.

  ``config``: a GAN config on 2-D points (a workdir's ``config.json`` or a ``configs/``
  file); ``state``: the state to start from (a restored checkpoint of that seed), else the
  run's initial state (step 0). ConfigError before anything compiles if the config is not
  a GAN on 2-D points."""
  kind = "gan2d"

  def __init__(self, config, state=None, seed_index: int = 0, steps_per_update: int = 50,
               log: Callable[[str], None] = print, source: str = ""):
    if int(steps_per_update) < 1:
      raise config_lib.ConfigError(f"steps_per_update={steps_per_update} must be >= 1")
    self.steps_per_update = int(steps_per_update)
    self.log, self.source = log, source
    self._lock = threading.Lock()
    self.config = single_seed(config, seed_index)
    self._build(self.config, state)

  # -------------------------------------------------------------------- building
  def _build(self, config, state) -> None:
    run = build_run(config)
    if run.dataset.kind != "points" or config.model.name != "gan":
      raise config_lib.ConfigError(f"the GAN lab trains a GAN on 2-D points; this config is a "
                                   f"{config.model.name!r} on {run.dataset.name!r}: use "
                                   f"configs/gan_ring.py or configs/gan_grid.py")
    self.run, self.model, self.config = run, run.model, config
    self.state = run.init_state() if state is None else state
    # the trainer's steps, with the epoch permutation carried between the short chunks
    num_train = int(run.dataset.train.shape[0])
    self._chunk = jax.jit(steps.make_carried_chunk(self.model, config, num_train,
                                                   self.steps_per_update), donate_argnums=0)
    self._inputs = (run.train_x, run.keys[0]["train"], run.keys[0]["data"])
    spe = pipeline.steps_per_epoch(num_train, int(config.batch_size))
    self._perm = pipeline.epoch_permutation(run.keys[0]["data"], int(self.state.step) // spe,
                                            num_train)
    info = run.dataset.info
    self.modes, self.std = np.asarray(info["modes"]), float(info["std"])
    test = np.asarray(run.dataset.test)
    self.real = test[np.random.default_rng(0).choice(len(test), REAL_POINTS, replace=False)]
    half = 1.15 * float(np.max(np.abs(test)))
    self.bounds = (-half, half)
    g = np.linspace(-half, half, GRID, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)                  # row i: y = g[i]; column j: x = g[j]
    self.grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    self.key = run.keys[0]["eval"]
    self.num_mode_samples = int(config.eval.num_mode_samples)
    self._view = jax.jit(self._view_fn)
    self.last_losses: dict[str, float] = {}

  def _view_fn(self, state, grid, key):
    model = self.model
    samples = model.generate(state, jax.random.fold_in(key, 3), self.num_mode_samples)
    heat = jax.nn.sigmoid(model.judge_each(state, grid))
    shown = samples[:FAKE_POINTS]

    def g_loss(x):
      return model.generator_loss(model.judge_each(state, x))

    arrows = -jax.grad(g_loss)(shown) * shown.shape[0]
    return samples, heat, arrows

  # -------------------------------------------------------------------- training
  @property
  def step_count(self) -> int:
    return int(self.state.step)

  def step(self, num_steps: Optional[int] = None) -> dict:
    """Trains ``num_steps`` (a multiple of ``steps_per_update``; default one chunk) more
    steps with the trainer's compiled chunk; returns the losses' means over them."""
    n = self.steps_per_update if num_steps is None else num_steps
    try:
      n = int(n)
    except (TypeError, ValueError):
      raise StudioError(f"steps must be an integer, got {num_steps!r}") from None
    if n < 0 or n % self.steps_per_update or n > MAX_STEPS_PER_CALL:
      raise StudioError(f"steps={n} must be a multiple of {self.steps_per_update} (the "
                        f"compiled chunk) between 0 and {MAX_STEPS_PER_CALL}")
    with self._lock:
      sums: dict[str, float] = {}
      for _ in range(n // self.steps_per_update):
        self.state, self._perm, metrics = self._chunk(self.state, self._perm, *self._inputs,
                                                      np.int32(self.step_count))
        for k in ("d_loss", "g_loss"):
          sums[k] = sums.get(k, 0.0) + float(jnp.mean(metrics[k]))
      if n:
        self.last_losses = {k: v / (n // self.steps_per_update) for k, v in sums.items()}
      return dict(self.last_losses)

  def configure(self, generator_loss: Optional[str] = None, minibatch: Optional[str] = None,
                restart: bool = False) -> None:
    """Switches the generator loss (training goes on from the current parameters) or the
    minibatch layer (a new discriminator: back to step 0); ``restart`` starts over."""
    new = copy.deepcopy(self.config)
    with new.unlocked():
      if generator_loss is not None:
        if generator_loss not in GENERATOR_LOSSES:
          raise StudioError(f"generator_loss must be one of {tuple(GENERATOR_LOSSES)}, got "
                            f"{generator_loss!r}")
        new.gan.generator_loss = generator_loss
      if minibatch is not None:
        if minibatch not in MINIBATCH_KINDS:
          raise StudioError(f"minibatch must be one of {MINIBATCH_KINDS}, got {minibatch!r}")
        new.gan.minibatch = minibatch
    fresh = bool(restart) or new.gan.minibatch != self.config.gan.minibatch
    with self._lock:
      state = None if fresh else self.state
      self._build(new, state)

  # -------------------------------------------------------------------- picture
  def view(self) -> dict:
    """What the page draws now (see the module docstring), as NumPy arrays and numbers."""
    with self._lock:
      t0 = time.perf_counter()
      samples, heat, arrows = self._view(self.state, self.grid, self.key)
      samples = np.asarray(samples)
      metrics = mode_metrics(samples, self.modes, self.std)
      return {"step": self.step_count, "real": self.real, "fake": samples[:FAKE_POINTS],
              "heatmap": np.asarray(heat).reshape(GRID, GRID), "arrows": np.asarray(arrows),
              "metrics": metrics, "losses": dict(self.last_losses),
              "bounds": self.bounds, "modes": self.modes,
              "view_seconds": time.perf_counter() - t0}

  def info(self) -> dict:
    c = self.config
    return {"kind": self.kind, "model": c.model.name, "dataset": c.dataset.name,
            "step": self.step_count, "seed": int(c.seed), "source": self.source,
            "steps_per_update": self.steps_per_update,
            "generator_loss": c.gan.generator_loss, "minibatch": c.gan.minibatch,
            "generator_losses": list(GENERATOR_LOSSES), "minibatch_kinds": list(MINIBATCH_KINDS),
            "num_steps": int(c.num_steps), "lr_schedule": c.lr_schedule}

  @classmethod
  def from_workdir(cls, trained: Any, steps_per_update: int = 50,
                   log: Callable[[str], None] = print) -> "GanLab":
    """The lab continuing a loaded run (:func:`jaxgen.load`, one seed) from its checkpoint."""
    state = jax.tree.map(jnp.copy, trained.state)     # the chunk donates its state
    return cls(trained.config, state, trained.seed_index, steps_per_update, log,
               source=trained.workdir)

