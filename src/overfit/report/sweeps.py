"""The sweeps as curves: one row per point of each sweep, the numbers its figure draws.

Per point (and per experiment the sweep includes), over the runs every point
of the sweep has (the protocol's first repeat where the sweep trains only
that: the included experiments' other repeats are left out, so that every
point is measured on the same folds and initial weights):

- the lowest validation data loss (the loss without the weight penalty, so
  that points of different penalties compare) with the corrected interval
  over folds (overfit.stats), and the epoch it happens;
- the rise after it to the last epoch, and the last epoch's value with its
  corrected interval (double descent is read at the end of training);
- the train/validation gap of the data loss at the last epoch;
- the penalty in Keras' reported validation loss at the last epoch (loss −
  data loss): what an L1/L2 term adds to the number Keras prints;
- the last epoch's training and validation accuracy, and the first epoch
  whose training accuracy reaches 0.95 (one past the last where it never
  does): how fast a model fits its labels, shuffled ones included;
- the number of parameters and the training reviews per run (``train_reviews``; the
  ``train_size`` axis says "all" for an experiment trained on its whole folds).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit import stats, sweeps
from overfit.errors import ConfigError
from overfit.grid import parameter_count
from overfit.report.tables import RUN, curves

# an axis's column; the experiment axis (a point's base experiment) is ``base``
AXIS_COLUMNS = {axis: "base" if axis == "experiment" else axis for axis in sweeps.AXES}
COLUMNS = ["sweep", "experiment", "included", *AXIS_COLUMNS.values(), "parameters", "train_reviews", "runs", "best_loss", "best_low",
           "best_high", "best_epoch", "last_loss", "last_low", "last_high", "rise_after_best", "gap_at_last_epoch",
           "penalty_at_last_epoch", "last_train_acc", "last_val_acc", "epochs_to_fit", "diverged"]
FIT = 0.95  # "fits its training labels": training accuracy from this on


def ordered(config: dict, name: str) -> list[str]:
    """A sweep's experiments along its curve: by number of parameters, then by each other axis's value."""
    entries = sweeps.entries(config)
    input_dim = config["data"]["imdb"]["num_words"]

    def key(item):
        experiment, values = item
        rest = [(0.0, str(v)) if isinstance(v, str) and v != "all" else (float("inf") if v == "all" else float(v), "")
                for a, v in values.items() if a not in ("width", "depth")]
        return parameter_count(entries[experiment]["hidden"], input_dim), rest, experiment

    return [experiment for experiment, _ in sorted(sweeps.curve(config, name), key=key)]


def at_size(config: dict, experiment: str, size: int) -> str:
    """The sweep point that trains ``experiment`` on its first ``size`` training reviews and changes nothing else (a
    learning curve's point: an axis ``train_size``, and its ``experiment`` axis or its sweep's base naming it)."""
    for name, sweep in config.get("sweeps", {}).items():
        for point in sweeps.sweep_points(config, name):
            if (set(point.values) <= {"experiment", "train_size"} and point.values.get("train_size") == size
                    and point.values.get("experiment", sweep["base"]) == experiment):
                return point.name
    raise ConfigError(f"no sweep trains {experiment!r} on {size} training reviews: add {size} to the train_size of a "
                      f"learning-curve sweep that has {experiment!r} (data_size, learning_curves)")


def sweep_table(metrics: pd.DataFrame, config: dict) -> pd.DataFrame:
    rows = []
    entries = sweeps.entries(config)
    input_dim = config["data"]["imdb"]["num_words"]
    for name, sweep in config.get("sweeps", {}).items():
        protocol = sweep["protocol"]
        ratio_rows = metrics[(metrics.protocol == protocol) & metrics.experiment.isin(list(config["experiments"]))]
        kind = config["protocols"][protocol]["kind"]
        ratio = None
        if kind in ("kfold", "grouped_kfold") and len(ratio_rows):
            ratio_rows = ratio_rows.drop_duplicates(["experiment", *RUN])
            ratio = float((ratio_rows.validation_size / ratio_rows.train_size).mean())
        curve = sweeps.curve(config, name)
        included = set(sweep.get("include", []))
        present = [(e, v) for e, v in curve if ((metrics.experiment == e) & (metrics.protocol == protocol)).any()]
        # the runs every point has: the first repeat where the points train only that
        # each point's validation curve over all its runs (diverged ones left out), pivoted once
        full = {e: curves(metrics, e, protocol, "validation", "data_loss") for e, _ in present}
        common = set.intersection(*(set(v.index) for v in full.values())) if full else set()
        for experiment, values in present:
            val = full[experiment]
            val = val.loc[[i for i in val.index if i in common]]
            train = curves(metrics, experiment, protocol, "train", "data_loss").reindex(val.index)
            keras_val = curves(metrics, experiment, protocol, "validation", "loss").reindex(val.index)
            train_acc = curves(metrics, experiment, protocol, "train", "acc").reindex(val.index)
            val_acc = curves(metrics, experiment, protocol, "validation", "acc").reindex(val.index)
            has_acc = len(val) and len(train_acc.columns) and len(val_acc.columns)
            fitted = train_acc.ge(FIT)
            to_fit = np.where(fitted.any(axis=1), fitted.idxmax(axis=1), train_acc.columns.max() + 1) if has_acc else []
            rows_of = metrics[(metrics.experiment == experiment) & (metrics.protocol == protocol)]
            all_runs = rows_of.groupby(RUN).ngroups if len(rows_of) else 0
            kept = rows_of[[tuple(k) in common for k in rows_of[RUN].itertuples(index=False)]]
            best = val.min(axis=1)
            interval = stats.t_interval(best, validation_train_ratio=ratio)
            last = (stats.t_interval(val.iloc[:, -1], validation_train_ratio=ratio, bounds=(0.0, np.inf), transform=False)
                    if len(val) else None)  # a loss: cut at 0
            row = {"sweep": name, "experiment": experiment, "included": experiment in included,
                   **{column: values.get(a, np.nan) for a, column in AXIS_COLUMNS.items()},
                   "parameters": parameter_count(entries[experiment]["hidden"], input_dim),
                   "train_reviews": float(kept.train_size.mean()) if len(kept) else np.nan,
                   "runs": len(val), "best_loss": interval.value, "best_low": interval.low, "best_high": interval.high,
                   "best_epoch": float(val.idxmin(axis=1).mean()) if len(val) else np.nan,
                   "last_loss": float(val.iloc[:, -1].mean()) if len(val) else np.nan,
                   "last_low": last.low if last else np.nan, "last_high": last.high if last else np.nan,
                   "rise_after_best": float((val.iloc[:, -1] - best).mean()) if len(val) else np.nan,
                   "gap_at_last_epoch": float((val.iloc[:, -1] - train.iloc[:, -1]).mean()) if len(val) else np.nan,
                   "penalty_at_last_epoch": float((keras_val.iloc[:, -1] - val.iloc[:, -1]).mean()) if len(val) else np.nan,
                   "last_train_acc": float(train_acc.iloc[:, -1].mean()) if has_acc else np.nan,
                   "last_val_acc": float(val_acc.iloc[:, -1].mean()) if has_acc else np.nan,
                   "epochs_to_fit": float(np.mean(to_fit)) if has_acc else np.nan,
                   "diverged": all_runs - len(full[experiment])}
            rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.drop(columns=[c for c in AXIS_COLUMNS.values() if table[c].isna().all()])
