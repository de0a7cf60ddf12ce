"""The tidy tables every figure and claim is computed from."""

from __future__ import annotations

import numpy as np
import pandas as pd

RUN = ["repeat", "fold", "seed"]


def collect_metrics(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """All per-epoch rows: one per (experiment, protocol, repeat, fold, seed, epoch, split, metric)."""
    table = pd.concat(frames, ignore_index=True)
    keys = ["experiment", "protocol", *RUN, "epoch", "split", "metric"]
    if table.duplicated(keys).any():
        raise ValueError("duplicate metric rows")
    return table.sort_values(keys, ignore_index=True)


def test_scores(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per final fit and seed: epochs trained, test loss (as Keras reports it) and accuracy."""
    columns = ["experiment", "fit", "seed", "epochs", "test_loss", "test_data_loss", "test_acc"]
    test = metrics[metrics.split == "test"]
    if test.empty:
        return pd.DataFrame(columns=columns)
    table = test.pivot_table(index=["experiment", "protocol", "seed", "epoch"], columns="metric", values="value").reset_index()
    table = table.rename(columns={"protocol": "fit", "epoch": "epochs", "loss": "test_loss", "data_loss": "test_data_loss",
                                  "acc": "test_acc"})
    table.columns.name = None
    return table[columns]


def curves(metrics: pd.DataFrame, experiment: str, protocol: str, split: str = "validation", metric: str = "loss") -> pd.DataFrame:
    """Runs × epochs matrix of one curve (rows: (repeat, fold, seed)); diverged runs left out."""
    rows = metrics[(metrics.experiment == experiment) & (metrics.protocol == protocol)]
    diverged = rows.groupby(RUN).diverged.any()
    rows = rows[(rows.split == split) & (rows.metric == metric)]
    table = rows.pivot_table(index=RUN, columns="epoch", values="value")
    return table.loc[~diverged.reindex(table.index).fillna(False).to_numpy(bool)]


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval over runs (folds of different repeats are not independent: a rough guide)."""
    from scipy import stats

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half
