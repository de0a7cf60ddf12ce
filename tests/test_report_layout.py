"""The report page in a browser: every claims table fits the page, its verdicts visible without scrolling.

Renders ``html.page`` from small synthetic tables (every verdict kind, the columns of issue 25, the chapter's real
sentences) and opens it in headless Chromium at 1,280 and 1,920 pixels wide. Skipped, with the reason, where
Playwright or Chromium is missing. OVERFIT_LAYOUT_SHOTS=<dir> keeps a screenshot of the claims at each width.
"""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from overfit.report import catalog, figures, html, tables
from test_report import CHAPTER, SETTINGS, claims_rows, config, scores, synthetic_metrics

CHROMIUM = os.environ.get("OVERFIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WIDTHS = (1280, 1920)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    pytest.skip(f"no Chromium at {CHROMIUM} (set OVERFIT_CHROMIUM)", allow_module_level=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("layout")
    metrics = pd.concat([synthetic_metrics({n: SETTINGS[n] for n in ("original", "smaller")}, runs=4),
                         synthetic_metrics({n: SETTINGS[n] for n in ("original", "smaller")}, runs=3, protocol="book")])
    settings = config()
    spec = next(s for s in catalog.figure_specs(settings, CHAPTER) if s.name == "book_4_4_smaller_validation")
    figures.save(figures.draw(spec, metrics, tables.book_histories()), tmp / "book_4_4.png")
    claims = claims_rows()
    claims.to_csv(tmp / "claims.csv", index=False)  # as the report job reads it back
    page = html.page(claims=pd.read_csv(tmp / "claims.csv"), scores=scores(), leak=pd.DataFrame(),
                     runs=tables.run_counts(metrics), seeds=tables.seed_runs(metrics, settings),
                     figures=[(spec, tmp / "book_4_4.png")],
                     provenance={"code_version": "abc", "versions": {"jax": "1"}, "reviews_sha256": "f" * 64,
                                 "config": yaml.safe_dump(settings)},
                     jobs=pd.DataFrame({"job": ["train/original/kfold"], "seconds": [12.0], "max_rss_mb": [600.0]}),
                     config=settings)
    path = tmp / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


MEASURE = """() => [...document.querySelectorAll('table.claims')].map(t => ({
    scrollWidth: t.scrollWidth, clientWidth: t.clientWidth, right: t.getBoundingClientRect().right,
    rows: [...t.querySelectorAll('tr[id]')].map(r => {
        const box = s => { const c = r.querySelector(s); if (!c) return null;
                           const b = c.getBoundingClientRect(); return [b.left, b.right, b.width]; };
        return {id: r.id, claim: box('td.claim'), verdict: box('td.verdict'), adjusted: box('td.adjusted'),
                flags: box('td.flags')};
    })}))"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.browser
def test_every_claims_table_fits_and_its_verdicts_show_without_scrolling(report, width):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(report.as_uri())
            for opened in (False, True):  # folded, then with every <details> open: the history and the details wrap
                if opened:
                    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
                measured = page.evaluate(MEASURE)
                assert len(measured) == claims_rows().section.nunique()
                assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # no page scroll either
                for table in measured:
                    assert table["scrollWidth"] <= table["clientWidth"] and table["right"] <= width, (opened, table)
                    for row in table["rows"]:
                        for cell in ("verdict", "adjusted", "flags"):
                            left, right, cell_width = row[cell]
                            assert 0 <= left and right <= width and cell_width > 40, (opened, row)
                        # the verdict is right beside the sentence, the adjusted verdict beside it
                        assert abs(row["verdict"][0] - row["claim"][1]) < 2, row
                        assert abs(row["adjusted"][0] - row["verdict"][1]) < 2, row
                        assert row["claim"][2] > 0.4 * table["clientWidth"], row  # the sentence keeps room to read
            shots = os.environ.get("OVERFIT_LAYOUT_SHOTS")
            if shots:
                page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = false)")
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.locator("#claims").scroll_into_view_if_needed()
                page.screenshot(path=str(Path(shots) / f"claims_{width}.png"))
                page.locator("table.claims").nth(2).screenshot(path=str(Path(shots) / f"claims_table_{width}.png"))
                page.locator("#summary").scroll_into_view_if_needed()
                page.screenshot(path=str(Path(shots) / f"summary_{width}.png"))
        finally:
            browser.close()
