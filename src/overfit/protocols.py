"""Split builders: which rows each model trains and validates on, for each evaluation protocol.

Rows index the prepared splits (``train``: 25,000 training reviews in
Keras' shuffled order; ``test``: the 25,000 test reviews).
"""

from __future__ import annotations

import dataclasses
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from overfit.data import prepared
from overfit.errors import ConfigError, DataError
from overfit.files import atomic_path
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
    from sklearn.model_selection import KFold  # here, not at the top: a training job reads its folds from a file

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
    from sklearn.model_selection import GroupKFold

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


def shuffled_holdout(n_train: int, validation_size: int, repeats: int, seed: int,
                     groups: np.ndarray | None = None) -> list[Fold]:
    """Hold-out redrawn ``repeats`` times: each repeat validates on a fresh random ``validation_size`` reviews.

    With ``groups`` (movie ids) whole movies are held out, in a random order, until at least ``validation_size``
    reviews are: no movie on both sides, as between IMDB's training and test sets.
    """
    _check_size(validation_size, n_train)
    out = []
    for repeat in range(repeats):
        rng = np.random.default_rng(stable_seed(seed, "holdout", validation_size, groups is not None, repeat))
        if groups is None:
            validation = rng.permutation(n_train)[:validation_size]
        else:
            validation = _whole_groups(groups, rng.permutation(np.unique(groups)), validation_size)
        out.append(_split(repeat, 0, n_train, validation))
    return out


def sorted_holdout(labels: np.ndarray, validation_size: int) -> list[Fold]:
    """The pitfall of section 4.2: reviews sorted by label, then the last ``validation_size`` held out, unshuffled.

    The validation rows are then (nearly) all of one class, and the training rows hold few of it.
    """
    _check_size(validation_size, len(labels))
    order = np.argsort(np.asarray(labels), kind="stable")
    return [_split(0, 0, len(labels), order[len(labels) - validation_size:])]


def time_holdout(title_numbers: np.ndarray, validation_size: int) -> list[Fold]:
    """The arrow of time, by proxy: whole movies held out from the highest IMDb title number down (``tt…``, a rough
    order of when a title was added to IMDb) until at least ``validation_size`` reviews are; older titles train."""
    _check_size(validation_size, len(title_numbers))
    return [_split(0, 0, len(title_numbers), _whole_groups(title_numbers, np.unique(title_numbers)[::-1], validation_size))]


def nested_kfold_splits(groups: np.ndarray, folds: int, inner_folds: int, seed: int) -> list[Fold]:
    """The inner folds of a nested K-fold grouped by movie: ``repeat`` names the outer fold (the outer folds are
    those of ``grouped_kfold_splits(groups, folds, 1, seed)``, the first repeat of every grouped K-fold of ``folds``
    folds), ``fold`` the inner fold drawn within its training rows. Tuning on the inner folds leaves each outer
    fold's validation rows unseen until the chosen model is scored on them."""
    from sklearn.model_selection import GroupKFold

    out = []
    for outer in grouped_kfold_splits(groups, folds, 1, seed):
        inner = GroupKFold(inner_folds, shuffle=True, random_state=stable_seed(seed, "nested_kfold", outer.fold))
        for fold, (train, validation) in enumerate(inner.split(outer.train_rows, groups=groups[outer.train_rows])):
            out.append(Fold(outer.fold, fold, outer.train_rows[train], "train", outer.train_rows[validation]))
    return out


def _whole_groups(groups: np.ndarray, order: np.ndarray, size: int) -> np.ndarray:
    """The rows of the groups taken in ``order`` until at least ``size`` rows are taken."""
    counts = dict(zip(*np.unique(groups, return_counts=True)))
    taken = np.cumsum([counts[g] for g in order])
    chosen = order[: int(np.searchsorted(taken, size)) + 1]
    return np.flatnonzero(np.isin(groups, chosen))


def _split(repeat: int, fold: int, n_train: int, validation: np.ndarray) -> Fold:
    mask = np.zeros(n_train, bool)
    mask[validation] = True
    return Fold(repeat, fold, np.flatnonzero(~mask), "train", np.flatnonzero(mask))


def nested_subset(fold: Fold, size: int, seed: int) -> Fold:
    """The fold with ``size`` of its training rows: the first ``size`` of one random order of them, so a smaller
    subset is part of every larger one (a learning curve adds data, it does not redraw it)."""
    if not 0 < size <= len(fold.train_rows):
        raise ConfigError(f"train_size {size} does not fit a fold of {len(fold.train_rows)} training reviews: use 1 to "
                          f"{len(fold.train_rows)}")
    order = np.random.default_rng(seed).permutation(len(fold.train_rows))
    return dataclasses.replace(fold, train_rows=np.sort(fold.train_rows[order[:size]]))


def shuffled_labels(labels: np.ndarray, rows: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """``labels`` (float32) with those of ``fraction`` of ``rows`` permuted among themselves (the 2nd edition's
    shuffled labels at 1.0): the class balance stays, and what the model can learn of them is only memory."""
    out = np.asarray(labels, np.float32).copy()
    rng = np.random.default_rng(seed)
    chosen = rng.choice(np.asarray(rows), size=int(round(fraction * len(rows))), replace=False)
    out[chosen] = out[rng.permutation(chosen)]
    return out


def build_folds(protocol: dict, n_train: int, n_test: int, movie_ids: np.ndarray, seed: int,
                labels: np.ndarray | None = None) -> list[Fold]:
    """``movie_ids``: each training review's IMDb title number (its movie); ``labels``: for ``sorted_holdout``."""
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
    if kind == "shuffled_holdout":
        groups = movie_ids if protocol.get("group_by_movie", False) else None
        return shuffled_holdout(n_train, protocol["validation_size"], protocol.get("repeats", 1), seed, groups)
    if kind == "sorted_holdout":
        if labels is None:
            raise ValueError("a sorted hold-out needs the training labels")
        return sorted_holdout(labels, protocol["validation_size"])
    if kind == "time_holdout":
        return time_holdout(movie_ids, protocol["validation_size"])
    if kind == "nested_kfold":
        return nested_kfold_splits(movie_ids, protocol["folds"], protocol["inner_folds"], seed)
    raise ConfigError(f"unknown protocol kind {kind!r}")


def protocol_folds(config: dict, protocol: str, n_train: int, n_test: int, movie_ids: np.ndarray,
                   labels: np.ndarray | None = None) -> list[Fold]:
    """A config protocol's folds (and repeats), as its kind draws them from the config's seed."""
    if protocol not in config["protocols"]:
        raise ConfigError(f"no protocol {protocol!r} in the config (have: {', '.join(config['protocols'])})")
    return build_folds(config["protocols"][protocol], n_train, n_test, movie_ids, config["seed"], labels)


def save_folds(folds: list[Fold], path, rule: str = "folds") -> None:
    """A protocol's folds as one .npz (each fold's rows concatenated, with offsets), written atomically, then the
    manifest of its folder (``overfit.data.prepared``: the job that writes folds has a folder of its own)."""
    arrays = {"repeat": np.array([f.repeat for f in folds]), "fold": np.array([f.fold for f in folds]),
              "validation_split": np.array([f.validation_split for f in folds])}
    for side in ("train_rows", "validation_rows"):
        rows = [np.asarray(getattr(f, side), np.int64) for f in folds]
        arrays[side] = np.concatenate(rows)
        arrays[f"{side}_offsets"] = np.cumsum([0, *map(len, rows)])
    with atomic_path(path) as partial, open(partial, "wb") as stream:
        np.savez(stream, **arrays)
    prepared.write_manifest(Path(path).parent, [path], rule, folds=len(folds))


FOLD_ARRAYS = ("repeat", "fold", "validation_split", "train_rows", "train_rows_offsets", "validation_rows",
               "validation_rows_offsets")


def load_folds(path, sizes: dict[str, int], rule: str = "folds") -> list[Fold]:
    """A protocol's folds, verified against the manifest and checked against the splits they index: ``sizes``, the
    number of rows of each prepared split the job loaded (a fold's rows must lie inside them)."""
    prepared.verify(path, rule)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in FOLD_ARRAYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a file of folds ({type(exc).__name__}: {exc}); {prepared.rebuild(rule)}") from exc

    def require(condition, what):
        prepared.require(condition, path, what, rule)

    count = len(arrays["repeat"])
    require(count > 0, "it holds no folds")
    for name, array in arrays.items():
        require(array.ndim == 1 and (array.dtype.kind in "iu" if name != "validation_split" else array.dtype.kind == "U"),
                f"its {name} are {array.dtype} of shape {array.shape}")
    require(len(arrays["fold"]) == count and len(arrays["validation_split"]) == count,
            "its repeat, fold and validation_split columns differ in length")
    splits = {"train_rows": np.full(count, "train"), "validation_rows": arrays["validation_split"]}
    for side, split_of in splits.items():
        rows, offsets = arrays[side], arrays[f"{side}_offsets"]
        require(len(offsets) == count + 1 and offsets[0] == 0 and offsets[-1] == len(rows)
                and bool(np.all(np.diff(offsets) >= 0)), f"its {side} offsets do not cut its {len(rows)} rows into "
                f"{count} folds")
        for i, split in enumerate(split_of):
            part = rows[offsets[i]:offsets[i + 1]]
            require(split in sizes, f"fold {i} validates on the {split!r} split, which this job does not read "
                    f"(it reads {', '.join(sizes)})")
            require(len(part) == 0 or (int(part.min()) >= 0 and int(part.max()) < sizes[split]),
                    f"fold {i}'s {side.replace('_', ' ')} run outside the {sizes[split]} rows of the {split} split")
    return [Fold(int(r), int(f), arrays["train_rows"][arrays["train_rows_offsets"][i]:arrays["train_rows_offsets"][i + 1]],
                 str(split),
                 arrays["validation_rows"][arrays["validation_rows_offsets"][i]:arrays["validation_rows_offsets"][i + 1]])
            for i, (r, f, split) in enumerate(zip(arrays["repeat"], arrays["fold"], arrays["validation_split"]))]


def _check_size(size: int, n_train: int) -> None:
    if not 0 < size < n_train:
        raise ConfigError(f"a validation set of {size} reviews does not fit {n_train} training reviews")
