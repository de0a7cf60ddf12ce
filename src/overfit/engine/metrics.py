"""The measures of success of section 4.5 as Keras computes them: ROC AUC, precision and recall.

Accuracy alone misleads when one class is rare (a model that always says
"negative" is 90% accurate at 10% positives); the book names ROC AUC for
balanced classes and precision and recall for imbalanced ones. Each is kept
as sums over the rows seen (an epoch's training batches, a validation
pass), like Keras' stateful metrics, so that an epoch's training AUC is
what ``model.fit`` would print:

- precision and recall at Keras' default threshold: predicted positive when
  the sigmoid output is above 0.5 (``keras.metrics.Precision()``, ``Recall()``);
  no predicted (or no true) positive gives 0, as Keras' ``divide_no_nan``;
- ROC AUC as ``keras.metrics.AUC()``: true and false positives counted at
  200 thresholds (0 − ε, 1/199 … 198/199, 1 + ε), the curve summed by the
  trapezoidal rule. It differs from the exact rank AUC by the width of a
  threshold bucket at most (tests bound it). ``overfit.measures`` computes the
  same from predictions, in NumPy.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from overfit.measures import NUM_THRESHOLDS

NAMES = ("auc", "precision", "recall")
# the sums one batch contributes per model: true positives, false positives, false negatives at 0.5, positives,
# then the positives' and the negatives' histograms over the threshold buckets
BUCKETS = NUM_THRESHOLDS + 1
WIDTH = 4 + 2 * BUCKETS


def _bucket(p: jax.Array) -> jax.Array:
    """How many of the thresholds (overfit.measures.THRESHOLDS) lie below each probability (0 − ε always, 1 + ε never), by arithmetic: O(rows)."""
    return 1 + jnp.clip(jnp.ceil(p * (NUM_THRESHOLDS - 1)).astype(jnp.int32) - 1, 0, NUM_THRESHOLDS - 2)


def counts(logits: jax.Array, labels: jax.Array, weights: jax.Array) -> jax.Array:
    """(models, WIDTH) sums over the rows of (rows, models) logits, (rows,) 0/1 labels, (rows,) row weights."""
    p = jax.nn.sigmoid(logits)
    models = logits.shape[1]
    positive = jnp.broadcast_to((labels * weights)[:, None], p.shape)
    negative = jnp.broadcast_to(((1.0 - labels) * weights)[:, None], p.shape)
    predicted = (p > 0.5).astype(jnp.float32)
    segments = (jnp.arange(models)[None, :] * BUCKETS + _bucket(p)).ravel()
    # both histograms in one scatter: (models × buckets, 2) → (models, 2 × buckets), positives' first
    both = jax.ops.segment_sum(jnp.stack([positive.ravel(), negative.ravel()], axis=1), segments,
                               num_segments=models * BUCKETS)
    return jnp.concatenate([
        jnp.stack([jnp.sum(predicted * positive, 0), jnp.sum(predicted * negative, 0),
                   jnp.sum((1.0 - predicted) * positive, 0), jnp.sum(positive, 0)], 1),
        both.reshape(models, BUCKETS, 2).transpose(0, 2, 1).reshape(models, 2 * BUCKETS),
    ], axis=1)


def _ratio(a, b):
    return jnp.where(b > 0, a / jnp.where(b > 0, b, 1.0), 0.0)


def scores(sums: jax.Array, rows: jax.Array) -> jax.Array:
    """(models, 3): ROC AUC, precision, recall from ``counts`` summed over batches; ``rows``: the weighted row count."""
    tp, fp, fn, positives = sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3]
    negatives = rows - positives

    def above(histogram):  # rows above threshold j: those in buckets j + 1 and up
        return jnp.cumsum(histogram[:, ::-1], axis=1)[:, ::-1][:, 1:]

    tpr = _ratio(above(sums[:, 4:4 + BUCKETS]), positives[:, None])
    fpr = _ratio(above(sums[:, 4 + BUCKETS:]), negatives[:, None])
    # thresholds ascend, so the rates descend: each step is a trapezoid under the ROC curve
    auc = jnp.sum((fpr[:, :-1] - fpr[:, 1:]) * (tpr[:, :-1] + tpr[:, 1:]) / 2.0, axis=1)
    return jnp.stack([auc, _ratio(tp, tp + fp), _ratio(tp, tp + fn)], axis=1)
