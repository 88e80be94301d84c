"""Compare two finished runs bit for bit: every array of the latest checkpoint, eval.json.

    python -m benchmarks.compare_runs WORKDIR_A WORKDIR_B

Prints one line (identical or not, how many arrays differ, the largest difference) and
exits 0 if identical, 1 otherwise. Used by benchmarks/gpu_determinism.sh.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

from benchmarks.kill_resume import final_arrays


def compare(a: str, b: str) -> tuple[bool, str]:
  step_a, arrays_a = final_arrays(a)
  step_b, arrays_b = final_arrays(b)
  if step_a != step_b or len(arrays_a) != len(arrays_b):
    return False, f"different checkpoints: step {step_a} ({len(arrays_a)} arrays) vs {step_b} ({len(arrays_b)})"
  differ = [i for i, (x, y) in enumerate(zip(arrays_a, arrays_b)) if not np.array_equal(x, y)]
  biggest = max((float(np.max(np.abs(arrays_a[i].astype(np.float64) - arrays_b[i])))
                 for i in differ), default=0.0)
  eval_same = (json.load(open(os.path.join(a, "eval.json")))
               == json.load(open(os.path.join(b, "eval.json"))))
  same = not differ and eval_same
  return same, (f"{'IDENTICAL' if same else 'DIFFERENT'}: step {step_a}, {len(arrays_a)} arrays, "
                f"{len(differ)} differ (max |diff| {biggest:.3g}), eval.json "
                f"{'equal' if eval_same else 'differs'}")


if __name__ == "__main__":
  same, line = compare(sys.argv[1], sys.argv[2])
  print(line)
  sys.exit(0 if same else 1)
