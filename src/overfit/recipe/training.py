"""The recipe's candidates trained by the engine: on the folds of step 2, or on every training row for the final test.

Every candidate of a step trains as one stack (the engine shares each
step's batches among them) with the same initialisation and shuffle seeds
per fold, so its comparisons are paired. Returns the engine's tidy rows,
labeled by candidate (``experiment``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from overfit import experiments
from overfit.data.imdb import SparseReviews
from overfit.engine.train import Run, train_stack
from overfit.protocols import Fold
from overfit.seeds import stable_seed


def _runs(config: dict, task: str, folds: list[Fold], seeds: int = 1, **settings) -> list[Run]:
    seed = config["seed"]
    return [Run(f"recipe_{task}", fold, s, init_seed=stable_seed(seed, "recipe", "init", task, fold.fold, s),
                shuffle_seed=stable_seed(seed, "recipe", "shuffle", task, fold.fold, s), **settings)
            for fold in folds for s in range(seeds)]


def train(config: dict, task: str, entries: dict[str, dict], folds: list[Fold], splits: dict[str, SparseReviews],
          epochs: int, seeds: int = 1, **run_settings) -> pd.DataFrame:
    """Train every entry (name -> experiment entry) on every fold for ``epochs``; tidy rows with an experiment column."""
    specs = [experiments.experiment(config, name, entry) for name, entry in entries.items()]
    training = dataclasses.replace(specs[0].training, epochs=epochs)
    runs = _runs(config, task, folds, seeds, **run_settings)
    tables = train_stack(tuple(s.model for s in specs), runs, training, splits, names=tuple(entries))
    return pd.DataFrame([{"experiment": name, **row} for name, rows in zip(entries, tables) for row in rows])


def predict(config: dict, task: str, entry: dict, folds: list[Fold], splits: dict[str, SparseReviews], epochs: int,
            seeds: int, class_weight: tuple[float, float] | None = None) -> list[tuple[Fold, int, np.ndarray]]:
    """One entry trained ``epochs`` on every fold and seed (the runs ``train`` draws, scored after the last epoch
    only), optionally with Keras' class-weighted loss: per run, (fold, seed, its validation rows' probabilities)."""
    spec = experiments.experiment(config, "candidate", entry)
    training = dataclasses.replace(spec.training, epochs=epochs, class_weight=class_weight)
    runs = _runs(config, task, folds, seeds, evaluate_every_epoch=False)
    predictions: list = []
    train_stack((spec.model,), runs, training, splits, names=("candidate",), predictions=predictions)
    return [(run.fold, run.seed, p[:, 0]) for run, p in zip(runs, predictions)]


def final_fold(train_rows, test_rows) -> Fold:
    """Every training row of the task, scored on its test rows."""
    return Fold(0, 0, train_rows, "test", test_rows)
