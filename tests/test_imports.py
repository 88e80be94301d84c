"""The import structure of jaxgen: no import circles; arrows point down (the ground floor
imports nothing of jaxgen, the config only the ground floor, evaluation/ neither train/ nor
uses/, train/ no uses/, models/ no data/); no two modules share a file name; and no import
hidden in a function body, except of an optional dependency with its reason beside it.

The graph is read from the source with ``ast``: an edge for every module-level
``import jaxgen.x`` / ``from jaxgen.x import y`` (to ``jaxgen.x.y`` when that is a module,
else to ``jaxgen.x``, i.e. the package's ``__init__``).
"""
import ast
import os
import subprocess
import sys

import pytest

from tools.import_map import GROUND, targets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "jaxgen")


def _modules() -> dict[str, str]:
  out = {}
  for folder, _, files in os.walk(PACKAGE):
    for f in files:
      if f.endswith(".py"):
        rel = os.path.relpath(os.path.join(folder, f), ROOT)[:-3].replace(os.sep, ".")
        out[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = os.path.join(folder, f)
  return out


MODULES = _modules()


def _imports(tree, in_functions: bool):
  """Import nodes executed when the module is imported, and (``in_functions``) those inside
  function bodies too."""
  stack = list(tree.body)
  while stack:
    node = stack.pop()
    if isinstance(node, (ast.Import, ast.ImportFrom)):
      yield node
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not in_functions:
      continue
    else:
      stack.extend(ast.iter_child_nodes(node))


def import_graph(modules=MODULES, in_functions: bool = False) -> dict[str, set[str]]:
  graph = {}
  for name, path in modules.items():
    tree = ast.parse(open(path).read(), path)
    graph[name] = {t for node in _imports(tree, in_functions) for t in targets(node, modules)
                   if t != name}
  return graph


def find_cycle(graph: dict[str, set[str]]):
  """One import circle as a list of modules, or None."""
  state, path = {}, []

  def visit(m):
    state[m] = "open"
    path.append(m)
    for n in sorted(graph.get(m, ())):
      if state.get(n) == "open":
        return path[path.index(n):] + [n]
      if n not in state:
        found = visit(n)
        if found:
          return found
    path.pop()
    state[m] = "done"
    return None

  for m in sorted(graph):
    if m not in state:
      found = visit(m)
      if found:
        return found
  return None


@pytest.mark.parametrize("in_functions", [False, True])
def test_no_import_circle_in_jaxgen(in_functions):
  """Counting module-level imports, and also those inside functions (which hide a circle
  from Python but not from a reader)."""
  graph = import_graph(in_functions=in_functions)
  assert {"jaxgen.train.loop", "jaxgen.models.vae", "jaxgen.data.registry"} <= set(graph)
  assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_planted_circle():
  # the old layout: the registry imported the dataset modules, which imported it back
  graph = {"jaxgen.data.registry": {"jaxgen.data.mixtures"},
           "jaxgen.data.mixtures": {"jaxgen.data.registry"}, "jaxgen.losses": set()}
  cycle = find_cycle(graph)
  assert cycle[0] == cycle[-1] and set(cycle) == {"jaxgen.data.registry", "jaxgen.data.mixtures"}
  assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_registry_and_model_builder_import_no_users():
  graph = import_graph()
  assert not {m for m in graph["jaxgen.data.registry"] if m.startswith("jaxgen.data.")} - {
      "jaxgen.data.dataset"}
  assert graph["jaxgen.models"] <= {"jaxgen.models.interface", "jaxgen.models.state",
                                    "jaxgen.value_range"}


# ----------------------------------------------------------------- arrows point down


def _floor(module: str) -> str:
  return "ground" if module in GROUND else module.split(".")[1] if "." in module else "jaxgen"


def forbidden_edges(graph: dict[str, set[str]]) -> list[str]:
  """The imports (module-level and in functions) the design forbids, as 'a -> b'."""
  rules = {"evaluation": {"train", "uses", "modes"}, "train": {"uses", "modes"},
           "models": {"data"}}
  out = []
  for a, imported in sorted(graph.items()):
    for b in sorted(imported):
      fa, fb = _floor(a), _floor(b)
      if (fa == "ground" or (a == "jaxgen.config" and fb != "ground")
          or fb in rules.get(fa, ())):
        out.append(f"{a} -> {b}")
  return out


def test_the_ground_floor_exists_and_imports_nothing_of_jaxgen():
  graph = import_graph(in_functions=True)
  assert set(GROUND) <= set(graph)
  for m in GROUND:
    assert graph[m] == set(), (m, graph[m])


def test_arrows_point_down():
  """Ground floor -> nothing; config -> the ground floor only; evaluation -> no train/uses;
  train -> no uses; models -> no data (counting imports inside functions too)."""
  assert forbidden_edges(import_graph(in_functions=True)) == []


@pytest.mark.parametrize("a,b", [
    ("jaxgen.batching", "jaxgen.data.pipeline"),            # the ground floor climbs
    ("jaxgen.config", "jaxgen.models"),                     # the config is a hub again
    ("jaxgen.config", "jaxgen.nets.adversarial"),
    ("jaxgen.evaluation.translation", "jaxgen.train.evaluator"),
    ("jaxgen.evaluation.sample_quality", "jaxgen.uses.loading"),
    ("jaxgen.train.run", "jaxgen.uses.density"),
    ("jaxgen.models.codec", "jaxgen.data.preprocess"),
])
def test_a_planted_upward_arrow_is_found(a, b):
  graph = {m: set(t) for m, t in import_graph(in_functions=True).items()}
  graph[a].add(b)
  assert forbidden_edges(graph) == [f"{a} -> {b}"]


def test_config_imports_only_the_ground_floor():
  """The config is a leaf: it names no model, network, loss or dataset module (the choices
  that live there are checked where the run is assembled)."""
  graph = import_graph(in_functions=True)
  assert graph["jaxgen.config"] <= set(GROUND)


# ----------------------------------------------------------------- one name, one module
def same_file_names(modules) -> dict[str, list[str]]:
  """File names (without __init__) used by more than one module."""
  seen = {}
  for name in modules:
    if name != "jaxgen" and os.path.basename(modules[name]) != "__init__.py":
      seen.setdefault(name.split(".")[-1], []).append(name)
  return {k: v for k, v in seen.items() if len(v) > 1}


def test_no_two_modules_share_a_file_name():
  assert same_file_names(MODULES) == {}
  planted = {**MODULES, "jaxgen.uses.detection": MODULES["jaxgen.evaluation.detection"]}
  assert same_file_names(planted) == {"detection": ["jaxgen.evaluation.detection",
                                                    "jaxgen.uses.detection"]}


# ----------------------------------------------------------------- no hidden imports of jaxgen
def function_level_imports_of_jaxgen(path: str) -> list[str]:
  source = open(path).read()
  out = []
  for fn in ast.walk(ast.parse(source, path)):
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
      for node in ast.walk(fn):
        if targets(node, MODULES):
          out.append(f"{os.path.relpath(path, ROOT)}:{node.lineno}")
  return out


def test_no_function_level_import_of_a_jaxgen_module():
  """A lazy import only for an optional dependency: never to dodge a circle in jaxgen."""
  hidden = [h for path in sorted(MODULES.values()) for h in function_level_imports_of_jaxgen(path)]
  assert hidden == []


def test_a_planted_function_level_import_is_found(tmp_path):
  path = tmp_path / "m.py"
  path.write_text("import os\n\ndef f():\n  from jaxgen.train import evaluator  # lazy: x\n"
                  "  import json  # lazy: fine, not jaxgen\n")
  assert [h.split(":")[1] for h in function_level_imports_of_jaxgen(str(path))] == ["4"]


@pytest.mark.parametrize("path", sorted(MODULES.values()) + [os.path.join(ROOT, "train.py")])
def test_function_body_imports_say_why(path):
  """An import inside a function hides a dependency: each one carries a '# lazy: why'."""
  source = open(path).read()
  lines = source.splitlines()
  tree = ast.parse(source, path)
  hidden = []
  for fn in ast.walk(tree):
    if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
      for node in ast.walk(fn):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
          here = lines[node.lineno - 1] + (lines[node.lineno - 2] if node.lineno > 1 else "")
          if "lazy:" not in here:
            hidden.append(f"{os.path.relpath(path, ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
  assert not hidden, "imports in function bodies without a '# lazy: reason':\n" + "\n".join(hidden)


def test_configs_import_without_starting_a_jax_backend():
  """train.py sets XLA_FLAGS after the config file is loaded; that only works while
  importing jaxgen (as every config does) starts no JAX backend."""
  code = ("import sys, glob, importlib, os; sys.path.insert(0, '.')\n"
          "for f in sorted(glob.glob('configs/*.py')):\n"
          "  n = os.path.basename(f)[:-3]\n"
          "  n == '__init__' or importlib.import_module('configs.' + n).get_config()\n"
          "import jaxgen, jaxgen.modes, jaxgen.train, jaxgen.data, jaxgen.models.gan\n"
          "from jax._src import xla_bridge as xb\n"
          "print(len(xb._backends))\n")
  p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                     timeout=120)
  assert p.returncode == 0, p.stderr[-2000:]
  assert p.stdout.strip() == "0"
