"""Step 3 of the recipe: the baselines a model must beat (4.5.5, "statistical power").

- chance: a score drawn uniformly at random for each validation row;
- the majority class of the fold's training rows, predicted for every row;
- logistic regression on the same multi-hot vectors, by scikit-learn: a
  well-kept solver (L-BFGS, its default L2 strength C = 1) that reaches the
  model's optimum, so the baseline is the best a linear model of the words
  does, not what our optimizer makes of one. A neural candidate must beat
  it to show that its hidden layers buy anything.

Each is scored on each fold's validation rows with the measures the engine
keeps (``overfit.measures``). Free of JAX.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse as sp
from sklearn.linear_model import LogisticRegression

from overfit.data.imdb import SparseReviews
from overfit.measures import scores
from overfit.protocols import Fold
from overfit.seeds import stable_seed

NAMES = ("chance", "majority class", "logistic regression")


def multi_hot(reviews: SparseReviews, num_words: int) -> sp.csr_matrix:
    ones = np.ones(len(reviews.ids), np.float32)
    return sp.csr_matrix((ones, reviews.ids.astype(np.int32), reviews.offsets), shape=(len(reviews), num_words))


def probabilities(name: str, train_x, train_y: np.ndarray, validation_x, seed: int,
                  class_weight: tuple[float, float] | None = None) -> np.ndarray:
    """A baseline's predicted probability of "positive" for each validation row (``class_weight``: logistic
    regression's loss weighted by class, (negative, positive))."""
    n = validation_x.shape[0]
    if name == "chance":
        return np.random.default_rng(seed).random(n)
    if name == "majority class":
        return np.full(n, float(train_y.mean() > 0.5))
    if name == "logistic regression":
        if len(np.unique(train_y)) < 2:  # a fold that trains on one class: the model can only predict it
            return np.full(n, float(train_y[0]))
        model = LogisticRegression(max_iter=1000, class_weight=None if class_weight is None else dict(enumerate(class_weight)))
        return model.fit(train_x, train_y).predict_proba(validation_x)[:, 1]
    raise ValueError(f"no baseline {name!r} (have: {', '.join(NAMES)})")


def baselines(task: str, train: SparseReviews, folds: list[Fold], num_words: int, seed: int) -> pd.DataFrame:
    """One row per baseline and fold: its validation scores."""
    x, y = multi_hot(train, num_words), train.label.astype(np.int64)
    rows = []
    for fold in folds:
        for name in NAMES:
            p = probabilities(name, x[fold.train_rows], y[fold.train_rows], x[fold.validation_rows],
                              stable_seed(seed, "recipe", "chance", task, fold.fold))
            rows.append({"task": task, "step": "baselines", "candidate": name, "fold": fold.fold,
                         **scores(p, y[fold.validation_rows])})
    return pd.DataFrame(rows)


def on_test(task: str, train: SparseReviews, rows: np.ndarray, test: SparseReviews, test_rows: np.ndarray,
            num_words: int, seed: int) -> pd.DataFrame:
    """Step 7's reference: each baseline fitted on every training row of the task, scored once on its test rows."""
    x, y = multi_hot(train, num_words)[rows], train.label[rows].astype(np.int64)
    x_test, y_test = multi_hot(test, num_words)[test_rows], test.label[test_rows]
    return pd.DataFrame([{"task": task, "step": "final", "candidate": name, "seeds": 1,
                          **scores(probabilities(name, x, y, x_test, stable_seed(seed, "recipe", "chance", task, "test")),
                                   y_test)} for name in NAMES])
