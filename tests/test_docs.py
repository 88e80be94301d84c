"""The user's guide and the documentation site: the README's size and links, the API
reference's coverage of the package (its committed pages up to date with jaxgen/), the
results record up to date with results/.

Fast and static: nothing of jaxgen is imported and no site is built (CI builds it with
``mkdocs build --strict``)."""
import re
from pathlib import Path

from tools import api_pages, results_record

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_is_a_front_page():
  assert len(README.read_text(encoding="utf-8").splitlines()) <= 300


def test_readme_relative_links_resolve():
  missing = []
  for target in LINK.findall(README.read_text(encoding="utf-8")):
    if re.match(r"[a-z]+:", target) or target.startswith("#"):
      continue
    path = target.split("#", 1)[0]
    if not (ROOT / path).exists():
      missing.append(target)
  assert not missing, f"README.md links to files that do not exist: {missing}"


def test_every_public_module_has_an_api_page():
  pages = api_pages.pages()
  modules = api_pages.public_modules()
  on_disk = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "jaxgen").rglob("*.py")
             if not any(part.startswith("_") for part in p.relative_to(ROOT / "jaxgen").parts[:-1])}
  on_disk = {m[:-len(".__init__")] if m.endswith(".__init__") else m for m in on_disk
             if not m.split(".")[-1].startswith("_") or m.endswith("__init__")}
  assert set(modules) == on_disk
  for name in modules:
    assert f"::: {name}\n" in pages[api_pages.page_path(name)]
    assert api_pages.page_path(name)[len("api/"):] in pages["api/SUMMARY.md"]


def test_api_pages_are_up_to_date_with_the_package():
  assert api_pages.check() == 0, "run: python -m tools.api_pages"


def test_readme_links_every_model_and_use_to_its_guide_and_api_page():
  """One click from the README to the guide and to the API entry of each model and use."""
  text = README.read_text(encoding="utf-8")
  for module in ["models/ae", "models/vae", "models/cvae", "models/pix2pix", "models/gan",
                 "uses/density", "uses/anomaly", "uses/explore", "uses/judge", "scale/index", "config"]:
    assert f"(docs/api/jaxgen/{module}.md)" in text, module
  for guide in ["autoencoder", "vae", "gan", "conditional", "density", "anomaly", "explore", "judging",
                "scale", "driver"]:
    assert f"(docs/guide/{guide}.md)" in text, guide
  assert "(docs/api/index.md)" in text


def test_results_record_is_up_to_date_with_results():
  assert results_record.check() == 0, "run: python -m tools.results_record"


def test_guides_keep_no_dates():
  """Dated provenance belongs in the results record (docs/results/src/), not in the guides."""
  date = re.compile(r"\b20\d\d-\d\d(-\d\d)?\b")
  dated = [f"{p.name}:{i}" for p in sorted((ROOT / "docs" / "guide").glob("*.md"))
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if date.search(line)]
  assert not dated, f"dates in the guides (move them to the results record): {dated}"


def test_results_navigation_lists_the_pages_not_the_templates():
  nav = results_record.summary_text()
  assert "src/" not in nav
  assert set(re.findall(r"\(([^)]+\.md)\)", nav)) == {p.name for p in results_record.TEMPLATES.glob("*.md")}
