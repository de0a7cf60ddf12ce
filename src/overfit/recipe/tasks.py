"""The recipe's tasks and its first two steps: define the problem and its measure of success, choose a protocol.

Free of JAX. A task is IMDB as it is, or a deterministic draw of it with a
given share of positive reviews (every negative kept, positives drawn down,
in each split alike): rows of the prepared splits, so the engine reads them
as any protocol's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit.errors import ConfigError
from overfit.protocols import Fold, grouped_kfold_splits, kfold_splits
from overfit.seeds import stable_seed

STEPS = ("problem", "protocol", "baselines", "power", "scale_up", "tune", "final")
# the book's measures of success (4.5.2): what each kind of balance gets, and the number candidates are ranked by
METRICS = {
    "balanced": ("accuracy and ROC AUC", "acc"),
    "imbalanced": ("precision and recall", "f1"),
}


def task_rows(labels: np.ndarray, positive_share: float | None, seed: int, task: str, split: str) -> np.ndarray:
    """The rows of a split that make up the task: all of them, or every negative and positives drawn down."""
    if positive_share is None:
        return np.arange(len(labels))
    negatives, positives = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    wanted = int(round(positive_share / (1.0 - positive_share) * len(negatives)))
    if not 0 < wanted <= len(positives):
        raise ConfigError(f"recipe task {task!r}: a positive_share of {positive_share} needs {wanted} positive reviews "
                          f"beside the {len(negatives)} negative ones of the {split} split, which has {len(positives)}: "
                          "use a share between 0 and 0.5")
    drawn = np.random.default_rng(stable_seed(seed, "recipe", task, split)).choice(positives, wanted, replace=False)
    return np.sort(np.concatenate([negatives, drawn]))


def _row(task: str, step: str, candidate: str, chosen: bool, reason: str, **evidence) -> dict:
    return {"task": task, "step": step, "candidate": candidate, "chosen": bool(chosen), "reason": reason, **evidence}


def problem(task: str, labels: np.ndarray, balanced_from: float) -> pd.DataFrame:
    """Step 1: what is predicted from what, and the measure of success its class balance calls for."""
    classes = np.unique(labels)
    if not set(classes.tolist()) <= {0, 1}:
        raise ConfigError(f"recipe task {task!r}: labels {classes.tolist()} are not binary; the recipe runs on IMDB's "
                          "positive / negative labels")
    share = float(labels.mean())
    minority = min(share, 1.0 - share)
    balance = "balanced" if minority >= balanced_from else "imbalanced"
    evidence = {"rows": len(labels), "positive_share": share, "minority_share": minority}
    advice = {"balanced": "accuracy and ROC AUC for balanced classes", "imbalanced": "precision and recall for imbalanced ones"}
    rows = []
    for kind, (measures, primary) in METRICS.items():
        reason = (f"binary classification (a review's words -> positive?); the rarer class is {minority:.1%} of the "
                  f"training rows, {balance} (balanced from {balanced_from:.0%}); the book: {advice[kind]}")
        if kind == balance:
            reason += f"; candidates are ranked by {primary}"
        rows.append(_row(task, "problem", measures, kind == balance, reason, primary=primary, **evidence))
    return pd.DataFrame(rows)


def primary_metric(problem_table: pd.DataFrame) -> str:
    """The number step 1 chose to rank candidates by (acc, or f1 of precision and recall)."""
    return str(chosen(problem_table).primary)


def chosen(table: pd.DataFrame) -> pd.Series:
    """The decision of a step's table: its one chosen row."""
    rows = table[table.chosen.astype(bool)]
    if len(rows) != 1:
        raise ValueError(f"a step's table has {len(rows)} chosen rows; it must have one")
    return rows.iloc[0]


def protocol(task: str, rows: np.ndarray, movies: np.ndarray, holdout_from: int, folds: int,
             seed: int) -> tuple[pd.DataFrame, list[Fold]]:
    """Step 2: hold-out with plenty of data, K-fold with less (4.5.3); grouped by movie when reviews share one.

    ``rows``: the task's training rows; ``movies``: their movie ids. Returns the
    decision table and the chosen protocol's folds (rows of the training split).
    """
    n = len(rows)
    _, inverse, counts = np.unique(movies, return_inverse=True, return_counts=True)
    shared = float((counts[inverse] > 1).mean())
    plenty, grouped = n >= holdout_from, shared > 0
    evidence = {"rows": n, "movies": len(counts), "rows_sharing_a_movie": shared}
    choice = "hold-out" if plenty else "grouped K-fold" if grouped else "K-fold"
    size = f"{n:,} training rows ({'>=' if plenty else '<'} {holdout_from:,})"
    movie = f"{shared:.0%} of them share their movie with another review"
    reasons = {
        "hold-out": f"{size}: {'enough' if plenty else 'too few'} for one hold-out to be reliable",
        "K-fold": f"{size}; but {movie}, and a random fold would validate on movies it trained on (the movie leak)"
                  if grouped else f"{size}: K = {folds} folds",
        "grouped K-fold": f"{size}: K = {folds} folds, every movie's reviews on one side ({movie})",
        "iterated K-fold": "for very little data; K-fold already bounds the spread here",
    }
    table = pd.DataFrame([_row(task, "protocol", name, name == choice, reason, folds=folds if "K-fold" in name else 0,
                               **evidence) for name, reason in reasons.items()])
    split_seed = stable_seed(seed, "recipe", task)
    local = grouped_kfold_splits(movies, folds, 1, split_seed) if grouped else kfold_splits(n, folds, 1, split_seed)
    if choice == "hold-out":  # one fold of the same split: a hold-out of 1 / folds of the rows
        local = local[:1]
    return table, [Fold(0, f.fold, rows[f.train_rows], "train", rows[f.validation_rows]) for f in local]


def validation_train_ratio(folds: list[Fold]) -> float | None:
    """n_validation / n_training of K-fold folds (the corrected interval's term); None for one hold-out."""
    if len(folds) < 2:
        return None
    return float(np.mean([len(f.validation_rows) / len(f.train_rows) for f in folds]))
