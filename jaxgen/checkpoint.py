"""Checkpoints with orbax-checkpoint: keep the last N, restore the latest readable one.

In a multi-process run every process calls :meth:`Checkpointer.save` and
:meth:`Checkpointer.restore` together: orbax writes each array's shards from the processes
that hold them into one checkpoint, and restores into whatever sharding the template has,
so a checkpoint written by P processes restores in a run of any other process count."""
from __future__ import annotations

import os
import shutil
from typing import Any, Optional

import jax
import orbax.checkpoint as ocp

from jaxgen.scale import distributed


class CheckpointError(RuntimeError):
  """No checkpoint in a directory could be read."""


class CheckpointMismatch(CheckpointError):
  """A readable checkpoint holds a training state of another structure or other shapes than
  the one asked for (e.g. the config was changed so that the state gained an EMA copy)."""


class Checkpointer:
  """Saves and restores a state pytree under ``directory/<step>``."""

  def __init__(self, directory: str, max_to_keep: int = 3, log=print, writer: bool = False):
    """``writer=True`` is for the training process, the only writer: it first removes
    orbax temporary directories left by writes that were cut short (e.g. by SIGKILL; they
    never became checkpoints), and :meth:`restore` moves a damaged checkpoint aside (see
    there). Readers keep the default, so they never touch a write in progress."""
    self.directory = os.path.abspath(directory)
    self.log = log
    self.writer = writer
    self.restored_step = None
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                           enable_async_checkpointing=False,
                                           cleanup_tmp_directories=writer)
    self._manager = ocp.CheckpointManager(self.directory, options=options,
                                         item_handlers=ocp.StandardCheckpointHandler())

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
    corrupted files) is reported through ``log`` and skipped for the one before it. It is
    never deleted; a writer moves it aside to ``damaged-<step>[-N]`` in the same folder
    (no longer a checkpoint), so that the training run that redoes those steps saves its
    state under that step again and the latest checkpoint is always a readable one. Raises
    :class:`CheckpointError` if none can be read.
    """
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, template)
    steps = [step] if step is not None else sorted(self._manager.all_steps(), reverse=True)
    problems = []
    for s in steps:
      self._check_layout(s, abstract)
      try:
        restored = self._manager.restore(s, args=ocp.args.StandardRestore(abstract))
        _check_restored(restored, abstract)
      except Exception as e:  # noqa: BLE001 - orbax/tensorstore raise many kinds
        problems.append(f"step {s}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
        aside = self._move_aside(s) if self.writer else None
        self.log(f"checkpoint of step {s} in {self.directory} is damaged and was skipped "
                 f"({problems[-1]})" + (f"; moved to {aside}" if aside else ""))
        continue
      self.restored_step = s
      return restored
    raise CheckpointError(f"no readable checkpoint in {self.directory}: " + "; ".join(problems))

  def _check_layout(self, step: int, abstract: Any) -> None:
    """Raises :class:`CheckpointMismatch` if checkpoint ``step``'s metadata is readable and
    names other arrays, or other shapes, than ``abstract``: such a checkpoint is not
    damaged, the state asked for is a different one, so it is neither skipped nor moved.
    Unreadable metadata is left to the restore (and treated as damage there)."""
    try:
      saved = _leaf_shapes(self._manager.item_metadata(step))
    except Exception:  # noqa: BLE001 - damaged metadata: the restore reports it
      return
    if not saved:
      return
    want = _leaf_shapes(abstract)
    if saved == want:
      return
    only_saved = sorted(set(saved) - set(want))
    only_want = sorted(set(want) - set(saved))
    shapes = sorted(k for k in set(saved) & set(want) if saved[k] != want[k])
    parts = []
    for label, names in (("only in the checkpoint", only_saved), ("only in this run", only_want)):
      if names:
        parts.append(f"{label}: {_some(names)}")
    if shapes:
      parts.append("other shapes: " + _some([f"{k} {saved[k]} -> {want[k]}" for k in shapes]))
    raise CheckpointMismatch(
        f"the checkpoint of step {step} in {self.directory} holds a different training state "
        f"than this configuration builds ({'; '.join(parts)}): resume with the configuration "
        "it was written with, or train in a new --workdir (the checkpoint was left as it is)")

  def _move_aside(self, step: int) -> Optional[str]:
    """Renames the folder of checkpoint ``step`` to ``damaged-<step>`` (``-1``, ``-2``, ...
    if that exists); returns the new name. In a multi-process run process 0 renames it and
    every process then waits for that (None elsewhere)."""
    name, n = f"damaged-{step}", 0
    if distributed.is_writer():
      while os.path.exists(os.path.join(self.directory, name)):
        n += 1
        name = f"damaged-{step}-{n}"
      shutil.move(os.path.join(self.directory, str(step)), os.path.join(self.directory, name))
    distributed.barrier(f"jaxgen-checkpoint-aside-{step}")
    self._manager.reload()
    return name if distributed.is_writer() else None

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def _leaf_shapes(tree: Any) -> dict[str, tuple]:
  """``{'a.b.c': shape}`` for every array leaf (dict keys, attribute names and indices
  alike, so a state object and the checkpoint's metadata dict compare)."""
  out = {}
  for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
    if hasattr(leaf, "shape"):
      out[".".join(_key_name(k) for k in path)] = tuple(leaf.shape)
  return out


def _key_name(key: Any) -> str:
  for attr in ("key", "name", "idx"):
    if hasattr(key, attr):
      return str(getattr(key, attr))
  return str(key)


def _some(names: list[str], limit: int = 4) -> str:
  return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _check_restored(restored: Any, abstract: Any) -> None:
  """Raises if a restored tree does not have the expected structure, shapes and dtypes."""
  got = jax.tree.map(lambda a: (tuple(a.shape), str(a.dtype)), restored)
  want = jax.tree.map(lambda a: (tuple(a.shape), str(a.dtype)), abstract)
  if jax.tree.structure(got) != jax.tree.structure(want) or jax.tree.leaves(got) != jax.tree.leaves(want):
    raise ValueError("restored arrays do not match the model's shapes and dtypes")
