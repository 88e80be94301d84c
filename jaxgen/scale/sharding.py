"""The one sharding annotation model code may use, without knowing any mesh.

The trainer traces its step inside ``jax.set_mesh(mesh)`` (:mod:`jaxgen.scale.mesh`). A
model that draws something per example that is not computed from the batch (a GAN's
noise) marks it with :func:`batch_rows`, so that each device draws and pushes through the
networks only its own rows: without the mark XLA keeps such an array whole on every device
and every device runs the generator on the whole global batch. Outside a mesh, or with one
device on ``data``, it does nothing. The values are the same either way (JAX's random bits
do not depend on how an array is split)."""
from __future__ import annotations

import jax
from jax.sharding import PartitionSpec as P

DATA = "data"


def batch_rows(x):
  """``x`` (an array or pytree, rows first) with its rows split over the ``data`` axis of
  the mesh being traced under; unchanged without one."""
  mesh = jax.sharding.get_abstract_mesh()
  if mesh.empty or DATA not in mesh.axis_names or mesh.shape[DATA] == 1:
    return x
  return jax.lax.with_sharding_constraint(x, P(DATA))
