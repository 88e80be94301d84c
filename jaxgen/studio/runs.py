"""The runs under a folder, side by side: their ``eval.json`` figures and latest sample grids.

:func:`list_runs` finds every workdir (a folder holding ``config.json``) under a root, at
most :data:`MAX_DEPTH` folders down, and reads for each what training wrote — nothing is
loaded or compiled, so a folder of many runs lists in milliseconds. Each row says the
run's state in words: ``finished`` (``eval.json`` of its last step), ``training`` (a
checkpoint but no final evaluation yet, or an evaluation of an earlier step),
``no checkpoint yet`` or ``damaged`` (a file that does not parse, with its name).
"""
from __future__ import annotations

import json
import os
import re
from typing import Optional

MAX_DEPTH = 3
_SAMPLE = re.compile(r"^(?P<name>.+)_(?P<step>\d+)\.png$")


def _read_json(path: str):
  with open(path) as f:
    return json.load(f)


def latest_picture(workdir: str) -> Optional[str]:
  """The newest picture training saved in ``workdir/samples`` (the highest step; among
  pictures of that step, ``samples`` first), or None."""
  folder = os.path.join(workdir, "samples")
  if not os.path.isdir(folder):
    return None
  found = []
  for name in os.listdir(folder):
    m = _SAMPLE.match(name)
    if m:
      found.append((int(m["step"]), m["name"] == "samples", name))
  return os.path.join(folder, max(found)[2]) if found else None


def _checkpoint_steps(workdir: str) -> list[int]:
  folder = os.path.join(workdir, "checkpoints")
  if not os.path.isdir(folder):
    return []
  return sorted(int(n) for n in os.listdir(folder) if n.isdigit())


def run_row(root: str, workdir: str) -> dict:
  """One run's row: ``name`` (path under ``root``), ``model``, ``dataset``, ``num_steps``,
  ``step`` (of the evaluation shown, else the latest checkpoint), ``status``,
  ``message``, ``metrics`` (``eval.json``'s numbers) and ``picture`` (a path or None)."""
  row = {"name": os.path.relpath(workdir, root), "model": None, "dataset": None,
         "num_steps": None, "step": None, "status": "", "message": "", "metrics": {},
         "picture": latest_picture(workdir)}
  try:
    config = _read_json(os.path.join(workdir, "config.json"))
    row["model"] = config.get("model", {}).get("name")
    row["dataset"] = config.get("dataset", {}).get("name")
    row["num_steps"] = config.get("num_steps")
  except (OSError, ValueError, AttributeError) as e:
    row.update(status="damaged", message=f"config.json does not parse ({type(e).__name__})")
    return row
  ckpts = _checkpoint_steps(workdir)
  path = os.path.join(workdir, "eval.json")
  result = None
  if os.path.exists(path):
    try:
      result = _read_json(path)
      if not isinstance(result, dict):
        raise ValueError("not an object")
    except (OSError, ValueError) as e:
      row.update(status="damaged", message=f"eval.json does not parse ({type(e).__name__})")
      return row
  if result is not None:
    row["step"] = result.get("step")
    row["metrics"] = {k: v for k, v in result.items()
                      if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)}
    done = row["step"] is not None and row["step"] == row["num_steps"]
    row["status"] = "finished" if done else "training"
    if not done:
      row["message"] = f"evaluated at step {row['step']} of {row['num_steps']}"
  elif ckpts:
    row.update(step=ckpts[-1], status="training",
               message=f"checkpoint of step {ckpts[-1]}, no final evaluation yet")
  else:
    row.update(status="no checkpoint yet", message="training has not saved a checkpoint")
  return row


def find_workdirs(root: str, max_depth: int = MAX_DEPTH) -> list[str]:
  """Every folder under ``root`` (itself included) holding a ``config.json``, sorted; the
  search does not go into a workdir nor deeper than ``max_depth`` folders."""
  out = []

  def walk(folder: str, depth: int) -> None:
    if os.path.exists(os.path.join(folder, "config.json")):
      out.append(folder)
      return
    if depth >= max_depth:
      return
    try:
      names = sorted(os.listdir(folder))
    except OSError:
      return
    for name in names:
      sub = os.path.join(folder, name)
      if os.path.isdir(sub) and not name.startswith("."):
        walk(sub, depth + 1)

  walk(root, 0)
  return sorted(out)


def list_runs(root: str) -> list[dict]:
  """:func:`run_row` of every workdir under ``root`` (:func:`find_workdirs`)."""
  return [run_row(root, w) for w in find_workdirs(root)]


def metric_columns(rows: list[dict]) -> list[str]:
  """The metric names of ``rows``, those most runs share first, then by name."""
  counts: dict[str, int] = {}
  for r in rows:
    for k in r["metrics"]:
      counts[k] = counts.get(k, 0) + 1
  return sorted(counts, key=lambda k: (-counts[k], k))
