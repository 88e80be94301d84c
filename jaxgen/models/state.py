"""Training-state pytrees."""
from __future__ import annotations

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


def learning_rate(peak: float, config, updates_per_step: int = 1) -> optax.ScalarOrSchedule:
  """``peak``, or a schedule decaying from it to ``peak * config.lr_final_fraction`` over
  ``config.num_steps * updates_per_step`` optimizer updates (``config.lr_schedule``:
  'cosine' or 'linear'; a GAN's discriminator makes ``gan.d_steps`` updates per step).

  The schedule reads the update count kept in the optimizer state, so a resumed run
  continues it exactly. Changing ``num_steps`` on resume changes the schedule.
  """
  kind = config.get("lr_schedule", "constant")
  if kind == "constant":
    return peak
  end = peak * float(config.get("lr_final_fraction", 0.0))
  steps = int(config.num_steps) * int(updates_per_step)
  if kind == "cosine":
    return optax.cosine_decay_schedule(peak, steps, alpha=end / peak if peak else 0.0)
  if kind == "linear":
    return optax.linear_schedule(peak, end, steps)
  raise ValueError(f"unknown lr_schedule {kind!r}; use one of {LR_SCHEDULES}")


def guard_nonfinite(tx: optax.GradientTransformation, config) -> optax.GradientTransformation:
  """With ``config.skip_nonfinite``, an update whose gradients hold a NaN or Inf is skipped
  (``optax.apply_if_finite``) instead of being applied; the run then goes on."""
  if config.get("skip_nonfinite", False):
    return optax.apply_if_finite(tx, max_consecutive_errors=1_000_000)
  return tx
