"""Split builders: which rows each model trains and validates on, for each evaluation protocol.

Rows index the prepared splits (``train``: 25,000 training reviews in
Keras' shuffled order; ``test``: the 25,000 test reviews).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from overfit.errors import ConfigError
from overfit.seeds import stable_seed


@dataclass(frozen=True)
class Fold:
    repeat: int
    fold: int
    train_rows: np.ndarray
    validation_split: str  # the prepared split the validation rows index
    validation_rows: np.ndarray


def test_as_validation(n_train: int, n_test: int) -> list[Fold]:
    """1st edition 4.4: train on all training reviews, validate on the test set."""
    return [Fold(0, 0, np.arange(n_train), "test", np.arange(n_test))]


def holdout_first(n_train: int, validation_size: int) -> list[Fold]:
    """1st edition 3.5: validate on the first ``validation_size`` training reviews."""
    _check_size(validation_size, n_train)
    return [Fold(0, 0, np.arange(validation_size, n_train), "train", np.arange(validation_size))]


def validation_split_last(n_train: int, fraction: float) -> list[Fold]:
    """2nd edition ``validation_split``: Keras validates on the *last* fraction, taken before shuffling."""
    split_at = int(n_train * (1.0 - fraction))
    _check_size(n_train - split_at, n_train)
    return [Fold(0, 0, np.arange(split_at), "train", np.arange(split_at, n_train))]


def kfold_splits(n_train: int, folds: int, repeats: int, seed: int) -> list[Fold]:
    """K-fold, iterated ``repeats`` times.

    Repeat 0 is the book's plain K-fold: K consecutive partitions of the
    (already shuffled) training reviews. Each further repeat reshuffles
    before partitioning: the iterated K-fold with shuffling of section 4.2.
    """
    if folds > n_train:
        raise ConfigError(f"a K-fold of {folds} folds needs at least {folds} training reviews; there are {n_train}: "
                          "lower the protocol's folds")
    out = []
    for repeat in range(repeats):
        splitter = KFold(folds) if repeat == 0 else KFold(folds, shuffle=True, random_state=stable_seed(seed, "kfold", repeat))
        for fold, (train, validation) in enumerate(splitter.split(np.zeros(n_train))):
            out.append(Fold(repeat, fold, train, "train", validation))
    return out


def grouped_kfold_splits(groups: np.ndarray, folds: int, repeats: int, seed: int) -> list[Fold]:
    """K-fold with all reviews of a movie on the same side, so validation never sees a training movie."""
    movies = len(np.unique(groups))
    if folds > movies:
        raise ConfigError(f"a grouped K-fold of {folds} folds needs at least {folds} movies; the training reviews have "
                          f"{movies}: lower the protocol's folds")
    out = []
    for repeat in range(repeats):
        splitter = GroupKFold(folds, shuffle=True, random_state=stable_seed(seed, "grouped_kfold", repeat))
        for fold, (train, validation) in enumerate(splitter.split(np.zeros(len(groups)), groups=groups)):
            out.append(Fold(repeat, fold, train, "train", validation))
    return out


def build_folds(protocol: dict, n_train: int, n_test: int, movie_ids: np.ndarray, seed: int) -> list[Fold]:
    kind = protocol["kind"]
    if kind == "test_as_validation":
        return test_as_validation(n_train, n_test)
    if kind == "holdout":
        return holdout_first(n_train, protocol["validation_size"])
    if kind == "validation_split":
        return validation_split_last(n_train, protocol["fraction"])
    if kind == "kfold":
        return kfold_splits(n_train, protocol["folds"], protocol.get("repeats", 1), seed)
    if kind == "grouped_kfold":
        return grouped_kfold_splits(movie_ids, protocol["folds"], protocol.get("repeats", 1), seed)
    raise ConfigError(f"unknown protocol kind {kind!r}")


def _check_size(size: int, n_train: int) -> None:
    if not 0 < size < n_train:
        raise ConfigError(f"a validation set of {size} reviews does not fit {n_train} training reviews")
