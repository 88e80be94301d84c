"""The API reference pages, one per public module of ``jaxgen``, found by walking the package.

Nothing here is a hand-written list: every ``.py`` file under ``jaxgen/`` whose name (and
whose folders' names) do not start with ``_`` is a public module (a package is its
``__init__.py``), and gets a page ``api/<dotted/path>.md`` holding ``::: jaxgen.x.y``, which
mkdocstrings renders from the docstrings, read statically by griffe (nothing of jaxgen is
imported). ``api/SUMMARY.md`` is the navigation of the reference (mkdocs-literate-nav).

The pages are written at build time by the mkdocs-gen-files plugin (``mkdocs.yml`` runs this
file), so a module that moves or appears is in the reference at the next build. Standalone:

    python -m tools.api_pages            # lists the modules and their pages
    python -m tools.api_pages --out DIR  # writes the pages to DIR (to look at them)
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "jaxgen"


def public_modules(root: Path = ROOT, package: str = PACKAGE) -> list[str]:
  """Dotted names of the public modules and packages under ``root/package``, sorted."""
  names = []
  base = root / package
  for dirpath, dirnames, filenames in os.walk(base):
    dirnames[:] = sorted(d for d in dirnames
                         if not d.startswith(("_", ".")) and (Path(dirpath, d, "__init__.py")).exists())
    rel = Path(dirpath).relative_to(root)
    parts = list(rel.parts)
    for name in sorted(filenames):
      if not name.endswith(".py"):
        continue
      if name == "__init__.py":
        names.append(".".join(parts))
      elif not name.startswith("_"):
        names.append(".".join(parts + [name[:-3]]))
  return sorted(names, key=lambda n: n.split("."))


def is_package(name: str, root: Path = ROOT) -> bool:
  return (root.joinpath(*name.split(".")) / "__init__.py").exists()


def page_path(name: str, root: Path = ROOT) -> str:
  """The page of a module, relative to docs/: packages get an index page of their folder."""
  parts = name.split(".")
  if is_package(name, root):
    return "/".join(["api"] + parts + ["index.md"])
  return "/".join(["api"] + parts) + ".md"


def page_text(name: str, root: Path = ROOT) -> str:
  title = f"`{name}`"
  if is_package(name, root):
    # a package's page: its own docstring and members; its modules have their own pages
    return f"# {title}\n\n::: {name}\n    options:\n      show_submodules: false\n"
  return f"# {title}\n\n::: {name}\n"


def summary_text(names: list[str], root: Path = ROOT) -> str:
  """The literate-nav navigation of the reference: the package tree, nested."""
  lines = ["* [Overview](index.md)"]
  for name in names:
    depth = len(name.split(".")) - 1
    rel = page_path(name, root)[len("api/"):]
    label = name.split(".")[-1] if depth else name
    lines.append("    " * depth + f"* [{label}]({rel})")
  return "\n".join(lines) + "\n"


def summary_line(name: str, root: Path = ROOT) -> str:
  """The first line of a module's docstring, read from its source (nothing is imported)."""
  import ast
  path = root.joinpath(*name.split("."))
  path = path / "__init__.py" if is_package(name, root) else path.with_suffix(".py")
  doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
  first = doc.strip().split("\n\n")[0].replace("\n", " ").strip()
  return first.replace("|", "\\|")


def index_text(names: list[str], root: Path = ROOT) -> str:
  """The reference's overview: every public module with the first paragraph of its docstring."""
  lines = ["# API reference", "",
           "Generated from the docstrings of every public module of `jaxgen` (by",
           "`tools/api_pages.py`, which walks the package at each build). The guides say how the",
           "pieces fit together; these pages say what each function and class does.", "",
           "| module | what |", "| --- | --- |"]
  for name in names:
    rel = page_path(name, root)[len("api/"):]
    lines.append(f"| [`{name}`]({rel}) | {summary_line(name, root)} |")
  return "\n".join(lines) + "\n"


def pages(root: Path = ROOT) -> dict[str, str]:
  """Every generated file of the reference, path under docs/ -> text."""
  names = public_modules(root)
  out = {page_path(n, root): page_text(n, root) for n in names}
  out["api/index.md"] = index_text(names, root)
  out["api/SUMMARY.md"] = summary_text(names, root)
  return out


def _write_with_gen_files() -> None:
  import mkdocs_gen_files  # only inside an mkdocs build
  for path, text in pages().items():
    with mkdocs_gen_files.open(path, "w") as f:
      f.write(text)
  for name in public_modules():
    source = name.replace(".", "/") + ("/__init__.py" if is_package(name) else ".py")
    mkdocs_gen_files.set_edit_path(page_path(name), os.path.join("..", source))


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--out", help="write the pages under this folder")
  args = parser.parse_args(argv)
  generated = pages()
  if args.out:
    for path, text in generated.items():
      target = Path(args.out, path)
      target.parent.mkdir(parents=True, exist_ok=True)
      target.write_text(text)
    print(f"wrote {len(generated)} files under {args.out}")
  else:
    for name in public_modules():
      print(f"{name:40s} docs/{page_path(name)}")


if __name__ == "__main__":
  main()
elif __name__ == "<run_path>":   # run by the mkdocs-gen-files plugin during `mkdocs build`
  _write_with_gen_files()
