"""Protocols against the data: each kind's settings, its hold-out, share and folds, and what trains under it
(experiments' and sweeps' ``train_size``, sweeps' ``repeats``)."""

from __future__ import annotations

from overfit import search, sweeps
from overfit.checks.sizes import (GROUPED_FOLDS, Sizes, holds_whole_movies, kfold_side, largest_fraction,
                                  largest_validation, most_folds, split_training, training_side)
from overfit.errors import ConfigError
from overfit.grid import protocol_experiments

# The settings each protocol kind takes besides kind, experiments and seeds.
KIND_SETTINGS = {
    "test_as_validation": set(),
    "holdout": {"validation_size"},
    "validation_split": {"fraction"},
    "kfold": {"folds", "repeats"},
    "grouped_kfold": {"folds", "repeats"},
    "shuffled_holdout": {"validation_size", "repeats", "group_by_movie"},
    "sorted_holdout": {"validation_size"},
    "time_holdout": {"validation_size"},
    "nested_kfold": {"folds", "inner_folds"},
}
# What every kind takes.
COMMON_SETTINGS = {"kind", "experiments", "seeds", "wide_seeds", "epochs", "evaluate_test", "configs"}


def check_protocols(config: dict, sizes: Sizes) -> None:
    """Each protocol's settings fit its kind and the training split."""
    for name, entry in config["protocols"].items():
        key = f"protocols.{name}"
        _check_settings(key, entry)
        _check_wide_seeds(key, entry)
        _check_configs(key, entry, config)
        _check_validation(key, entry, sizes)
        _check_folds(key, entry, sizes)


def _check_settings(key: str, entry: dict) -> None:
    kind = entry["kind"]
    foreign = set(entry) - COMMON_SETTINGS - KIND_SETTINGS[kind]
    if foreign:
        takes = ", ".join(sorted(KIND_SETTINGS[kind])) or "no settings"
        raise ConfigError(f"{key}: {', '.join(sorted(foreign))} does not apply to kind {kind!r} (it takes {takes}, "
                          f"plus {', '.join(sorted(COMMON_SETTINGS - {'kind'}))})")


def _check_configs(key: str, entry: dict, config: dict) -> None:
    if "configs" not in entry:
        return
    if entry.get("experiments") != "search":
        raise ConfigError(f"{key}.configs: trains the search's first configurations, but the protocol does not train "
                          "the search (experiments: search); remove configs or train the search")
    drawn = config.get("search", {}).get("configs", 0)
    # (a search that cannot be drawn is overfit.checks.studies.check_search's to refuse, naming the search)
    if 2 <= drawn <= search.size(config) and entry["configs"] > drawn:
        raise ConfigError(f"{key}.configs: {entry['configs']} is more than the search draws (search.configs: {drawn}); "
                          f"use at most {drawn}")


def _check_wide_seeds(key: str, entry: dict) -> None:
    if entry.get("wide_seeds", 0) > entry.get("seeds", 1):
        raise ConfigError(f"{key}.wide_seeds: {entry['wide_seeds']} is more than its seeds ({entry.get('seeds', 1)}): "
                          f"a wide experiment trains the first wide_seeds of them; use at most {entry.get('seeds', 1)}")


def _check_validation(key: str, entry: dict, sizes: Sizes) -> None:
    n = sizes.train_reviews
    if "validation_size" in entry and entry["validation_size"] > largest_validation(entry, sizes):
        why = (f" (it holds out whole movies, of up to {sizes.most_reviews_per_movie} reviews each)"
               if holds_whole_movies(entry) else "")
        raise ConfigError(f"{key}.validation_size: {entry['validation_size']} can leave no training reviews{why}: "
                          f"the training set has {n}; use at most {largest_validation(entry, sizes)}")
    if "fraction" in entry and split_training(n, entry["fraction"]) < 1:
        raise ConfigError(f"{key}.fraction: {entry['fraction']} leaves none of the {n} training reviews to train on; "
                          f"use at most {largest_fraction(n)}")


def _check_folds(key: str, entry: dict, sizes: Sizes) -> None:
    if "folds" not in entry:
        return
    n, grouped = sizes.train_reviews, entry["kind"] in GROUPED_FOLDS
    _check_fold_count(f"{key}.folds", entry["folds"], n, sizes.train_movies if grouped else None,
                      "the training set", " (the book's sketch uses 4)")
    if "inner_folds" in entry:
        _check_fold_count(f"{key}.inner_folds", entry["inner_folds"], kfold_side(n, entry["folds"]),
                          kfold_side(sizes.train_movies, entry["folds"]), "an outer fold's training side", "")


def _check_fold_count(key: str, folds: int, reviews: int, movies: int | None, of: str, hint: str) -> None:
    """``folds`` against the reviews (and, grouped, the movies) they cut: two reviews and one movie a fold."""
    most = most_folds(reviews, movies)
    if folds <= most:
        return
    if movies is not None and movies < reviews // 2:
        raise ConfigError(f"{key}: {folds} folds grouped by movie need a movie each, and {of} holds {movies} "
                          f"movies; use at most {most}{hint}")
    raise ConfigError(f"{key}: {folds} folds of {of}'s {reviews} reviews leave fewer than two reviews a fold; use at "
                      f"most {most}{hint}")


def check_training_sizes(config: dict, sizes: Sizes) -> None:
    """What trains under a protocol fits its folds: an experiment's or a sweep point's ``train_size`` (a subset of
    each fold's training reviews), and a sweep's ``repeats`` (of its protocol's)."""
    sides: dict[str, int] = {}  # protocol -> its smallest fold's training reviews, drawn once

    def check(key: str, size: int, protocol: str, point: str = "") -> None:
        if protocol not in sides:
            sides[protocol] = training_side(config["protocols"][protocol], sizes, config["seed"])
        if size > sides[protocol]:
            raise ConfigError(f"{key}: {size} training reviews{point} do not fit the smallest fold of "
                              f"protocols.{protocol} ({config['protocols'][protocol]['kind']}), which trains on "
                              f"{sides[protocol]}; use at most {sides[protocol]}")

    for name, entry in config["experiments"].items():
        if "train_size" in entry:
            for protocol in _protocols_training(config, name):
                check(f"experiments.{name}.train_size", entry["train_size"], protocol)
    for name, point in sweeps.points(config).items():
        repeats = config["protocols"][point.protocol].get("repeats", 1)
        if point.repeats is not None and point.repeats > repeats:
            raise ConfigError(f"sweeps.{point.sweep}.repeats: {point.repeats} is more than protocols.{point.protocol} "
                              f"has ({repeats}), so its points would train fewer; use at most {repeats}")
        if "train_size" in point.entry:
            check(_train_size_key(config, point), point.entry["train_size"], point.protocol, f" (the point {name})")


def _protocols_training(config: dict, experiment: str) -> list[str]:
    # the search's configurations are drawn from a space without train_size: those protocols train no written one
    return [p for p, entry in config["protocols"].items()
            if entry.get("experiments") != "search" and experiment in protocol_experiments(config, p)]


def _train_size_key(config: dict, point: sweeps.Point) -> str:
    """Where a sweep point's train_size is written: its grid, the sweep's ``set``, or its base experiment."""
    sweep, where = config["sweeps"][point.sweep], f"sweeps.{point.sweep}"
    if "train_size" in point.values:
        if not isinstance(sweep["grid"], list):
            return f"{where}.grid.train_size"
        value = point.values["train_size"]
        index = next(i for i, grid in enumerate(sweep["grid"]) if value in grid.get("train_size", []))
        return f"{where}.grid[{index}].train_size"
    if "train_size" in sweep.get("set", {}):
        return f"{where}.set.train_size"
    return f"experiments.{point.values.get('experiment', sweep['base'])}.train_size"
