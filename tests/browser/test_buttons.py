"""Honest buttons, both states: a small book built with the real _config.yml and _ext/.

Unset ``repository.url`` (the default): no repository, issue, Binder or Colab button.
Set it (what the README tells an adopter to do): all four appear, pointing at that
repository. Builds two one-chapter books (a few seconds each), offline.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
CHAPTER = "chapters/00_why_causality"
ADOPTER = "https://github.com/an-adopter/their-course"


def _build(tmp_path: Path, repository: str) -> str:
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    shutil.copy(ROOT / f"{CHAPTER}.ipynb", book / f"{CHAPTER}.ipynb")
    shutil.copytree(ROOT / "_ext", book / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "references.bib", book / "references.bib")
    (book / "index.md").write_text("# A small book\n\nOne chapter.\n", encoding="utf-8")
    (book / "_toc.yml").write_text(yaml.safe_dump(
        {"format": "jb-book", "root": "index", "chapters": [{"file": CHAPTER}]}),
        encoding="utf-8")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["repository"]["url"] = repository
    (book / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    result = subprocess.run([str(JUPYTER_BOOK), "build", str(book), "--builder", "html"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return (book / "_build" / "html" / f"{CHAPTER}.html").read_text(encoding="utf-8")


@pytest.mark.skipif(not JUPYTER_BOOK.exists(), reason="jupyter-book is in requirements.txt")
def test_no_dead_buttons_until_the_repository_is_set_then_all_of_them(tmp_path):
    unset = _build(tmp_path / "unset", "")
    for dead in ("github.com/", "mybinder.org/v2", "colab.research.google.com/github",
                 "/issues/new"):
        assert dead not in unset, f"a {dead} link although no repository is set"
    assert "_sources/chapters/00_why_causality.ipynb" in unset, "no .ipynb download"
    assert "Fullscreen mode" in unset and "Search" in unset

    configured = _build(tmp_path / "set", ADOPTER)
    assert f'href="{ADOPTER}"' in configured, "no repository button"
    assert f"{ADOPTER}/issues/new" in configured, "no 'open an issue' button"
    assert "mybinder.org/v2/gh/an-adopter/their-course/main" in configured, "no Binder button"
    assert ("colab.research.google.com/github/an-adopter/their-course/blob/main/"
            f"{CHAPTER}.ipynb") in configured, "no Colab button"
