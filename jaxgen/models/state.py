"""Training-state pytrees."""
from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax


@flax.struct.dataclass
class TrainState:
  """Parameters, optimizer state and step counter of one network (or one network pair)."""
  step: jax.Array
  params: Any
  opt_state: Any

  @classmethod
  def create(cls, params, tx: optax.GradientTransformation) -> "TrainState":
    return cls(step=jnp.zeros((), jnp.int32), params=params, opt_state=tx.init(params))

  def apply_gradients(self, grads, tx: optax.GradientTransformation) -> "TrainState":
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    return self.replace(step=self.step + 1, params=optax.apply_updates(self.params, updates),
                        opt_state=opt_state)


def guard_nonfinite(tx: optax.GradientTransformation, config) -> optax.GradientTransformation:
  """With ``config.skip_nonfinite``, an update whose gradients hold a NaN or Inf is skipped
  (``optax.apply_if_finite``) instead of being applied; the run then goes on."""
  if config.get("skip_nonfinite", False):
    return optax.apply_if_finite(tx, max_consecutive_errors=1_000_000)
  return tx
