"""The value range of preprocessed data, by preprocessing name (see
:mod:`jaxgen.data.preprocess`): what models map their outputs back from for pictures."""
from __future__ import annotations


def output_range(mode: str) -> tuple[float, float]:
  """The value range of data preprocessed with ``mode``: [-1, 1] for 'symmetric', else
  [0, 1] (for turning model outputs back into pictures)."""
  return (-1.0, 1.0) if mode == "symmetric" else (0.0, 1.0)
