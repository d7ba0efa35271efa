"""Print the one-page book (``make book-single``) to one PDF, offline: ``make pdf``.

    python _ext/book_pdf.py _build/singlehtml _build/pdf/causal-inference-in-python.pdf

Headless Chromium (Debian's ``chromium``, driven by playwright, nothing downloaded) opens
the single-page HTML from a local server with every other request refused, waits until
MathJax has typeset every formula and the images have loaded, adds a title page and a
table of contents built from ``_toc.yml`` (parts, chapters, exercises, solutions), then
prints. It prints twice: the first print tells on which page each entry starts (from the
PDF's named destinations), the second puts those page numbers into the contents. The PDF
is tagged and carries an outline (bookmarks), so a reader on a tablet can jump around.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import yaml

__all__ = ["toc_entries", "print_book"]

ROOT = Path(__file__).resolve().parents[1]

PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html, body { background: white !important; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .headerlink, .copybtn,
.search-button-field, #pst-back-to-top, .skip-link, .bd-header-announcement,
.sidebar-toggle, .theme-switch-button, #jb-print-docs-body { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width, .bd-container,
.bd-container__inner { max-width: none !important; width: auto !important;
  margin: 0 !important; padding: 0 !important; display: block !important; }
body { font-size: 10.5pt; }
span[id^="document-"] + section { break-before: page; }
h1, h2, h3, h4 { break-after: avoid; }
figure, img, .cell_output img, table, mjx-container[display="true"] { break-inside: avoid; }
img { max-width: 100% !important; height: auto !important; }
pre { white-space: pre-wrap !important; word-break: break-word; }
.cell_output, .output, div.highlight, .output_area { overflow: visible !important;
  max-height: none !important; }
a { color: inherit !important; text-decoration: none !important; }
#pdf-title { break-after: page; text-align: center; padding-top: 35%; }
#pdf-title h1 { font-size: 28pt; border: none; display: block !important; }
#pdf-title p { font-size: 13pt; }
#pdf-toc { break-after: page; }
#pdf-toc h1 { font-size: 20pt; display: block !important; }
#pdf-toc ol { list-style: none; padding-left: 0; margin: 0; }
#pdf-toc ol ol { padding-left: 1.6em; }
#pdf-toc li { margin: 0.15em 0; }
#pdf-toc .part { font-weight: bold; margin-top: 0.8em; break-after: avoid; }
#pdf-toc a { display: flex; gap: 0.4em; }
#pdf-toc .dots { flex: 1; border-bottom: 1px dotted #777; margin-bottom: 0.3em; }
#pdf-toc .page { min-width: 2em; text-align: right; }
"""

# Runs in the page: title page and contents at the top of the article; every <details>
# opened so that nothing folded away is lost on paper.
PREPARE_JS = """
([title, author, parts]) => {
  const article = document.querySelector('article.bd-article');
  document.querySelectorAll('details').forEach(d => d.open = true);
  const titlePage = document.createElement('section');
  titlePage.id = 'pdf-title';
  titlePage.innerHTML = '<h1></h1><p></p>';
  titlePage.querySelector('h1').textContent = title;
  titlePage.querySelector('p').textContent = author;
  const toc = document.createElement('nav');
  toc.id = 'pdf-toc';
  toc.setAttribute('aria-label', 'Contents');
  toc.innerHTML = '<h1>Contents</h1>';
  const missing = [];
  const top = document.createElement('ol');
  const entry = (docname) => {
    const anchor = document.getElementById('document-' + docname);
    const section = anchor && anchor.nextElementSibling;
    const heading = section && section.querySelector('h1, h2, h3');
    if (!heading) { missing.push(docname); return null; }
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = '#' + section.id;
    const text = document.createElement('span');
    text.textContent = heading.textContent.replace(/#$/, '').trim();
    const dots = document.createElement('span'); dots.className = 'dots';
    const page = document.createElement('span'); page.className = 'page';
    page.dataset.target = section.id;
    a.append(text, dots, page);
    li.append(a);
    return li;
  };
  for (const [caption, chapters] of parts) {
    const partItem = document.createElement('li');
    const label = document.createElement('div');
    label.className = 'part'; label.textContent = caption;
    const list = document.createElement('ol');
    for (const [doc, sections] of chapters) {
      const li = entry(doc);
      if (!li) continue;
      if (sections.length) {
        const sub = document.createElement('ol');
        for (const s of sections) { const l = entry(s); if (l) sub.append(l); }
        li.append(sub);
      }
      list.append(li);
    }
    partItem.append(label, list);
    top.append(partItem);
  }
  toc.append(top);
  article.prepend(titlePage, toc);
  return missing;
}
"""

NUMBER_JS = """
(pages) => {
  let unnumbered = 0;
  document.querySelectorAll('#pdf-toc .page').forEach(span => {
    const page = pages[span.dataset.target];
    if (page) span.textContent = String(page); else unnumbered += 1;
  });
  return unnumbered;
}
"""

WAIT_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
  await Promise.all(Array.from(document.images).filter(i => !i.complete).map(
    i => new Promise(resolve => { i.onload = i.onerror = resolve; })));
  return document.querySelectorAll('.math').length -
         document.querySelectorAll('mjx-container').length;
}
"""

FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span></div>')


def toc_entries(toc_path: Path) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """The parts of ``_toc.yml``: (caption, [(chapter docname, [section docnames])])."""
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", []):
        chapters = [(c["file"], [s["file"] for s in c.get("sections", [])])
                    for c in part.get("chapters", [])]
        parts.append((part.get("caption", ""), chapters))
    return parts


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _page_of_destinations(pdf: bytes) -> dict[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    pages = {}
    for name, destination in reader.named_destinations.items():
        try:
            pages[str(name).removeprefix("/")] = reader.get_destination_page_number(destination) + 1
        except Exception:  # a destination without a page: leave it unnumbered
            continue
    return pages


def print_book(site: Path, output: Path, *, chromium: str, title: str, author: str,
               toc_path: Path) -> dict:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    refused: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith(base):
            request_route.continue_()
        else:  # offline: nothing leaves the machine
            refused.append(request_route.request.url)
            request_route.abort()

    options = dict(format="A4", print_background=True, prefer_css_page_size=True,
                   display_header_footer=True, header_template="<div></div>",
                   footer_template=FOOTER, tagged=True, outline=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update"])
            page = browser.new_page()
            page.route("**/*", route)
            page.emulate_media(media="print")
            page.goto(base + "index.html", wait_until="load", timeout=300_000)
            page.set_default_timeout(300_000)
            untypeset = page.evaluate(WAIT_JS)
            if untypeset > 0:
                raise SystemExit(f"{untypeset} formulas were not typeset by MathJax")
            page.add_style_tag(content=PRINT_CSS)
            missing = page.evaluate(PREPARE_JS, [title, author, toc_entries(toc_path)])
            if missing:
                raise SystemExit(f"pages of _toc.yml missing from the one-page book: {missing}")
            first = page.pdf(**options)
            unnumbered = page.evaluate(NUMBER_JS, _page_of_destinations(first))
            if unnumbered:
                raise SystemExit(f"{unnumbered} contents entries have no page number")
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_bytes(page.pdf(**options))
            browser.close()
    finally:
        httpd.shutdown()
    return {"refused": refused}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the singlehtml build (has index.html)")
    parser.add_argument("output", type=Path, help="the PDF to write")
    args = parser.parse_args(argv)
    chromium = (os.environ.get("LESSONS_CHROMIUM") or shutil.which("chromium")
                or shutil.which("chromium-browser"))
    if chromium is None:
        print("Chromium not found: install Debian's `chromium` package", file=sys.stderr)
        return 2
    if not (args.site / "index.html").exists():
        print(f"no {args.site}/index.html: run `make book-single` first", file=sys.stderr)
        return 2
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    start = time.perf_counter()
    result = print_book(args.site, args.output, chromium=chromium, title=config["title"],
                        author=config.get("author", ""), toc_path=ROOT / "_toc.yml")
    seconds = time.perf_counter() - start
    from pypdf import PdfReader

    n_pages = len(PdfReader(str(args.output)).pages)
    size = args.output.stat().st_size / 1e6
    print(f"{args.output}: {n_pages} pages, {size:.1f} MB, printed in {seconds:.0f} s")
    if result["refused"]:
        print(f"refused {len(result['refused'])} requests to the network: "
              f"{result['refused'][:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
