"""Section 4.5 on imbalanced data as it is worked on: a decision threshold tuned on validation data, precision–recall
curves, and a class-weighted loss against the plain one. Free of JAX.

The book names precision and recall as the measures of success for imbalanced classes; Keras' metrics read them
at a fixed threshold of 0.5, which nobody who works on a rare class keeps. Here every model's out-of-fold
predictions (each fold's validation rows scored by the model trained on the other folds' rows) are
**cross-fitted**: the threshold a run is scored at is the one that maximizes F1 on the *other* folds' predictions
of the same seed, so no run is scored at a threshold chosen on its own rows, and the gain of tuning could come out
negative. Average precision (the area under the precision–recall curve, scikit-learn's step-wise sum) needs no
threshold at all.

The predictions table: task, model ("net", "logistic regression"), loss ("plain", "class-weighted"), fold, seed,
row (the training split's row), label (0/1) and p (the predicted probability of "positive").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT = 0.5  # Keras' threshold for precision and recall (keras.metrics.Precision())
MODELS = ("net", "logistic regression")
LOSSES = ("plain", "class-weighted")
MEASURES = ("f1", "precision", "recall")
# per-run scores: at the default and at the cross-fitted threshold, and the average precision
SCORES = ("f1_default", "f1_tuned", "precision_default", "recall_default", "precision_tuned", "recall_tuned",
          "average_precision", "threshold")


def balanced_weights(labels: np.ndarray) -> tuple[float, float]:
    """(negative, positive) class weights n / (2 n_class): scikit-learn's ``class_weight="balanced"``, each class
    weighing as much as the other in the loss."""
    labels = np.asarray(labels)
    n, positives = len(labels), int(labels.sum())
    if positives in (0, n):
        raise ValueError(f"class weights need both classes; these {n} rows have {positives} positive")
    return n / (2.0 * (n - positives)), n / (2.0 * positives)


def at_threshold(p: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall and F1 predicting "positive" where p ≥ threshold; none predicted (or none true) gives 0."""
    predicted, true = np.asarray(p) >= threshold, np.asarray(labels).astype(bool)
    tp, fp, fn = int(np.sum(predicted & true)), int(np.sum(predicted & ~true)), int(np.sum(~predicted & true))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": precision, "recall": recall, "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0}


def best_threshold(p: np.ndarray, labels: np.ndarray) -> float:
    """The threshold of highest F1 on these rows (the lowest such where several tie): one of the predictions."""
    from sklearn.metrics import precision_recall_curve  # here: the claims read DEFAULT without loading scikit-learn

    precision, recall, thresholds = precision_recall_curve(labels, p)
    # the last point (recall 0, precision 1) has no threshold
    precision, recall = precision[:-1], recall[:-1]
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    return float(thresholds[int(np.argmax(f1))])


def run_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, model, loss, fold, seed): SCORES, the threshold cross-fitted on the other folds."""
    from sklearn.metrics import average_precision_score

    rows = []
    for (task, model, loss, seed), runs in predictions.groupby(["task", "model", "loss", "seed"], sort=False):
        folds = sorted(runs.fold.unique())
        if len(folds) < 2:
            raise ValueError(f"{task} {model} {loss}: cross-fitting a threshold needs two folds or more, "
                             f"got {len(folds)}")
        for fold in folds:
            mine, others = runs[runs.fold == fold], runs[runs.fold != fold]
            p, labels = mine.p.to_numpy(), mine.label.to_numpy()
            threshold = best_threshold(others.p.to_numpy(), others.label.to_numpy())
            default, tuned = at_threshold(p, labels, DEFAULT), at_threshold(p, labels, threshold)
            rows.append({"task": task, "model": model, "loss": loss, "fold": fold, "seed": seed,
                         **{f"{m}_default": default[m] for m in MEASURES}, **{f"{m}_tuned": tuned[m] for m in MEASURES},
                         "average_precision": float(average_precision_score(labels, p)) if labels.any() else np.nan,
                         "threshold": threshold, "rows": len(mine), "positives": int(labels.sum())})
    return pd.DataFrame(rows)


def curve(predictions: pd.DataFrame, points: int = 201) -> pd.DataFrame:
    """A run set's precision–recall curve over its pooled out-of-fold predictions, per seed, at ``points`` recall
    levels (the highest precision at recall ≥ each level: the curve's upper envelope, as it is drawn)."""
    from sklearn.metrics import precision_recall_curve

    out = []
    levels = np.linspace(0.0, 1.0, points)
    for seed, rows in predictions.groupby("seed", sort=True):
        precision, recall, _ = precision_recall_curve(rows.label, rows.p)
        # the best precision reachable at recall ≥ r: a running maximum from the high-recall end
        order = np.argsort(recall)
        envelope = np.maximum.accumulate(precision[order][::-1])[::-1]
        at = np.searchsorted(recall[order], levels, side="left")
        keep = at < len(order)
        out.append(pd.DataFrame({"seed": seed, "recall": levels[keep], "precision": envelope[at[keep]]}))
    return pd.concat(out, ignore_index=True)


def figure_table(predictions: pd.DataFrame, scores: pd.DataFrame, points: int = 201) -> pd.DataFrame:
    """What the figure draws, per (task, model, loss): its precision–recall curve per seed ("curve", ``curve``), and
    the mean over runs of precision and recall at 0.5 ("default") and at the cross-fitted thresholds ("tuned")."""
    tables = []
    for (task, model, loss), rows in predictions.groupby(["task", "model", "loss"], sort=False):
        tables.append(curve(rows, points).assign(task=task, model=model, loss=loss, point="curve"))
        mine = scores[(scores.task == task) & (scores.model == model) & (scores.loss == loss)]
        for at in ("default", "tuned"):
            tables.append(pd.DataFrame({"task": [task], "model": [model], "loss": [loss], "point": [at], "seed": [-1],
                                        "recall": [mine[f"recall_{at}"].mean()],
                                        "precision": [mine[f"precision_{at}"].mean()],
                                        "average_precision": [mine.average_precision.mean()]}))
    return pd.concat(tables, ignore_index=True)[["task", "model", "loss", "point", "seed", "recall", "precision",
                                                 "average_precision"]]
