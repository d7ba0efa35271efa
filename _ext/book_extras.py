"""Small Sphinx fixes for the book's HTML, loaded through _config.yml's local_extensions.

Four things, each small:

1. **Honest buttons.** The repository, "open an issue" and launch (Binder, Colab) buttons
   are shown only when an adopter has set ``repository: url:`` in ``_config.yml`` (the one
   place, see the README). Until then every one of them would be a dead link, so the book
   shows only what works offline: download (.ipynb, .md), full screen, search.
2. **Accessible navigation.** The theme's collapsible navigation toggles (``<summary>``
   with only an icon inside) get a name a screen reader can say ("Pages of Matching"), and
   sphinxcontrib-bibtex's bibliography, a ``role="list"`` whose entries carry the
   deprecated ``doc-biblioentry`` role, gets ``listitem`` entries (axe-core's
   ``summary-name``, ``aria-required-children`` and ``aria-deprecated-role`` rules).
3. **The student edition.** With ``BOOK_EDITION=student`` in the environment (``make
   book-student``), the solution pages leave the table of contents (so they are not
   built) and every cross-reference to one becomes plain text, not a link.
4. sphinx-thebe 0.3.1 and sphinx-togglebutton under Jupyter Book 1.0 print their inline
   configuration scripts twice on every page (the theme's templates emit them a second
   time), so the browser logs "Identifier 'THEBE_JS_URL' has already been declared". Each
   page keeps the first copy of every identical inline script.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

__all__ = ["repository_configured", "student_toc", "fix_html", "setup"]

# Jupyter Book's own default for repository.url: a book that never set it would point
# every button at Jupyter Book's repository.
UNSET_REPOSITORIES = {"", "https://github.com/executablebooks/jupyter-book"}
LAUNCH_SERVICES = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url")
SOURCE_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")
STUDENT_EDITION = "student"
SOLUTIONS = "solutions/"
# What a reader of the student edition sees where the full book links to a solution page.
NOT_IN_THIS_EDITION = "the edition with solutions"


# ------------------------------------------------------------------------ 1. honest buttons


def repository_configured(theme_options: dict) -> bool:
    """True when the book's repository is set (``repository: url:`` in _config.yml)."""
    url = (theme_options.get("repository_url") or "").strip().rstrip("/")
    return url not in UNSET_REPOSITORIES


def _honest_buttons(app, config) -> None:
    options = config.html_theme_options
    launch = dict(options.get("launch_buttons") or {})
    if repository_configured(options):
        options["use_repository_button"] = True
        options["use_issues_button"] = True  # "open an issue" on this very page
    else:
        options.pop("repository_url", None)
        for button in SOURCE_BUTTONS:
            options[button] = False
        for service in LAUNCH_SERVICES:
            launch.pop(service, None)
        launch["thebe"] = False
    options["launch_buttons"] = launch


# --------------------------------------------------------------------- 3. the student edition


def student_toc(toc: dict) -> dict:
    """The table of contents without any entry whose file lies under ``solutions/``."""

    def keep(entries: list) -> list:
        kept = []
        for entry in entries:
            if str(entry.get("file", "")).startswith(SOLUTIONS):
                continue
            entry = dict(entry)
            for key in ("sections", "chapters", "parts"):
                if key in entry:
                    entry[key] = keep(entry[key])
                    if not entry[key]:
                        del entry[key]
            kept.append(entry)
        return kept

    toc = dict(toc)
    for key in ("parts", "chapters", "sections"):
        if key in toc:
            toc[key] = keep(toc[key])
    return toc


def _is_student_edition() -> bool:
    return os.environ.get("BOOK_EDITION", "").strip().lower() == STUDENT_EDITION


def _student_edition(app, config) -> None:
    if not _is_student_edition():
        return
    import yaml

    source = Path(app.srcdir) / str(config.external_toc_path)
    toc = yaml.safe_load(source.read_text(encoding="utf-8"))
    target = Path(app.doctreedir) / "_toc_student.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(student_toc(toc), sort_keys=False), encoding="utf-8")
    config.external_toc_path = str(target)
    config.exclude_patterns = [*config.exclude_patterns, SOLUTIONS + "**"]


def _unlink_solutions(app, env, node, contnode):
    """In the student edition, a reference to a solution page reads as plain text."""
    if not _is_student_edition():
        return None
    from docutils import nodes
    from sphinx.util import docname_join

    target = node.get("reftarget", "")
    docname = docname_join(node.get("refdoc", ""), target.removesuffix(".ipynb"))
    if not os.path.normpath(docname).replace(os.sep, "/").startswith(SOLUTIONS):
        return None
    return nodes.inline(NOT_IN_THIS_EDITION, NOT_IN_THIS_EDITION)


# ----------------------------------------------------------- 2 and 4. the HTML, after the build

INLINE_SCRIPT = re.compile(r"[ \t]*<script>[^<]*</script>\n")
NAV_TOGGLE = re.compile(r'(<a class="[^"]*" href="[^"]*">(.*?)</a><details[^>]*>)<summary>')
EMPTY_SUMMARY = re.compile(r"<summary>(?=\s*<span class=\"toctree-toggle\")")
TAG = re.compile(r"<[^>]+>")


def _keep_first_copy(text: str) -> str:
    seen: set[str] = set()

    def once(match: re.Match) -> str:
        script = match.group(0).strip()
        if script in seen:
            return ""
        seen.add(script)
        return match.group(0)

    return INLINE_SCRIPT.sub(once, text)


def _name_nav_toggles(text: str) -> str:
    def named(match: re.Match) -> str:
        title = html.unescape(TAG.sub("", match.group(2))).strip()
        label = html.escape(f"Pages of {title}", quote=True)
        return f'{match.group(1)}<summary aria-label="{label}">'

    text = NAV_TOGGLE.sub(named, text)
    # Any toggle left without a name (a layout this pattern does not know) gets a generic one.
    return EMPTY_SUMMARY.sub('<summary aria-label="Show or hide these pages">', text)


def _bibliography_as_list(text: str) -> str:
    return text.replace('role="doc-biblioentry"', 'role="listitem"')


def fix_html(text: str) -> str:
    """Every post-build fix of one page's HTML."""
    return _bibliography_as_list(_name_nav_toggles(_keep_first_copy(text)))


def _fix_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = fix_html(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    # Before sphinx-external-toc reads the table of contents (priority 900) and before the
    # theme reads its options (builder-inited).
    app.connect("config-inited", _honest_buttons, priority=400)
    app.connect("config-inited", _student_edition, priority=400)
    app.connect("missing-reference", _unlink_solutions)
    app.connect("build-finished", _fix_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
