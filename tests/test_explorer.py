"""The run explorer (overfit.report.explorer): the packing of the curves, the runs each claim read, and the page as
a reader sees it in headless Chromium (offline, from the file system)."""

import json

import numpy as np
import pandas as pd
import pytest

from overfit.errors import DataError
from overfit.report import explorer
from overfit.report.claims import compute_claims

EPOCHS = 8


def small_metrics() -> pd.DataFrame:
    """Two experiments under one 3-fold protocol, one seed: validation loss U-shaped with its minimum at an epoch
    that differs by run (a: epochs 2-4, b: 5-7), training loss falling; b's run on fold 2 diverged."""
    rows = []
    for experiment, best in (("a", 2), ("b", 5)):
        for fold in range(3):
            diverged = experiment == "b" and fold == 2
            for epoch in range(1, EPOCHS + 1):
                lowest = best + fold
                values = {("validation", "loss"): 0.3 + 0.01 * (epoch - lowest) ** 2 + 0.001 * fold,
                          ("train", "loss"): 0.6 / epoch + 0.0001 * fold,
                          ("validation", "acc"): 0.8 + 0.01 * np.sin(epoch + fold),
                          ("train", "acc"): 1 - 0.2 / epoch}
                for (split, metric), value in values.items():
                    rows.append({"experiment": experiment, "protocol": "p", "repeat": 0, "fold": fold, "seed": 0,
                                 "epoch": epoch, "split": split, "metric": metric, "value": value,
                                 "diverged": diverged, "train_size": 200, "validation_size": 100})
    return pd.DataFrame(rows)


CONFIG = {
    "seed": 0,
    "training": {"batch_size": 50},
    "experiments": {"a": {"hidden": [4]}, "b": {"hidden": [2]}},
    "protocols": {"p": {"kind": "kfold"}},
    "roles": {"reference": "a", "smaller": "b", "folded": "p"},
}
CHAPTER = {"claims": [
    {"id": "1a", "section": "3.5", "sentence": "a bottoms out early", "statistic": "best_epoch", "of": ["reference"],
     "protocols": ["folded"], "claimed": {"below": 5}, "words": "early: before epoch 5"},
    {"id": "2a", "section": "4.4", "sentence": "b overfits later than a", "statistic": "best_epoch",
     "compare": ["reference", "smaller"], "protocols": ["folded"], "claimed": {"above": 1}, "words": "later: by 1"},
    {"id": "12e", "section": "4.3", "sentence": "the clock reads well from pixels", "statistic": "mean_error",
     "clock": {"of": "pixels"}, "claimed": {"below": 10}, "words": "well: within 10 minutes"},
]}


@pytest.fixture(scope="module")
def metrics():
    return small_metrics()


@pytest.fixture(scope="module")
def claims(metrics):
    """The claims table as the claims job computes it, from the same small runs."""
    return compute_claims(metrics, pd.DataFrame(), CONFIG, CHAPTER)


def test_packing_round_trips_to_the_digits_it_keeps(metrics):
    packed = explorer.pack(metrics)
    back = explorer.unpack(json.loads(json.dumps(packed)))
    key = [*explorer.RUN, "split", "metric", "epoch"]
    a, b = (t.sort_values(key).reset_index(drop=True) for t in (metrics, back))
    assert len(b) == len(a) and (a[key].astype(str).to_numpy() == b[key].astype(str).to_numpy()).all()
    np.testing.assert_allclose(b.value, a.value, rtol=10 ** (1 - explorer.DIGITS))
    assert (b.diverged == a.diverged).all() and (b.train_size == a.train_size).all()
    assert len(packed["runs"]["seed"]) == 6 and len(packed["curves"]["run"]) == 6 * 4  # runs, runs × split × metric


def test_a_missing_epoch_stays_missing_and_is_not_invented(metrics):
    gap = metrics.drop(metrics[(metrics.epoch == 4) & (metrics.experiment == "a") & (metrics.fold == 0)].index)
    back = explorer.unpack(explorer.pack(gap))
    run = back[(back.experiment == "a") & (back.fold == 0) & (back.split == "validation") & (back.metric == "loss")]
    assert sorted(run.epoch) == [e for e in range(1, EPOCHS + 1) if e != 4]


def test_the_packed_data_are_smaller_than_the_long_table(metrics):
    many = pd.concat([metrics.assign(seed=s) for s in range(20)], ignore_index=True)
    packed = len(json.dumps(explorer.pack(many), separators=(",", ":")))
    long = len(many.to_json(orient="records"))
    assert packed < long / 8, (packed, long)


def test_bad_input_is_refused_with_what_to_pass(metrics):
    with pytest.raises(DataError, match="lacks the column.*value"):
        explorer.pack(metrics.drop(columns="value"))
    with pytest.raises(DataError, match="no rows"):
        explorer.pack(metrics.iloc[:0])


def test_each_claim_row_shows_the_runs_its_value_was_computed_from(metrics, claims):
    rows = {r["id"]: r for r in explorer.claim_runs(metrics, claims, CONFIG, CHAPTER)}
    (only,) = rows["1a"]["groups"]
    assert (only["experiment"], only["protocol"], only["split"], only["metric"]) == ("a", "p", "validation", "loss")
    assert only["runs"] == [[0, 0, 0], [0, 1, 0], [0, 2, 0]]
    # the comparison is paired by run: b diverged on fold 2, so neither experiment's fold 2 counts
    a, b = rows["2a"]["groups"]
    assert (a["experiment"], b["experiment"]) == ("a", "b") and a["runs"] == b["runs"] == [[0, 0, 0], [0, 1, 0]]
    # and the runs shown are as many as the claim's n
    n = claims.set_index("id").n
    assert len(only["runs"]) == n["1a"] and len(a["runs"]) == n["2a"]
    # a row whose runs have no curves says why instead
    assert rows["12e"]["groups"] == [] and rows["12e"]["note"] == "clock"


def test_a_claims_table_of_another_chapter_is_refused(metrics, claims):
    other = claims.assign(id=["1a", "9z", "12e"])
    with pytest.raises(DataError, match="9z.*rebuild results/claims.csv"):
        explorer.claim_runs(metrics, other, CONFIG, CHAPTER)


def test_the_page_holds_its_data_library_and_no_address_to_fetch(metrics, claims):
    text = explorer.page(metrics, claims, CONFIG, CHAPTER)
    data = json.loads(text.split('<script type="application/json" id="data">')[1].split("</script>")[0])
    assert data["library"] == explorer.PLOT_VERSION and len(data["claims"]) == 3
    assert "uPlot" in text and "{{" not in text.replace("${", "")
    assert "src=" not in text and "<link" not in text  # nothing loaded from outside the file
    assert len(text.encode()) < 200_000


# --- in a browser -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page(tmp_path_factory, metrics, claims):
    """The page built from the small runs, open in headless Chromium with every non-local request refused."""
    from test_browser import ARGS, CHROMIUM, LOCAL  # the project's way of driving Debian's Chromium

    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install -e '.[test]'")
    from pathlib import Path

    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set OVERFIT_CHROMIUM to its path)")
    path = tmp_path_factory.mktemp("explorer") / "explorer.html"
    path.write_text(explorer.page(metrics, claims, CONFIG, CHAPTER), encoding="utf-8")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        requests, errors = [], []
        tab.on("request", lambda request: requests.append(request.url))
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.route(lambda url: not url.startswith(LOCAL), lambda route: route.abort())
        tab.goto(path.as_uri(), wait_until="load")
        yield {"page": tab, "requests": requests, "errors": errors, "path": path}
        browser.close()


def _canvas(tab) -> str:
    return tab.evaluate("explorer.plot.ctx.canvas.toDataURL()")


@pytest.mark.browser
def test_the_page_loads_offline_and_plots(page):
    tab = page["page"]
    assert page["errors"] == [] and all(url.startswith(("file:", "data:")) for url in page["requests"])
    shown = tab.evaluate("explorer.shown")
    assert [g["experiment"] for g in shown["groups"]] == ["a"] and len(shown["groups"][0]["runs"]) == 3
    assert shown["others"] == 2  # b's runs that did not diverge, faint
    assert tab.evaluate("explorer.plot.data.length") == 1 + 3 + 1 + 2  # epochs, a's runs, a's mean, b's runs


@pytest.mark.browser
def test_a_selector_changes_the_plot(page):
    tab = page["page"]
    before_data, before_pixels = tab.evaluate("explorer.plot.data"), _canvas(tab)
    tab.select_option("#metric", "acc")
    after = tab.evaluate("explorer.shown")
    assert after["groups"][0]["metric"] == "acc"
    assert tab.evaluate("explorer.plot.data") != before_data and _canvas(tab) != before_pixels
    tab.select_option("#experiment", "b")
    shown = tab.evaluate("explorer.shown")
    assert [g["experiment"] for g in shown["groups"]] == ["b"] and len(shown["groups"][0]["runs"]) == 2
    tab.select_option("#fold", "1")
    assert tab.evaluate("explorer.shown")["groups"][0]["runs"] == [[0, 1, 0]]
    assert page["errors"] == []


@pytest.mark.browser
def test_a_claims_link_shows_exactly_its_runs(page):
    tab = page["page"]
    tab.click("#claims a[href^='#claim=2a']")
    tab.wait_for_function("explorer.shown.groups.length === 2")
    shown = tab.evaluate("explorer.shown")
    assert [(g["experiment"], g["protocol"], g["split"], g["metric"]) for g in shown["groups"]] == \
        [("a", "p", "validation", "loss"), ("b", "p", "validation", "loss")]
    assert all(g["runs"] == [[0, 0, 0], [0, 1, 0]] for g in shown["groups"]) and shown["others"] == 0
    assert tab.evaluate("location.hash") == "#claim=2a&protocol=p"
    assert tab.is_visible("#banner") and "2a" in tab.inner_text("#banner")
    tab.click("#claims a[href^='#claim=12e']")
    tab.wait_for_function("explorer.shown.groups.length === 0")
    assert "summaries" in tab.inner_text("#banner") and tab.evaluate("explorer.shown.series") == 0
    tab.click("#leave")
    assert tab.evaluate("explorer.shown.others") > 0 and not tab.is_visible("#banner")
    assert page["errors"] == []
