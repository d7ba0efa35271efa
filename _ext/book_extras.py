"""Small Sphinx fixes for the book's HTML, loaded through _config.yml's local_extensions.

sphinx-thebe 0.3.1 and sphinx-togglebutton under Jupyter Book 1.0 print their inline
configuration scripts twice on every page (the theme's templates emit them a second
time), so the browser logs "Identifier 'THEBE_JS_URL' has already been declared". After
the build, each page keeps the first copy of every identical inline script.
"""

from __future__ import annotations

import re
from pathlib import Path

INLINE_SCRIPT = re.compile(r"[ \t]*<script>[^<]*</script>\n")


def _keep_first_copy(html: str) -> str:
    seen: set[str] = set()

    def once(match: re.Match) -> str:
        script = match.group(0).strip()
        if script in seen:
            return ""
        seen.add(script)
        return match.group(0)

    return INLINE_SCRIPT.sub(once, html)


def _dedupe_inline_scripts(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = _keep_first_copy(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _dedupe_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
