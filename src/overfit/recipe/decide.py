"""Steps 4 to 7 of the recipe decided from training curves: power, scaling up, tuning, the final test. Free of JAX.

Every candidate is scored as the book's final fits are chosen: at the epoch
where its validation loss, averaged over the folds, is lowest; there each
fold gives one score (the step 1 metric: accuracy, or F1 of precision and
recall). Comparisons are paired on the folds and their intervals are the
claims table's: the corrected resampled t over the folds
(``overfit.stats.t_interval``), which allows for the folds' overlapping
training sets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit import stats
from overfit.measures import f1

SCORES = ("acc", "auc", "precision", "recall", "f1")


def name_of(hidden) -> str:
    """A candidate named by its hidden widths: "16-16"."""
    return "-".join(str(int(h)) for h in hidden)


def _wide(curves: pd.DataFrame, split: str) -> pd.DataFrame:
    """(experiment, fold, seed, epoch) × metric, with F1 from each run's precision and recall."""
    rows = curves[curves.split == split]
    table = rows.pivot_table(index=["experiment", "fold", "seed", "epoch"], columns="metric", values="value")
    table["f1"] = f1(table["precision"], table["recall"])
    return table


def fold_scores(curves: pd.DataFrame) -> pd.DataFrame:
    """Each experiment's validation scores per fold at its epoch of lowest mean validation loss."""
    validation = _wide(curves, "validation")
    out = []
    for name, table in validation.groupby(level="experiment", sort=False):
        mean_loss = table["loss"].groupby(level="epoch").mean()
        epoch = int(mean_loss.idxmin())
        at = table.xs(epoch, level="epoch").reset_index()
        at["epoch"] = epoch
        out.append(at)
    return pd.concat(out, ignore_index=True)


def _interval(values, ratio):
    interval = stats.t_interval(values, validation_train_ratio=ratio)
    return {"low": interval.low, "high": interval.high, "interval": interval.method}


def best_baseline(baselines: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Step 3's table with the decision: the baseline with the best mean score is the one to beat."""
    means = baselines.groupby("candidate", sort=False)[primary].mean()
    best = means.idxmax()
    table = baselines.copy()
    table["chosen"] = table.candidate == best
    table["reason"] = [f"mean validation {primary} {means[c]:.4f}" + (" (the best: the one to beat)" if c == best else "")
                       for c in table.candidate]
    return table


def power(task: str, curves: pd.DataFrame, baselines: pd.DataFrame, order: list[str], primary: str,
          ratio: float | None, parameters: dict[str, int]) -> pd.DataFrame:
    """Step 4: the smallest candidate whose score beats the best baseline's by more than its uncertainty."""
    best = baselines[baselines.chosen.astype(bool)].set_index("fold")[primary]
    baseline_name = baselines[baselines.chosen.astype(bool)].candidate.iloc[0]
    scores = fold_scores(curves)
    rows = []
    for name in order:
        mine = scores[scores.experiment == name].set_index("fold")
        difference = mine[primary] - best.reindex(mine.index)
        interval = _interval(difference, ratio)
        rows.append({"task": task, "step": "power", "candidate": name, "parameters": parameters[name],
                     "epoch": int(mine.epoch.iloc[0]), "loss": float(mine["loss"].mean()),
                     **{s: float(mine[s].mean()) for s in SCORES}, "baseline": baseline_name,
                     "baseline_score": float(best.mean()), "difference": float(difference.mean()), **interval,
                     "beats": bool(interval["low"] > 0)})
    table = pd.DataFrame(rows)
    beating = table[table.beats]
    if len(beating):
        pick = beating.index[0]
        reason = (f"the smallest candidate whose validation {primary} beats {baseline_name} by more than its "
                  f"uncertainty: {table.difference[pick]:+.4f} [{table.low[pick]:+.4f}, {table.high[pick]:+.4f}]")
    else:
        pick = int(table[primary].idxmax())
        reason = (f"no candidate beats {baseline_name} by more than its uncertainty (the best: "
                  f"{table.difference[pick]:+.4f} [{table.low[pick]:+.4f}, {table.high[pick]:+.4f}]); the recipe "
                  f"goes on with the best-scoring candidate")
    table["chosen"] = table.index == pick
    table["reason"] = np.where(table.chosen, reason, "")
    return table


def rises(curves: pd.DataFrame, name: str) -> tuple[pd.Series, int, int]:
    """A candidate's overfitting, run by run: its validation loss at the last epoch minus at the epoch where the
    mean over runs is lowest, per (fold, seed); with that epoch and the last."""
    return _rises(_validation_loss(_wide(curves, "validation"), name))


def _validation_loss(validation: pd.DataFrame, name: str) -> pd.DataFrame:
    return validation.loc[name]["loss"].unstack("epoch")  # (fold, seed) × epoch


def _rises(val: pd.DataFrame) -> tuple[pd.Series, int, int]:
    mean = val.mean()
    best, last = int(mean.idxmin()), int(mean.index.max())
    return val[last] - val[best], best, last


def ratio_of(curves: pd.DataFrame) -> float | None:
    """n_validation / n_training of the folds the curves were trained on (the corrected interval's term)."""
    sizes = curves.drop_duplicates("fold")
    return float((sizes.validation_size / sizes.train_size).mean()) if len(sizes) > 1 else None


def scale_up(task: str, curves: pd.DataFrame, order: list[str], ratio: float | None,
             parameters: dict[str, int], powered: str | None = None) -> pd.DataFrame:
    """Step 5: every rung of the ladder judged, and the first rung at least as large as step 4's model
    (``powered``) whose validation loss rises from its lowest epoch while its training loss still falls. The
    rungs below it show where overfitting starts."""
    validation, train = _wide(curves, "validation"), _wide(curves, "train")
    rows = []
    for name in order:
        val = _validation_loss(validation, name)
        rise_per_run, best, last = _rises(val)
        trn = train.loc[name]["loss"].unstack("epoch")
        mean = val.mean()
        rise = _interval(rise_per_run, ratio)
        falling = bool(trn.mean()[last] < trn.mean()[best])
        rows.append({"task": task, "step": "scale_up", "candidate": name, "parameters": parameters[name],
                     "epoch": best, "epochs": last, "loss": float(mean[best]), "last_loss": float(mean[last]),
                     "train_loss": float(trn.mean()[best]), "last_train_loss": float(trn.mean()[last]),
                     "rise": float(rise_per_run.mean()), **rise,
                     "overfits": bool(best < last and rise["low"] > 0 and falling)})
    table = pd.DataFrame(rows)
    floor = parameters.get(powered, 0) if powered else 0
    eligible = table[table.parameters >= floor]
    over = eligible[eligible.overfits]
    first = table[table.overfits]
    start = (f"; overfitting starts at rung {table.candidate[first.index[0]]}" if len(first)
             else "; no rung of the ladder overfits")
    if len(over):
        pick = over.index[0]
        reason = (f"overfits: validation loss lowest at epoch {table.epoch[pick]} ({table.loss[pick]:.4f}), then "
                  f"rises by {table.rise[pick]:.4f} [{table.low[pick]:.4f}, {table.high[pick]:.4f}] to epoch "
                  f"{table.epochs[pick]} while the training loss falls from {table.train_loss[pick]:.4f} to "
                  f"{table.last_train_loss[pick]:.4f}: the capacity to regularize{start}")
    else:
        pick = eligible.index[-1] if len(eligible) else table.index[-1]
        reason = f"none at least as large as step 4's model overfits within {table.epochs[pick]} epochs; the largest carries on{start}"
    table["chosen"] = table.index == pick
    table["reason"] = np.where(table.chosen, reason, "")
    return table


def tune(task: str, curves: pd.DataFrame, settings: dict[str, str], primary: str, ratio: float | None) -> pd.DataFrame:
    """Step 6: the configuration with the best mean validation score at its best epoch (folds only: no test set)."""
    scores = fold_scores(curves)
    rows = []
    for name, description in settings.items():
        mine = scores[scores.experiment == name]
        rows.append({"task": task, "step": "tune", "candidate": name, "settings": description,
                     "epoch": int(mine.epoch.iloc[0]), "loss": float(mine["loss"].mean()),
                     **{s: float(mine[s].mean()) for s in SCORES}, **_interval(mine[primary], ratio)})
    table = pd.DataFrame(rows)
    pick = int(table[primary].idxmax())
    table["chosen"] = table.index == pick
    table["reason"] = np.where(
        table.chosen, f"the best mean validation {primary} of {len(table)} configurations: {table[primary][pick]:.4f} "
                      f"[{table.low[pick]:.4f}, {table.high[pick]:.4f}] at epoch {table.epoch[pick]}", "")
    return table


def final(task: str, curves: pd.DataFrame, names: dict[str, str], primary: str,
          baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Step 7: the tuned model and the book's, each retrained on every training row over seeds, scored once on the test
    set; ``baselines``: the baselines' test scores beside them (``recipe.baselines.on_test``)."""
    test = _wide(curves, "test")
    rows, per_seed = [], {}
    for name, description in names.items():
        mine = test.loc[name]
        mine = mine.xs(mine.index.get_level_values("epoch").max(), level="epoch")
        per_seed[name] = mine[primary].droplevel([n for n in mine.index.names if n != "seed"])
        interval = stats.t_interval(mine[primary])
        rows.append({"task": task, "step": "final", "candidate": name, "settings": description,
                     "seeds": len(mine), "loss": float(mine["loss"].mean()),
                     **{s: float(mine[s].mean()) for s in SCORES}, "low": interval.low, "high": interval.high,
                     "interval": interval.method})
    table = pd.concat([pd.DataFrame(rows), baselines], ignore_index=True) if baselines is not None else pd.DataFrame(rows)
    tuned, book = list(names)
    # the two share their seeds (each seed's batch order): paired, a t over the seeds' differences
    gap = stats.t_interval((per_seed[tuned] - per_seed[book]).dropna(), bounds=(-1.0, 1.0))
    best = ""
    if baselines is not None and len(baselines):
        top = baselines.loc[baselines[primary].idxmax()]
        best = f"; the best baseline, {top.candidate}, {top[primary]:.4f}"
    table["chosen"] = table.candidate == tuned
    table["reason"] = np.where(
        table.chosen, f"evaluated once on the test set: {primary} {table[primary][0]:.4f} against the book's "
                      f"{table[primary][1]:.4f}, a difference of {gap.value:+.4f} [{gap.low:+.4f}, {gap.high:+.4f}] "
                      f"(paired by seed: {gap.method}){best}", "")
    return table
