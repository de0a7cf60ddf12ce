"""The book's table of last-layer activations and losses (4.5.5) as data: per problem type, our data and target,
the recommended pairing and a common wrong one, and the measures it is judged by. Free of JAX.

============  ====================================  ============================  ===============================
problem       our data and target                   recommended                   wrong pairing
============  ====================================  ============================  ===============================
binary        IMDB: positive review?                sigmoid, binary crossentropy  softmax of one unit, categorical
                                                                                  crossentropy (its output is 1
                                                                                  whatever the input: no gradient)
multi-class   Fashion-MNIST: which of 10 garments   softmax, categorical          sigmoid per class, binary
                                                    crossentropy                  crossentropy (the multi-label
                                                                                  pairing: scores that need not
                                                                                  sum to 1)
multi-label   IMDB: the rating thresholds a review  sigmoid per label, binary     softmax, categorical
              passes (≥ 2, 3, 4, 7, 8, 9, 10 stars)  crossentropy                  crossentropy (labels compete:
                                                                                  a 9-star review has six true)
regression    IMDB: the star rating (1–4, 7–10)     no activation, mean squared   sigmoid, mean squared error
                                                    error                         (outputs stuck in (0, 1))
============  ====================================  ============================  ===============================

The multi-label target: IMDB has no tags, but its star ratings give each
review several true labels at once, which is what multi-label means (the
"rating ≥ k" encoding of an ordinal target); ``≥ 7`` is the sentiment label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLDS = (2, 3, 4, 7, 8, 9, 10)  # the multi-label target: rating ≥ k


@dataclass(frozen=True)
class Pairing:
    activation: str  # "sigmoid", "softmax" or "linear"
    loss: str  # "binary_crossentropy", "categorical_crossentropy" or "mse"

    @property
    def name(self) -> str:
        return f"{self.activation} + {self.loss.replace('_', ' ')}"


# problem -> (data, outputs, recommended, wrong, the measure it is judged by)
PROBLEMS = {
    "binary": ("imdb", 1, Pairing("sigmoid", "binary_crossentropy"), Pairing("softmax", "categorical_crossentropy"), "acc"),
    "multi-class": ("fashion_mnist", 10, Pairing("softmax", "categorical_crossentropy"),
                    Pairing("sigmoid", "binary_crossentropy"), "acc"),
    "multi-label": ("imdb", len(THRESHOLDS), Pairing("sigmoid", "binary_crossentropy"),
                    Pairing("softmax", "categorical_crossentropy"), "label_acc"),
    "regression": ("imdb", 1, Pairing("linear", "mse"), Pairing("sigmoid", "mse"), "mae"),
}
MEASURES = {"acc": "accuracy", "label_acc": "per-label accuracy", "exact_match": "all labels right",
            "mae": "mean absolute error (stars)", "probability_sum": "mean sum of the output scores", "auc": "ROC AUC"}


def targets(problem: str, labels: np.ndarray, ratings: np.ndarray | None = None) -> np.ndarray:
    """(rows, outputs) float32 targets of a problem: one-hot classes, 0/1 labels, or the rating itself."""
    if problem == "binary":
        return labels.astype(np.float32)[:, None]
    if problem == "multi-class":
        return np.eye(10, dtype=np.float32)[labels]
    if problem == "multi-label":
        return (ratings[:, None] >= np.array(THRESHOLDS)).astype(np.float32)
    if problem == "regression":
        return ratings.astype(np.float32)[:, None]
    raise ValueError(f"no problem {problem!r} (have: {', '.join(PROBLEMS)})")


