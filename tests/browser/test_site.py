"""The reader's book, tested the way readers see it: every page in headless Chromium, offline.

Runs after the strict book build (``make test`` builds first). Needs Chromium (Debian's
``chromium`` package, installed by ``.ci/run``) and the ``playwright`` Python package
(pinned in requirements.txt), which drives that Chromium: no browser is downloaded.
Every request that leaves the local test server is blocked and recorded, so a page that
needs the network fails here. Screenshots of every page go to ``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("LESSONS_CHROMIUM") or shutil.which("chromium") or shutil.which(
    "chromium-browser")
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}


def _pages() -> list[str]:
    if not SITE.is_dir():
        return []
    pages = []
    for path in sorted(SITE.rglob("*.html")):
        relative = path.relative_to(SITE).as_posix()
        if relative.split("/")[0] in SKIP_DIRS or relative in {"genindex.html", "search.html"}:
            continue
        pages.append(relative)
    return pages


PAGES = _pages()
CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]

if not PAGES:
    pytest.skip("the book is not built: run `make book` (make test builds it first)",
                allow_module_level=True)
if CHROMIUM is None:
    pytest.skip("Chromium not found: install Debian's `chromium` package (.ci/run does)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.txt")


# --------------------------------------------------------------------------- the static checks


class _LinksAndIds(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


@functools.cache
def _parsed(relative: str) -> _LinksAndIds:
    parser = _LinksAndIds()
    parser.feed((SITE / relative).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_and_anchors_resolve(page):
    broken = []
    for href in _parsed(page).links:
        parts = urllib.parse.urlsplit(href)
        if parts.scheme or href.startswith(("mailto:", "javascript:", "//")):
            continue
        target = page if not parts.path else urllib.parse.urljoin(page, parts.path)
        target = os.path.normpath(urllib.parse.unquote(target))
        if target.endswith("/") or (SITE / target).is_dir():
            target = os.path.join(target, "index.html")
        if not (SITE / target).exists():
            broken.append(f"{href} (no file {target})")
            continue
        if parts.fragment and target.endswith(".html"):
            if urllib.parse.unquote(parts.fragment) not in _parsed(target).ids:
                broken.append(f"{href} (no anchor #{parts.fragment} in {target})")
    assert not broken, f"{page}: broken links: {broken[:10]}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_page_offers_what_a_reader_expects(page):
    """Download as .ipynb, Binder and Colab launch buttons, the exercise and its solution."""
    slug = Path(page).stem
    text = (SITE / page).read_text(encoding="utf-8")
    assert f"_sources/{page.removesuffix('.html')}.ipynb" in text, "no .ipynb download"
    assert "mybinder.org/v2/gh/" in text and "colab.research.google.com/github/" in text, (
        "no Binder / Colab launch buttons")
    links = [urllib.parse.urljoin(page, h) for h in _parsed(page).links]
    assert any(link.startswith(f"exercises/{slug}.html") for link in links), (
        f"{page} does not link to its exercise exercises/{slug}")
    assert (SITE / "solutions" / f"{slug}.html").exists(), f"no solution page for {slug}"


# ---------------------------------------------------------------------------- the live checks


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports failures itself
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        yield chromium
        chromium.close()


class Visit:
    """One page opened with the network blocked, and everything that went wrong on it."""

    def __init__(self, browser, base: str, page_path: str) -> None:
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(
            f"{r.url} (HTTP {r.status})"))
        # "load" waits for every image, script and stylesheet; then MathJax's typesetting
        # and the fonts. ("networkidle" is not used: it timed out once on a loaded machine.)
        self.page.goto(base + page_path, wait_until="load")
        self.page.evaluate(
            "() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || true")
        self.page.evaluate("() => document.fonts.ready.then(() => true)")

    def _route(self, route):
        if route.request.url.startswith(self.base):
            route.continue_()
        else:  # the network is blocked: record the attempt and refuse it
            self.outside.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, server):
    opened = []

    def open_page(path: str) -> Visit:
        opened.append(Visit(browser, server, path))
        return opened[-1]

    yield open_page
    for v in opened:
        v.close()


RAW_MATH = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$")


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_with_math_figures_and_no_errors(visit, page):
    v = visit(page)
    assert not v.outside, f"{page} tried to reach the network: {v.outside[:5]}"
    assert not v.failed, f"{page}: failed requests: {v.failed[:5]}"
    assert not v.errors, f"{page}: console errors: {v.errors[:5]}"

    n_math = v.page.locator("main .math").count()
    n_typeset = v.page.locator("main mjx-container").count()
    assert n_typeset >= n_math, f"{page}: {n_math - n_typeset} formulas left untypeset"
    text = v.page.locator("main").inner_text()
    raw = RAW_MATH.search(text)
    assert raw is None, f"{page}: raw LaTeX on the page: {raw.group(0)!r}"

    images = v.page.evaluate(
        "() => Array.from(document.querySelectorAll('main img')).map("
        "i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0 && i.naturalHeight > 0])")
    empty = [src for src, ok in images if not ok]
    assert not empty, f"{page}: figures that did not load: {empty}"

    SHOTS.mkdir(parents=True, exist_ok=True)
    v.page.screenshot(path=str(SHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")))


@pytest.mark.parametrize("page", PAGES)
def test_next_link_goes_to_the_next_page(visit, page):
    v = visit(page)
    link = v.page.locator("a.right-next")
    if link.count() == 0:
        assert page == PAGES[-1] or page == "bibliography.html" or "genindex" in page, (
            f"{page} has no 'next' link")
        return
    target = urllib.parse.urljoin(v.page.url, link.first.get_attribute("href"))
    link.first.click()
    v.page.wait_for_load_state("load")
    assert v.page.url.split("#")[0] == target.split("#")[0]


def _search_term(page: str) -> str:
    """A distinctive word from the chapter's title (its longest word)."""
    title = _Title()
    title.feed((SITE / page).read_text(encoding="utf-8"))
    words = re.findall(r"[A-Za-z][a-z]{4,}", title.text)
    return max(words, key=len)


class _Title(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside, self.text = False, ""

    def handle_starttag(self, tag, attrs):
        self.inside = self.inside or tag == "h1"

    def handle_endtag(self, tag):
        if tag == "h1":
            self.inside = False

    def handle_data(self, data):
        if self.inside and not self.text.endswith(data):
            self.text += data


@pytest.mark.parametrize("page", CHAPTERS)
def test_search_finds_the_chapter(visit, page):
    term = _search_term(page)
    v = visit(f"search.html?q={urllib.parse.quote(term)}")
    v.page.wait_for_selector("#search-results ul.search li", timeout=15_000)
    hrefs = v.page.eval_on_selector_all("#search-results ul.search li a",
                                        "links => links.map(a => a.getAttribute('href'))")
    assert any(page.removesuffix(".html") in (h or "") for h in hrefs), (
        f"searching {term!r} does not find {page}: {hrefs[:10]}")
