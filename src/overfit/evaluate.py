"""From per-epoch validation curves to the number of epochs a final fit trains for."""

from __future__ import annotations

import pandas as pd

from overfit.errors import OverfitError


class NoValidationCurve(OverfitError):
    """Every run of the protocol the epochs are chosen on diverged: there is nothing to choose from."""


def mean_validation_curve(metrics: pd.DataFrame, metric: str = "loss") -> pd.Series:
    """Mean over folds and repeats of the validation ``metric``, by epoch (diverged runs left out)."""
    diverged = metrics.groupby(["repeat", "fold", "seed"]).diverged.transform("any")
    rows = metrics[(metrics.split == "validation") & (metrics.metric == metric) & ~diverged]
    if rows.empty:
        raise NoValidationCurve("no validation curve to choose epochs from: every run diverged")
    return rows.groupby("epoch").value.mean()


def choose_epochs(metrics: pd.DataFrame) -> int:
    """The epoch of lowest mean validation loss (Keras' val_loss, penalty included), as EarlyStopping would."""
    return int(mean_validation_curve(metrics).idxmin())
