"""The reader's book, tested the way readers see it: every page in headless Chromium, offline.

Runs after the strict book build (``make test`` builds first). Needs Chromium (Debian's
``chromium`` package, installed by ``.ci/run``) and the ``playwright`` Python package
(pinned in requirements.txt), which drives that Chromium: no browser is downloaded.
Every request that leaves the local test server is blocked and recorded, so a page that
needs the network fails here. Screenshots of every page go to ``_build/screenshots/``.

Every page also passes an axe-core audit (``axe-playwright-python`` bundles axe-core):
no serious or critical WCAG 2.1 A/AA violation. A chapter can be read with the keyboard
alone, every image has alt text that describes it, and the buttons are honest: no link to
a repository, Binder or Colab until ``repository: url:`` is set in ``_config.yml``.

``LESSONS_SITE=_build/student/_build/html LESSONS_EDITION=student`` runs the same tests on
the student edition (``make test-student``), plus: no solution page, link or entry.
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

import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / os.environ.get("LESSONS_SITE", "_build/html")
STUDENT = os.environ.get("LESSONS_EDITION", "") == "student"
SHOTS = ROOT / "_build" / ("screenshots-student" if STUDENT else "screenshots")
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
# The audit also covers the pages the other tests leave out.
ALL_PAGES = PAGES + [p for p in ("genindex.html", "search.html") if (SITE / p).exists()]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = ((CONFIG.get("repository") or {}).get("url") or "").strip().rstrip("/")

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
    """Download as .ipynb, the exercise, and (full edition) its solution."""
    slug = Path(page).stem
    text = (SITE / page).read_text(encoding="utf-8")
    assert f"_sources/{page.removesuffix('.html')}.ipynb" in text, "no .ipynb download"
    links = [urllib.parse.urljoin(page, h) for h in _parsed(page).links]
    assert any(link.startswith(f"exercises/{slug}.html") for link in links), (
        f"{page} does not link to its exercise exercises/{slug}")
    if not STUDENT:
        assert (SITE / "solutions" / f"{slug}.html").exists(), f"no solution page for {slug}"


DEAD_ENDS = ("github.com", "gitlab.com", "mybinder.org", "colab.research.google.com",
             "deepnote.com")


@pytest.mark.parametrize("page", PAGES)
def test_buttons_are_honest(page):
    """Launch / repository / issue buttons only once repository.url is set in _config.yml."""
    links = _parsed(page).links
    if not REPOSITORY:
        dead = [h for h in links if any(host in h for host in DEAD_ENDS)]
        assert not dead, (f"{page} links to a repository or launch service although "
                          f"_config.yml sets no repository.url: {dead[:5]}")
        return
    assert any(h.startswith(REPOSITORY) for h in links), f"{page}: no repository button"
    if page in CHAPTERS:
        org_repo = urllib.parse.urlsplit(REPOSITORY).path.strip("/")
        assert any(f"mybinder.org/v2/gh/{org_repo}/" in h for h in links), "no Binder button"
        assert any(f"colab.research.google.com/github/{org_repo}/" in h for h in links), (
            "no Colab button")


FILE_NAME = re.compile(r"(^|/)[^/ ]+\.(png|jpe?g|svg|gif|webp)$", re.IGNORECASE)


class _Images(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.mark.parametrize("page", PAGES)
def test_every_image_has_alt_text_that_describes_it(page):
    """Not missing, not empty, not the file's path (myst-nb's default)."""
    parser = _Images()
    parser.feed((SITE / page).read_text(encoding="utf-8"))
    bad = []
    for image in parser.images:
        alt = (image.get("alt") or "").strip()
        decorative = image.get("role") == "presentation" or image.get("aria-hidden") == "true"
        if decorative and "alt" in image:
            continue
        if not alt or FILE_NAME.search(alt) or "_images/" in alt or alt == image.get("src"):
            bad.append(f"{image.get('src')} (alt={image.get('alt')!r})")
    assert not bad, (f"{page}: images without a description (set mystnb.image.alt in the "
                     f"cell's metadata, see CONTRIBUTING.md): {bad[:5]}")


def _navigation_entries(page: str) -> list[str]:
    text = (SITE / page).read_text(encoding="utf-8")
    nav = re.search(r'<nav class="bd-links bd-docs-nav".*?</nav>', text, re.DOTALL)
    assert nav, f"{page}: no navigation sidebar"
    return [re.sub(r"<[^>]+>", "", a).strip()
            for a in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(0), re.DOTALL)]


@pytest.mark.skipif(not STUDENT, reason="the student edition only")
@pytest.mark.parametrize("page", PAGES)
def test_student_edition_has_no_solutions(page):
    assert not page.startswith("solutions/"), f"{page} is a solution page"
    links = _parsed(page).links
    to_solutions = [h for h in links if "solutions/" in urllib.parse.urljoin(page, h)]
    assert not to_solutions, f"{page} links to solutions: {to_solutions[:5]}"
    entries = [e for e in _navigation_entries(page) if "solution" in e.lower()]
    assert not entries, f"{page}: the navigation lists {entries}"


def test_edition_matches_its_solutions():
    """The student edition builds no solution page; the full one builds all of them."""
    built = sorted(p for p in PAGES if p.startswith("solutions/"))
    exercises = sorted(p for p in PAGES if p.startswith("exercises/"))
    assert exercises, "no exercise pages in the build"
    if STUDENT:
        assert not built and not (SITE / "solutions").exists(), built[:5]
        assert not (SITE / "_sources" / "solutions").exists(), "solution notebooks downloadable"
    else:
        assert [p.split("/")[1] for p in built] == [p.split("/")[1] for p in exercises]
        assert any("solution" in e.lower() for e in _navigation_entries(CHAPTERS[0]))


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
    # Sphinx adds the results one by one and then says "Search finished": read the list
    # only then (with 50+ pages, reading at the first result misses later ones)
    v.page.wait_for_function(
        "() => /Search finished/.test(document.querySelector('#search-results')?.innerText)",
        timeout=30_000)
    hrefs = v.page.eval_on_selector_all("#search-results ul.search li a",
                                        "links => links.map(a => a.getAttribute('href'))")
    assert any(page.removesuffix(".html") in (h or "") for h in hrefs), (
        f"searching {term!r} does not find {page}: {hrefs[:10]}")


# ------------------------------------------------------------------------ accessibility

AXE = pytest.importorskip("axe_playwright_python.sync_playwright",
                          reason="axe-playwright-python is in requirements.txt")
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_passes_the_accessibility_audit(visit, page):
    """axe-core: no serious or critical WCAG 2.1 A/AA violation on any page."""
    v = visit(page)
    results = AXE.Axe().run(v.page, options={
        "runOnly": {"type": "tag", "values": WCAG_21_A_AA}, "resultTypes": ["violations"]})
    blocking = [violation for violation in results.response["violations"]
                if violation["impact"] in BLOCKING]
    report = "; ".join(
        f"{x['id']} ({x['impact']}, {len(x['nodes'])}x: {x['help']}; first: "
        f"{x['nodes'][0]['html'][:120]})" for x in blocking)
    assert not blocking, f"{page}: {report}"


FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {tag: e.tagName, href: e.getAttribute('href') || '', text: e.innerText.trim(),
          classes: e.className || '', inMain: !!e.closest('article.bd-article'),
          visible: style.outlineStyle !== 'none' || style.boxShadow !== 'none'};
}"""


@pytest.mark.parametrize("page", CHAPTERS[:3])
def test_a_chapter_can_be_read_with_the_keyboard(visit, page):
    """Tab: the skip link first; Enter on it, then Tab reaches the chapter's own links
    (a cross-reference or the exercise), then the next-page link, each with a visible
    focus ring."""
    v = visit(page)
    v.page.keyboard.press("Tab")
    first = v.page.evaluate(FOCUSED)
    assert first and "main" in first["href"], f"first Tab stop is not the skip link: {first}"
    v.page.keyboard.press("Enter")
    reached_content = reached_next = None
    for _ in range(400):
        v.page.keyboard.press("Tab")
        focused = v.page.evaluate(FOCUSED)
        if focused is None:
            continue
        if focused["inMain"] and focused["tag"] == "A" and not reached_content:
            reached_content = focused
        if "right-next" in focused["classes"]:
            reached_next = focused
            break
    assert reached_content, f"{page}: Tab never reached a link in the chapter's text"
    assert reached_next, f"{page}: Tab never reached the next-page link"
    assert reached_next["visible"], f"{page}: the next-page link shows no focus ring"
    with v.page.expect_navigation(wait_until="load"):
        v.page.keyboard.press("Enter")
    assert v.page.url.split("#")[0].endswith(
        urllib.parse.urljoin(page, reached_next["href"]).split("#")[0])
