"""Shape and dtype checks for arrays handed to jaxgen through the Python API.

Models check their inputs when a function is called or traced (shapes and dtypes are
static, so this costs nothing at run time and happens before XLA compiles anything);
:class:`~jaxgen.data.registry.Dataset` checks its arrays when it is built. A mismatch
raises :class:`InputError` with one line saying what was expected and how to fix it.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np


class InputError(ValueError):
  """An array has the wrong shape or dtype for the model or dataset it was given to."""


def _shape(shape) -> str:
  return "[" + ", ".join(str(s) for s in shape) + "]"


def _is_array(x: Any) -> bool:
  return hasattr(x, "shape") and hasattr(x, "dtype")


def check_batch(x: Any, example_shape: tuple[int, ...], where: str) -> None:
  """Checks that ``x`` is a float batch of shape [N, *example_shape] for ``where``.

  Raises :class:`InputError` naming the problem and the fix: a missing batch axis, a
  flattened or wrongly sized example, an empty batch, or a non-float dtype (raw uint8
  images must be preprocessed, e.g. ``x.astype(np.float32) / 255``).
  """
  want = "[batch, " + ", ".join(str(s) for s in example_shape) + "]"
  if not _is_array(x):
    raise InputError(f"{where}: expected an array of shape {want}, got {type(x).__name__}; "
                     f"pass a NumPy or JAX array (np.asarray(x, np.float32))")
  shape = tuple(x.shape)
  if shape == tuple(example_shape):
    raise InputError(f"{where}: got one example of shape {_shape(shape)}, expected a batch "
                     f"{want}; add a batch axis with x[None]")
  if shape[1:] != tuple(example_shape):
    if len(shape) >= 2 and math.prod(shape[1:]) == math.prod(example_shape):
      fix = f"reshape it with x.reshape(-1, {', '.join(str(s) for s in example_shape)})"
    else:
      fix = "pass data of the shape the model was built for (the dataset's example_shape)"
    raise InputError(f"{where}: expected shape {want}, got {_shape(shape)}; {fix}")
  if shape[0] == 0:
    raise InputError(f"{where}: got an empty batch of shape {_shape(shape)}; pass at least "
                     f"one example")
  dtype = np.dtype(x.dtype) if not hasattr(x.dtype, "name") else x.dtype
  if not np.issubdtype(dtype, np.floating) and str(dtype) != "bfloat16":
    if np.issubdtype(dtype, np.integer):
      fix = ("preprocess it first, e.g. x.astype(np.float32) / 255 for uint8 images, or "
             "jaxgen.data.preprocess.preprocess(x, key, mode)")
    else:
      fix = "convert it with x.astype(np.float32)"
    raise InputError(f"{where}: expected a float array, got dtype {dtype}; {fix}")


def check_split(x: Any, kind: str, name: str, what: str) -> None:
  """Checks one raw dataset split: uint8 [N, H, W, C] images or float [N, dim] points."""
  from jaxgen.data.registry import DataError
  if not isinstance(x, np.ndarray):
    raise DataError(f"dataset {name!r}: {what} must be a NumPy array, got {type(x).__name__}; "
                    f"wrap it with np.asarray")
  if x.shape[0:1] == (0,) or x.ndim == 0:
    raise DataError(f"dataset {name!r}: {what} is empty (shape {_shape(x.shape)}); it needs "
                    f"at least one example")
  if kind == "image":
    if x.ndim == 3:
      raise DataError(f"dataset {name!r}: {what} has shape {_shape(x.shape)}, images must be "
                      f"[N, H, W, C]; add a channel axis with x[..., None]")
    if x.ndim != 4:
      raise DataError(f"dataset {name!r}: {what} has shape {_shape(x.shape)}, images must be "
                      f"[N, H, W, C] (NHWC)")
    if x.dtype != np.uint8:
      raise DataError(f"dataset {name!r}: {what} has dtype {x.dtype}, images must be uint8 in "
                      f"[0, 255]; convert with np.round(x * 255).astype(np.uint8) for data in "
                      f"[0, 1]")
  elif kind == "points":
    if x.ndim != 2:
      raise DataError(f"dataset {name!r}: {what} has shape {_shape(x.shape)}, points must be "
                      f"[N, dim]")
    if not np.issubdtype(x.dtype, np.floating):
      raise DataError(f"dataset {name!r}: {what} has dtype {x.dtype}, points must be float; "
                      f"convert with x.astype(np.float32)")
  else:
    raise DataError(f"dataset {name!r}: kind must be 'image' or 'points', got {kind!r}")
