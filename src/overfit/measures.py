"""Measures of success computed from predictions, in NumPy: what the engine's metrics compute in training.

The engine keeps its metrics as sums over batches (``overfit.engine.metrics``,
Keras' stateful metrics); the baselines of the universal workflow, which are
not trained by the engine, and the tests score predicted probabilities here,
with the same definitions. Free of JAX.
"""

from __future__ import annotations

import numpy as np

NUM_THRESHOLDS = 200
_EPSILON = 1e-7
# keras.metrics.AUC()'s thresholds: 0 − ε, 1/199 … 198/199, 1 + ε
THRESHOLDS = np.array([-_EPSILON, *(i / (NUM_THRESHOLDS - 1) for i in range(1, NUM_THRESHOLDS - 1)), 1.0 + _EPSILON],
                      np.float32)


def keras_auc(probabilities, labels) -> float:
    """ROC AUC as ``keras.metrics.AUC()``: rates at the 200 thresholds, the curve summed by the trapezoidal rule."""
    labels = np.asarray(labels, bool)
    above = np.asarray(probabilities, np.float32)[:, None] > THRESHOLDS
    tpr = above[labels].sum(0) / max(labels.sum(), 1)
    fpr = above[~labels].sum(0) / max((~labels).sum(), 1)
    return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2.0))


def f1(precision, recall):
    """The harmonic mean of precision and recall (0 where both are 0)."""
    precision, recall = np.asarray(precision, float), np.asarray(recall, float)
    total = precision + recall
    return np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1.0), 0.0)


def scores(probabilities, labels) -> dict[str, float]:
    """Accuracy, ROC AUC, precision, recall (Keras' threshold 0.5; no predicted positive: 0) and F1."""
    labels = np.asarray(labels, bool)
    predicted = np.asarray(probabilities) > 0.5
    hits = float((predicted & labels).sum())
    precision = hits / predicted.sum() if predicted.any() else 0.0
    recall = hits / labels.sum() if labels.any() else 0.0
    return {"acc": float((predicted == labels).mean()), "auc": keras_auc(probabilities, labels),
            "precision": precision, "recall": recall, "f1": float(f1(precision, recall))}
