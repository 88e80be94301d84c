"""JSON files written whole: a reader never sees half a file."""
from __future__ import annotations

import json
import os


def write_json(path: str, text_or_obj) -> None:
  """Writes JSON (an object, or text already in JSON) to ``path``, replaced atomically."""
  with open(path + ".tmp", "w") as f:
    if isinstance(text_or_obj, str):
      f.write(text_or_obj)
    else:
      json.dump(text_or_obj, f, indent=2, sort_keys=True)
  os.replace(path + ".tmp", path)
