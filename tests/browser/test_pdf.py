"""The book as one PDF (``make pdf``; ``make test-pdf`` builds it, then runs this file).

What a reader printing the book or reading it on a tablet needs: every chapter in it, a
table of contents with page numbers, its figures and their captions, and every formula
typeset (MathJax's output, never the TeX source).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "_build" / "pdf" / "causal-inference-in-python.pdf"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

if not PDF.exists():
    pytest.skip("no PDF: run `make pdf` (make test-pdf builds it first)",
                allow_module_level=True)
pypdf = pytest.importorskip("pypdf", reason="pypdf is in requirements.txt")

# What a formula left untypeset looks like in the text (no code cell of the book holds TeX).
RAW_TEX = re.compile(r"\$\$|\\(frac|mathbb|mathrm|mathbf|hat|sum|begin|end|left|right|tau|"
                     r"mid|perp|operatorname|text|cdot|le|ge|in|Pr|E)\b|\\\(|\\\)|\\\[|\\\]")


def _documents() -> list[str]:
    files = [TOC["root"]]
    for part in TOC.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files.extend(s["file"] for s in chapter.get("sections", []))
    return files


def _title(docname: str) -> str:
    """The first heading of a page (notebook or markdown), as the reader sees it."""
    path = ROOT / f"{docname}.ipynb"
    if path.exists():
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = (ROOT / f"{docname}.md").read_text(encoding="utf-8")
    heading = re.search(r"^# (.+)$", text, re.MULTILINE)
    assert heading, f"{docname} has no title"
    title = re.sub(r"[*_`]", "", heading.group(1))
    return title.strip()


def _flat(text: str) -> str:
    text = text.replace("\ufb00", "ff").replace("\ufb01", "fi").replace("\ufb02", "fl")
    text = text.replace("\ufb03", "ffi").replace("\ufb04", "ffl").replace("\u2019", "'")
    return re.sub(r"\s+", " ", text)


def _key(text: str) -> str:
    """Text with no white space at all: a heading wrapped over two lines (or a bookmark
    made from one, which loses the line break) still matches its title."""
    return re.sub(r"\s+", "", _flat(text))


@pytest.fixture(scope="module")
def reader():
    return pypdf.PdfReader(str(PDF))


@pytest.fixture(scope="module")
def pages(reader) -> list[str]:
    return [_flat(page.extract_text() or "") for page in reader.pages]


def test_page_count_is_that_of_a_book(reader):
    n = len(reader.pages)
    n_documents = len(_documents())
    # At least a few pages per chapter; not a page per paragraph (a broken print style).
    assert 3 * n_documents <= n <= 25 * n_documents, f"{n} pages for {n_documents} documents"
    assert PDF.stat().st_size < 60e6, f"{PDF.stat().st_size / 1e6:.0f} MB is too big to mail"


@pytest.mark.parametrize("docname", _documents())
def test_every_chapter_title_is_in_the_pdf(pages, docname):
    title = _title(docname)
    assert _key(title) in _key(" ".join(pages)), f"{title!r} ({docname}) is not in the PDF"


def test_the_contents_list_every_chapter_with_its_page(pages):
    contents = " ".join(pages[:6])
    assert "Contents" in contents
    for docname in _documents()[1:]:
        title = _title(docname)
        spaced = r"\s*".join(map(re.escape, _key(title)))  # wrapped anywhere
        entry = re.search(spaced + r"\s+(\d+)\b", contents)
        assert entry, f"no numbered entry for {title!r} in the contents"
        page = int(entry.group(1))
        assert _key(title) in _key(pages[page - 1]), (
            f"the contents say {title!r} starts on page {page}, but it is not there")


def _titles(outline) -> list[str]:
    titles = []
    for item in outline:
        titles.extend(_titles(item) if isinstance(item, list) else [item.title])
    return titles


def test_the_pdf_has_bookmarks_to_every_chapter(reader):
    bookmarks = {_key(t) for t in _titles(reader.outline)}
    missing = [_title(d) for d in _documents() if _key(_title(d)) not in bookmarks]
    assert not missing, f"no bookmark for {missing[:5]} ({len(bookmarks)} bookmarks)"


def test_no_formula_is_left_as_tex(pages):
    raw = [(i + 1, m.group(0)) for i, text in enumerate(pages) for m in RAW_TEX.finditer(text)]
    assert not raw, f"TeX source in the PDF's text (page, match): {raw[:10]}"


def test_figures_and_their_captions_are_in_it(reader, pages):
    n_captions = sum(len(re.findall(r"\bFig\. \d+ ", text)) for text in pages)
    n_images = sum(len(page.images) for page in reader.pages)
    n_figures = 0
    for docname in _documents():
        path = ROOT / f"{docname}.ipynb"
        if path.exists():
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            n_figures += sum(1 for c in cells for o in c.get("outputs", [])
                             if "image/png" in o.get("data", {}))
    assert n_images >= n_figures, f"{n_images} images in the PDF, {n_figures} in the notebooks"
    assert n_captions >= 0.9 * n_figures, f"{n_captions} captions for {n_figures} figures"
