"""Checkpoints with orbax-checkpoint: keep the last N, restore the latest."""
from __future__ import annotations

import os
from typing import Any, Optional

import jax
import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
  """No checkpoint in a directory could be read."""


class Checkpointer:
  """Saves and restores a state pytree under ``directory/<step>``."""

  def __init__(self, directory: str, max_to_keep: int = 3, log=print, cleanup: bool = False):
    """``cleanup=True`` (the training process, the only writer) first removes orbax
    temporary directories left by writes that were cut short (e.g. by SIGKILL): they never
    became checkpoints. Readers keep the default, so they never touch a write in progress."""
    self.directory = os.path.abspath(directory)
    self.log = log
    self.restored_step = None
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                           enable_async_checkpointing=False,
                                           cleanup_tmp_directories=cleanup)
    self._manager = ocp.CheckpointManager(self.directory, options=options)

  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state: Any) -> None:
    """Writes ``state`` as the checkpoint of ``step`` (overwrites nothing)."""
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.StandardSave(state))
    self._manager.wait_until_finished()

  def restore(self, template: Any, step: Optional[int] = None) -> Any:
    """Restores the checkpoint of ``step`` into ``template``'s structure.

    Without ``step``: the latest checkpoint that can be read. A damaged one (truncated or
    corrupted files) is reported through ``log`` and skipped for the one before it; it is
    never deleted. Raises :class:`CheckpointError` if none can be read.
    """
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
    steps = [step] if step is not None else sorted(self._manager.all_steps(), reverse=True)
    problems = []
    for s in steps:
      try:
        restored = self._manager.restore(s, args=ocp.args.StandardRestore(abstract))
        _check_restored(restored, abstract)
      except Exception as e:  # noqa: BLE001 - orbax/tensorstore raise many kinds
        problems.append(f"step {s}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
        self.log(f"checkpoint of step {s} in {self.directory} is damaged and was skipped "
                 f"({problems[-1]})")
        continue
      self.restored_step = s
      return restored
    raise CheckpointError(f"no readable checkpoint in {self.directory}: " + "; ".join(problems))

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def _check_restored(restored: Any, abstract: Any) -> None:
  """Raises if a restored tree does not have the expected structure, shapes and dtypes."""
  got = jax.tree.map(lambda a: (tuple(a.shape), str(a.dtype)), restored)
  want = jax.tree.map(lambda a: (tuple(a.shape), str(a.dtype)), abstract)
  if jax.tree.structure(got) != jax.tree.structure(want) or jax.tree.leaves(got) != jax.tree.leaves(want):
    raise ValueError("restored arrays do not match the model's shapes and dtypes")
