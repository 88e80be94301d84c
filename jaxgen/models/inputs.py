"""Shape and dtype checks for arrays handed to a model through the Python API.

Models check their inputs when a function is called or traced (shapes and dtypes are
static, so this costs nothing at run time and happens before XLA compiles anything). A
mismatch raises :class:`InputError` with one line saying what was expected and how to fix
it. (Datasets check their arrays when built: :class:`jaxgen.data.dataset.Dataset`.)
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
