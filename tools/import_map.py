"""The shape of jaxgen's code, read from its source with ``ast`` (nothing is imported).

    python -m tools.import_map [ROOT]        # ROOT: a checkout (default: this one)

Prints

* the floor-to-floor import edges (module-level imports; a floor is a package of jaxgen,
  or a top-level module), with the edges the design forbids marked ``FORBIDDEN``:
  ``evaluation`` -> ``train``/``uses``, ``train`` -> ``uses``, ``models`` -> ``data``,
  ``config`` -> anything of jaxgen but the ground floor, the ground floor -> anything of
  jaxgen;
* the function-level imports (all, and those of jaxgen's own modules), each listed;
* following ``config``: the functions that receive the whole config (a parameter named
  ``config``/``cfg`` from which they read a top-level key or group, or which they hand on
  to such a function), per floor; the calls that pass the whole config (``config``,
  ``cfg`` or ``<x>.config``) from one floor into a function of another, and those into
  ``models``/``nets``/``data``/``evaluation``; and the walk from
  ``jaxgen.train.loop.train`` along those calls (steps, files, steps that climb to a
  higher floor, steps into a module that itself imports upward).

A call is resolved through the module's imports (``from jaxgen.x import f``, ``x.f`` for
an imported module ``x``, ``self.f`` within a class); calls it cannot resolve (methods
of objects) are not counted, so the config figures are lower bounds.
"""
from __future__ import annotations

import ast
import collections
import os
import sys

GROUND = ("jaxgen.batching", "jaxgen.compilation_cache", "jaxgen.json_output", "jaxgen.value_range")
# floors, lowest first (a module's floor: its package, or itself at the top level)
FLOOR_ORDER = ("ground", "distributions", "losses", "config", "scale", "distributed",
               "sharding", "launch", "layers", "checkpoint", "data", "nets", "models",
               "evaluation", "plotting", "train", "uses", "modes", "studio", "jaxgen")
FORBIDDEN = {("evaluation", "train"), ("evaluation", "uses"), ("train", "uses"),
             ("models", "data")}
TOP_KEYS = {"dataset", "model", "gan", "pix2pix", "eval", "mesh", "seed", "num_steps",
            "batch_size", "learning_rate", "lr_schedule", "lr_final_fraction", "log_every",
            "eval_every", "checkpoint_every", "keep_checkpoints", "progress",
            "skip_nonfinite", "deterministic", "num_seeds", "seed_batching"}
LOW_FLOORS = ("models", "nets", "data", "evaluation")


def modules(root: str) -> dict[str, str]:
  out = {}
  for folder, _, files in os.walk(os.path.join(root, "jaxgen")):
    for f in files:
      if f.endswith(".py"):
        rel = os.path.relpath(os.path.join(folder, f), root)[:-3].replace(os.sep, ".")
        out[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = os.path.join(folder, f)
  return out


def floor(module: str) -> str:
  if module in GROUND:
    return "ground"
  parts = module.split(".")
  return parts[1] if len(parts) > 1 else "jaxgen"


def rank(module: str) -> int:
  f = floor(module)
  return FLOOR_ORDER.index(f) if f in FLOOR_ORDER else len(FLOOR_ORDER)


def targets(node, mods) -> list[str]:
  """The jaxgen modules an import node names (``from jaxgen.x import y``: ``jaxgen.x.y``
  where that is a module, else ``jaxgen.x``)."""
  if isinstance(node, ast.Import):
    return [a.name for a in node.names if a.name.split(".")[0] == "jaxgen"]
  if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "jaxgen":
    return [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
            for a in node.names]
  return []


def _module_level_imports(tree):
  stack = list(tree.body)
  while stack:
    node = stack.pop()
    if isinstance(node, (ast.Import, ast.ImportFrom)):
      yield node
    elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
      stack.extend(ast.iter_child_nodes(node))


def _function_level_imports(tree):
  for fn in ast.walk(tree):
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
      for node in fn.body:
        for sub in ast.walk(node):
          if isinstance(sub, (ast.Import, ast.ImportFrom)):
            yield sub


def _names(tree, mods, module) -> dict[str, str]:
  """Local name -> the jaxgen module or 'module.function/class' it refers to."""
  names = {}
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for a in node.names:
        if a.name.startswith("jaxgen"):
          names[a.asname or a.name.split(".")[0]] = a.name if a.asname else "jaxgen"
    elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jaxgen"):
      for a in node.names:
        full = f"{node.module}.{a.name}"
        names[a.asname or a.name] = full
  return names


class _Functions(ast.NodeVisitor):
  """Every top-level function and method: qualified name -> (node, class name)."""

  def __init__(self, module):
    self.module, self.out, self.cls = module, {}, None

  def visit_ClassDef(self, node):
    outer, self.cls = self.cls, node.name
    for child in node.body:
      if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
        self.out[f"{self.module}.{node.name}.{child.name}"] = (child, node.name)
    self.cls = outer

  def visit_FunctionDef(self, node):
    self.out[f"{self.module}.{node.name}"] = (node, None)

  visit_AsyncFunctionDef = visit_FunctionDef


def _whole_config(expr, params) -> bool:
  if isinstance(expr, ast.Name):
    return expr.id in params
  return isinstance(expr, ast.Attribute) and expr.attr == "config" and isinstance(
      expr.value, ast.Name)


def _config_params(fn) -> set[str]:
  args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs
  return {a.arg for a in args if a.arg in ("config", "cfg") and (
      a.annotation is None or "ConfigDict" in ast.unparse(a.annotation))}


def _reads_top_key(fn, params) -> bool:
  for node in ast.walk(fn):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
        node.value.id in params and node.attr in TOP_KEYS:
      return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr == "get" and isinstance(node.func.value, ast.Name) and \
        node.func.value.id in params and node.args and isinstance(node.args[0], ast.Constant) \
        and node.args[0].value in TOP_KEYS:
      return True
  return False


def analyse(root: str) -> dict:
  mods = modules(root)
  edges = collections.Counter()
  module_edges = set()
  lazy, lazy_own = [], []
  functions, calls = {}, []          # calls: (caller, callee, whole-config argument?)
  for name, path in sorted(mods.items()):
    src = open(path).read()
    tree = ast.parse(src, path)
    for node in _module_level_imports(tree):
      for t in targets(node, mods):
        if t != name:
          module_edges.add((name, t))
          if floor(name) != floor(t):
            edges[(floor(name), floor(t))] += 1
    for node in _function_level_imports(tree):
      line = f"{os.path.relpath(path, root)}:{node.lineno}: {ast.unparse(node)}"
      lazy.append(line)
      if targets(node, mods):
        lazy_own.append(line)
    names = _names(tree, mods, name)
    visitor = _Functions(name)
    for node in tree.body:
      visitor.visit(node)
    for qual, (fn, cls) in visitor.out.items():
      params = _config_params(fn)
      functions[qual] = {"params": params, "reads": _reads_top_key(fn, params), "file": path}
      for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
          continue
        callee = None
        f = node.func
        if isinstance(f, ast.Name) and f.id in names:
          callee = names[f.id]
        elif isinstance(f, ast.Name) and f"{name}.{f.id}" in visitor.out:
          callee = f"{name}.{f.id}"
        elif isinstance(f, ast.Name) and any(k.startswith(f"{name}.{f.id}.") for k in visitor.out):
          callee = f"{name}.{f.id}.__init__"
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
          base = f.value.id
          if base in names:
            callee = f"{names[base]}.{f.attr}"
          elif base == "self" and cls and f"{name}.{cls}.{f.attr}" in visitor.out:
            callee = f"{name}.{cls}.{f.attr}"
        if callee is None:
          continue
        whole = any(_whole_config(a, params) for a in node.args) or any(
            _whole_config(k.value, params) for k in node.keywords)
        calls.append((qual, callee, whole))
  # a callee that names a class: its __init__; a module attribute chain: as written
  def resolve(callee):
    if callee in functions:
      return callee
    if f"{callee}.__init__" in functions:
      return f"{callee}.__init__"
    return None

  resolved = [(a, resolve(b), w) for a, b, w in calls]
  resolved = [(a, b, w) for a, b, w in resolved if b is not None]
  receives = {q for q, f in functions.items() if f["params"] and f["reads"]}
  changed = True
  while changed:               # hands the whole config on to a function that receives it
    changed = False
    for a, b, w in resolved:
      if w and b in receives and a not in receives and functions[a]["params"]:
        receives.add(a)
        changed = True
  passes = [(a, b) for a, b, w in resolved if w and b in receives]
  per_floor = collections.Counter(floor(_mod(q, mods)) for q in receives)
  cross = [(a, b) for a, b in passes if floor(_mod(a, mods)) != floor(_mod(b, mods))]
  down = [(a, b) for a, b in cross if floor(_mod(b, mods)) in LOW_FLOORS]
  # the walk from the trainer
  start = "jaxgen.train.loop.train"
  seen, frontier, steps, climbs = {start}, [start], [], []
  while frontier:
    nxt = []
    for a in frontier:
      for x, b in passes:
        if x == a:
          steps.append((a, b))
          if rank(_mod(b, mods)) > rank(_mod(a, mods)):
            climbs.append((a, b))
          if b not in seen:
            seen.add(b)
            nxt.append(b)
    frontier = nxt
  forbidden = sorted(e for e in edges if e in FORBIDDEN or (e[0] == "config" and e[1] != "ground")
                     or e[0] == "ground")
  upward = {a for a, b in module_edges if (floor(a), floor(b)) in forbidden}
  into_upward = [(a, b) for a, b in steps if _mod(b, mods) in upward]
  return {"edges": edges, "forbidden": forbidden, "module_edges": module_edges,
          "lazy": lazy, "lazy_own": lazy_own, "receives": receives, "per_floor": per_floor,
          "passes": passes, "cross": cross, "down": down, "walk_steps": steps,
          "walk_files": {functions[q]["file"] for q in seen}, "walk_climbs": climbs,
          "upward_modules": upward, "walk_into_upward": into_upward}


def _mod(qual: str, mods) -> str:
  parts = qual.split(".")
  for i in range(len(parts), 0, -1):
    if ".".join(parts[:i]) in mods:
      return ".".join(parts[:i])
  return qual


def main(argv=None) -> int:
  argv = sys.argv[1:] if argv is None else argv
  root = os.path.abspath(argv[0] if argv else os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  r = analyse(root)
  print(f"# {root}\n\n## floor-to-floor imports (module level; count of module pairs)")
  for (a, b), n in sorted(r["edges"].items(), key=lambda e: (rank("jaxgen." + e[0][0]), e[0])):
    mark = "   FORBIDDEN" if (a, b) in r["forbidden"] else ""
    print(f"  {a:>12} -> {b:<12} {n}{mark}")
  print(f"\nforbidden floor edges: {len(r['forbidden'])} "
        f"{', '.join(f'{a}->{b}' for a, b in r['forbidden'])}")
  print(f"\n## function-level imports: {len(r['lazy'])}, of jaxgen's own modules: "
        f"{len(r['lazy_own'])}")
  for line in r["lazy"]:
    print(f"  {'*' if line in r['lazy_own'] else ' '} {line}")
  print(f"\n## following config\nfunctions receiving the whole config: {len(r['receives'])} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(r['per_floor'].items()))})")
  for q in sorted(r["receives"]):
    print(f"    {q}")
  print(f"calls passing the whole config: {len(r['passes'])}; across floors: {len(r['cross'])}; "
        f"into models/nets/data/evaluation from another floor: {len(r['down'])}")
  for a, b in r["down"]:
    print(f"    {a} -> {b}")
  print(f"from jaxgen.train.loop.train: {len(r['walk_steps'])} steps through "
        f"{len(r['walk_files'])} files, {len(r['walk_climbs'])} climbing to a higher floor")
  for a, b in r["walk_climbs"]:
    print(f"    climbs: {a} -> {b}")
  print(f"  steps into a module with a forbidden (upward) import: {len(r['walk_into_upward'])} "
        f"({', '.join(sorted(r['upward_modules'])) or 'no such module'})")
  return 0


if __name__ == "__main__":
  sys.exit(main())
