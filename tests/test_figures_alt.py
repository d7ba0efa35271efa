"""Every figure a notebook draws carries alt text for a reader who cannot see it.

The text lives with the cell that draws the figure, in the cell's metadata, next to its
caption (myst-nb 1.x puts ``mystnb.image.alt`` on the rendered ``<img>``)::

    {"mystnb": {"figure": {"caption": "...", "name": "fig-04-overlap"},
                "image": {"alt": "Two histograms of the propensity score ..."}}}

Alt text says what is plotted and what to notice, in sentences; it is not the caption
again, not "a plot", not a file name. The browser test checks the built ``<img>`` too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.relative_to(ROOT).as_posix()
                   for folder in ("chapters", "exercises", "solutions")
                   for p in (ROOT / folder).glob("*.ipynb"))
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
PLACEHOLDER = re.compile(r"^(a |an |the )?(plot|figure|image|chart|graph)\.?$|\.(png|svg|jpe?g)$",
                         re.IGNORECASE)
MIN_WORDS = 12


def figure_cells(notebook: Path):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code" and any(
                mime in output.get("data", {}) for output in cell.get("outputs", [])
                for mime in IMAGE_TYPES):
            yield index, cell


def alt_text_problem(cell: dict) -> str | None:
    """Why a figure cell's alt text fails a reader, or None when it does not."""
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    alt = str((mystnb.get("image") or {}).get("alt") or "").strip()
    caption = str((mystnb.get("figure") or {}).get("caption") or "").strip()
    if not alt:
        return "no alt text (metadata mystnb.image.alt)"
    if PLACEHOLDER.search(alt):
        return f"alt text {alt!r} describes nothing"
    if len(alt.split()) < MIN_WORDS:
        return f"alt text {alt!r} is too short to say what is plotted and what to notice"
    if alt == caption:
        return "alt text repeats the caption: say what is drawn, the caption says why"
    return None


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_figure_has_alt_text(notebook):
    problems = [f"cell {index}: {problem}"
                for index, cell in figure_cells(ROOT / notebook)
                if (problem := alt_text_problem(cell))]
    assert not problems, f"{notebook}: {problems}"


def test_the_check_can_fail():
    figure = {"metadata": {"mystnb": {"figure": {"caption": "What to see."}}}}
    assert alt_text_problem(figure) is not None
    figure["metadata"]["mystnb"]["image"] = {"alt": "../_images/e5533040.png"}
    assert "describes nothing" in alt_text_problem(figure)
    figure["metadata"]["mystnb"]["image"] = {"alt": "A plot"}
    assert alt_text_problem(figure) is not None
    figure["metadata"]["mystnb"]["image"] = {"alt": (
        "Two histograms of the propensity score, treated in orange above the axis and "
        "control in teal below it; the control units pile up near zero.")}
    assert alt_text_problem(figure) is None
