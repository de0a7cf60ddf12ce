"""The two modes of the 4-4-1 model on the book's protocol (issue 27): which runs stall, which mode the book's run
was in, the claims that read only that mode, and the figure that draws each mode apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from overfit import chapter as chapter_roles
from overfit.files import load_yaml
from overfit.report import catalog, claims, modes, tables

CONFIG = load_yaml(REPO / "config" / "config.yaml")
CHAPTER = chapter_roles.load(REPO / "config" / "chapter.yaml")
BOOK = CONFIG["roles"]["book_4_4"]
EPOCHS = np.arange(1, 21)


def learning(best_epoch: int, lowest: float) -> np.ndarray:
    """A validation loss curve that falls to ``lowest`` at ``best_epoch`` and rises after it."""
    return lowest + 0.02 * (EPOCHS - best_epoch) ** 2 / 10


def stalled(lowest: float) -> np.ndarray:
    """A curve that creeps down to ``lowest`` at the last epoch: a stalled run."""
    return lowest + 0.2 * (1 - EPOCHS / EPOCHS[-1])


def metrics(curves: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    rows = []
    for experiment, runs in curves.items():
        for seed, values in enumerate(runs):
            for split, shift in (("validation", 0.0), ("train", -0.1)):
                for epoch, value in zip(EPOCHS, values + shift):
                    rows.append({"experiment": experiment, "protocol": BOOK, "repeat": 0, "fold": 0, "seed": seed,
                                 "epoch": int(epoch), "split": split, "metric": "loss", "value": float(value),
                                 "diverged": False, "train_size": 25000, "validation_size": 25000})
    return pd.DataFrame(rows)


# the smaller model: 6 runs that learn (best at epoch 6) and 2 that stall; the reference: best at epoch 3
TABLE = metrics({"smaller": [learning(6, 0.28)] * 6 + [stalled(0.41)] * 2, "original": [learning(3, 0.27)] * 8})


def test_a_run_stalls_when_its_lowest_validation_loss_reaches_the_threshold():
    lowest = modes.lowest_validation_loss(TABLE, "smaller", BOOK)
    assert lowest.round(6).tolist() == [0.28] * 6 + [0.41] * 2
    mode = modes.mode_of(lowest, 0.35)
    assert mode.tolist() == [modes.LEARNS] * 6 + [modes.STALLS] * 2
    assert modes.frequency_words(mode) == "2 of 8 runs stall"
    # the threshold decides: above both, every run learns
    assert set(modes.mode_of(lowest, 0.5)) == {modes.LEARNS}


def test_the_books_recorded_run_of_the_smaller_model_learned():
    book = tables.book_histories()
    entry = CHAPTER["book"]["modes"]["book_4_4"]
    assert modes.book_run_mode(book, "4.4", "smaller", entry["stalls_from"]) == modes.LEARNS
    # and it would read as stalled under a threshold below its lowest loss (0.277)
    assert modes.book_run_mode(book, "4.4", "smaller", 0.2) == modes.STALLS
    assert modes.book_run_mode(book, "4.4", "no such model", 0.35) is None


def test_claims_about_the_smaller_model_read_only_the_books_mode_and_say_so():
    table = claims.compute_claims(TABLE, pd.DataFrame(), CONFIG, CHAPTER)
    row = table[(table.id == "2a") & (table.protocol == BOOK)].iloc[0]
    # best epoch, smaller − original: 6 − 3 in each of the 6 runs that learn; the 2 stalled runs (best epoch 20)
    # would have pulled the mean to 5.5
    assert row.n == 6 and row.value == pytest.approx(3.0)
    assert "6 of its 8 runs" in row.detail and "2 of 8 runs stall" in row.detail
    assert row.dropped == 0  # left out by design, not counted as diverged
    # a row about another model is not filtered
    other = table[(table.id == "3a") & (table.protocol == BOOK)].iloc[0]
    assert "mode" not in other.detail


def test_claims_read_every_run_where_the_chapter_declares_no_modes():
    chapter = {**CHAPTER, "book": {k: v for k, v in CHAPTER["book"].items() if k != "modes"}}
    table = claims.compute_claims(TABLE, pd.DataFrame(), CONFIG, chapter)
    row = table[(table.id == "2a") & (table.protocol == BOOK)].iloc[0]
    assert row.n == 8 and row.value == pytest.approx((6 * 3 + 2 * 17) / 8)


def test_the_figure_draws_each_mode_apart_with_its_frequency():
    import matplotlib.pyplot as plt

    from overfit.report import figures

    (spec,) = [s for s in catalog.figure_specs(CONFIG, CHAPTER) if s.name == "book_4_4_smaller_validation"]
    assert spec.modes == ("smaller", CHAPTER["book"]["modes"]["book_4_4"]["stalls_from"])
    assert "two modes" in spec.caption
    fig = figures.draw(spec, TABLE, tables.book_histories())
    try:
        texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    finally:
        plt.close(fig)
    assert any(t.startswith("smaller, learns (ours: 6 of 8 runs") for t in texts), texts
    assert any(t.startswith("smaller, stalls (ours: 2 of 8 runs") for t in texts), texts
    keras = modes.keras_frequency()
    if keras:  # the oracle's frequency beside ours, where it was measured
        assert any(f"Keras 3: {keras[0]} of {keras[1]} seeds" in t for t in texts), texts
