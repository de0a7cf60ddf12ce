"""The two modes of a narrow model on the book's protocol, and the mode the book's own run was in.

The 4-4-1 model of section 4.4 trains in one of two ways: most initialisations
learn (lowest validation loss about 0.28), about one in four stalls with dead
units (0.38–0.45). Keras running the book's code does the same
(``reference/keras_modes.csv``). The book printed one run; a median over a
handful of seeds can land in either mode. So the claims about that model read
only the runs in the mode the book's recorded run was in, and say how many
that is; the figures draw each mode apart with its frequency.

config/chapter.yaml, ``book.modes``: per protocol role, the experiment role
and the lowest validation loss from which a run counts as stalled.
"""

from __future__ import annotations

import importlib.resources as importlib_resources

import pandas as pd

from overfit.report.tables import curves

LEARNS, STALLS = "learns", "stalls"


def lowest_validation_loss(metrics: pd.DataFrame, experiment: str, protocol: str) -> pd.Series:
    """Per run (repeat, fold, seed): the lowest validation loss over its epochs (diverged runs left out)."""
    return curves(metrics, experiment, protocol, "validation", "loss").min(axis=1)


def mode_of(lowest: pd.Series, stalls_from: float) -> pd.Series:
    """Per run: ``STALLS`` where its lowest validation loss is ``stalls_from`` or more, else ``LEARNS``."""
    return lowest.ge(stalls_from).map({True: STALLS, False: LEARNS})


def book_run_mode(book: pd.DataFrame, section: str, experiment: str, stalls_from: float) -> str | None:
    """The mode of the book's recorded run of ``experiment`` (its notebook's val_loss), None where not recorded."""
    rows = book[(book.section == section) & (book.experiment == experiment) & (book.metric == "val_loss")]
    if rows.empty:
        return None
    return STALLS if rows.value.min() >= stalls_from else LEARNS


def keras_frequency() -> tuple[int, int] | None:
    """(stalled seeds, seeds) of Keras 3 running the book's own code for the same model, where measured
    (``reference/keras_modes.csv``, written by benchmarks/keras_modes.py), else None."""
    path = importlib_resources.files("overfit") / "reference" / "keras_modes.csv"
    if not path.is_file():
        return None
    with importlib_resources.as_file(path) as file:
        table = pd.read_csv(file, comment="#")
    return int(table.stalled.sum()), len(table)


def frequency_words(modes: pd.Series) -> str:
    """'5 of 20 runs stall' for the figure's legends and the claims' details."""
    return f"{int((modes == STALLS).sum())} of {len(modes)} runs stall"


__all__ = ["LEARNS", "STALLS", "book_run_mode", "frequency_words", "keras_frequency", "lowest_validation_loss",
           "mode_of"]
