"""Training-state pytrees, and the optimizer settings every model's optimizers follow."""
from __future__ import annotations

import dataclasses
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax

LR_SCHEDULES = ("constant", "cosine", "linear")


@flax.struct.dataclass
class TrainState:
  """What one optimizer trains: parameters, optimizer state, BatchNorm statistics ({}
  where the networks have none) and the count of updates applied.

  Every model updates parameters through :meth:`apply_gradients`: an AE or VAE state is
  one ``TrainState``; a GAN state holds one per player.
  """
  step: jax.Array
  params: Any
  opt_state: Any
  batch_stats: Any = flax.struct.field(default_factory=dict)

  @classmethod
  def create(cls, params, tx: optax.GradientTransformation, batch_stats=None) -> "TrainState":
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params),
               batch_stats={} if batch_stats is None else batch_stats)

  def apply_gradients(self, grads, tx: optax.GradientTransformation, **changes) -> "TrainState":
    """One optimizer update with ``grads``; ``changes`` (e.g. ``batch_stats``) replace fields."""
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    return self.replace(step=self.step + 1, params=optax.apply_updates(self.params, updates),
                        opt_state=opt_state, **changes)


@dataclasses.dataclass(frozen=True)
class Optimization:
  """How a model's optimizers run (the config's top-level ``learning_rate``,
  ``lr_schedule``, ``lr_final_fraction``, ``num_steps`` and ``skip_nonfinite``;
  :func:`jaxgen.models.build` fills it in)."""
  learning_rate: float = 1e-3
  lr_schedule: str = "constant"
  lr_final_fraction: float = 0.0
  num_steps: int = 10_000
  skip_nonfinite: bool = False


def learning_rate(peak: float, optimization: Optimization,
                  updates_per_step: int = 1) -> optax.ScalarOrSchedule:
  """``peak``, or a schedule decaying from it to ``peak * lr_final_fraction`` over
  ``num_steps * updates_per_step`` optimizer updates (``lr_schedule``: 'cosine' or
  'linear'; a GAN's discriminator makes ``gan.d_steps`` updates per step).

  The schedule reads the update count kept in the optimizer state, so a resumed run
  continues it exactly. Changing ``num_steps`` on resume changes the schedule.
  """
  kind = optimization.lr_schedule
  if kind == "constant":
    return peak
  end = peak * float(optimization.lr_final_fraction)
  steps = int(optimization.num_steps) * int(updates_per_step)
  if kind == "cosine":
    return optax.cosine_decay_schedule(peak, steps, alpha=end / peak if peak else 0.0)
  if kind == "linear":
    return optax.linear_schedule(peak, end, steps)
  raise ValueError(f"unknown lr_schedule {kind!r}; use one of {LR_SCHEDULES}")


def guard_nonfinite(tx: optax.GradientTransformation,
                    optimization: Optimization) -> optax.GradientTransformation:
  """With ``skip_nonfinite``, an update whose gradients hold a NaN or Inf is skipped
  (``optax.apply_if_finite``) instead of being applied; the run then goes on."""
  if optimization.skip_nonfinite:
    return optax.apply_if_finite(tx, max_consecutive_errors=1_000_000)
  return tx
