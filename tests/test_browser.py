"""The report as a reader sees it: opened from disk in a real headless Chromium (Debian's package).

The page is the one ``make reproduce`` built on the tiny grid (``resumed_reproduction`` in conftest.py: the
pipeline runs once for this test and tests/test_resume.py). Every figure must render, every contents link must
land on its section, and nothing may be fetched from the network.
"""

import os
import shutil
from pathlib import Path

import pytest

# the slow tier (`make test-all`): a whole tiny pipeline, then its report in headless Chromium
pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("OVERFIT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LOCAL = ("file:", "data:")


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set OVERFIT_CHROMIUM to its path)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report(browser, resumed_reproduction):
    """The report open in a page of 1280 × 900, every request it made, and every error the page raised."""
    path = resumed_reproduction["repo"] / "results" / "report.html"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    # record anything that would leave the machine, and let none of it through
    page.route(lambda url: not url.startswith(LOCAL), lambda route: route.abort())
    page.goto(path.as_uri(), wait_until="load")
    yield {"page": page, "requests": requests, "errors": errors, "path": path}
    context.close()


def test_every_figure_renders(report):
    page = report["page"]
    images = page.evaluate("""async () => Promise.all([...document.images].map(async img => {
        let decoded = true;
        try { await img.decode(); } catch (e) { decoded = false; }
        const box = img.getBoundingClientRect();
        return {alt: img.alt, decoded, complete: img.complete, natural: [img.naturalWidth, img.naturalHeight],
                box: [box.width, box.height], figure: img.closest('figure') ? img.closest('figure').id : null};
    }))""")
    figures = page.evaluate("document.querySelectorAll('figure').length")
    pngs = list((report["path"].parent / "figures").glob("*.png"))
    assert len(images) == figures == len(pngs) >= 10  # one image a figure, each of results/figures
    broken = [image for image in images if not (image["decoded"] and image["complete"] and min(image["natural"]) > 0
                                                and min(image["box"]) > 0)]
    assert broken == [], broken
    svgs = page.evaluate("[...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().width)")
    assert all(width > 0 for width in svgs)


def test_every_contents_link_lands_on_its_section(report):
    page = report["page"]
    links = page.evaluate("[...document.querySelectorAll('nav a')].map(a => a.getAttribute('href'))")
    assert len(links) >= 10 and all(link.startswith("#") for link in links), links
    missing = [link for link in links if not page.evaluate("id => !!document.getElementById(id)", link[1:])]
    assert missing == [], f"contents links with no section: {missing}"
    for link in links:
        page.evaluate("window.scrollTo(0, 0)")
        page.click(f"nav a[href='{link}']")
        landed = page.evaluate("""id => {
            const box = document.getElementById(id).getBoundingClientRect();
            return {hash: location.hash, top: box.top, height: box.height, inner: window.innerHeight, scrolled: window.scrollY};
        }""", link[1:])
        assert landed["hash"] == link, (link, landed)
        # at the top of the window (to the pixel), or below it when the page ends before the section can get there
        assert landed["scrolled"] > 0 and -1 <= landed["top"] < landed["inner"] and landed["height"] > 0, (link, landed)


def test_every_link_within_the_page_has_a_target(report):
    page = report["page"]
    targets = page.evaluate("""[...document.querySelectorAll("a[href^='#']")]
        .map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))""")
    assert targets == []


def test_nothing_is_fetched_from_the_network(report):
    assert report["requests"] and all(url.startswith(LOCAL) for url in report["requests"]), \
        [url for url in report["requests"] if not url.startswith(LOCAL)]
    assert report["errors"] == []


def test_a_screenshot_shows_the_page(report, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    report["page"].screenshot(path=str(shot), full_page=True)
    with Image.open(shot) as image:
        width, height = image.size
        gray = image.convert("L")
        inked = sum(gray.histogram()[:200]) / (width * height)  # pixels darker than near-white
    assert width == 1280 and height > 5 * 900, (width, height)  # the whole page, many screens long, not wider
    assert inked > 0.02, f"the page looks blank ({inked:.1%} of its pixels drawn)"


def test_the_page_never_scrolls_sideways_at_1280_pixels(report):
    """A wide table of numbers scrolls in its own box; the page, and so every verdict and caption, stays in view."""
    page = report["page"]
    overflow = page.evaluate("document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
