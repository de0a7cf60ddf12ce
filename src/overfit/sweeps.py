"""Sweeps: a grid in the config (``sweeps:``) expanded into experiments, one per point.

A sweep names a base experiment, a protocol and a grid of axes::

    capacity:
      base: original                 # every point starts from this experiment's entry
      protocol: kfold_by_movie       # and trains under this protocol …
      repeats: 1                     # … on its first repeat only (optional)
      grid: {width: [1, 8, 64], depth: [1, 3]}   # or a list of such grids (their union)
      set: {epochs: 60}              # axes every point shares (not in its name)
      include: [smaller, original]   # experiments that are points of the same curve

Each point is an ordinary experiment entry (``hidden``, ``regularizer``,
``dropout``, training keys, ``train_size``), named from its values, e.g.
``capacity-width_8-depth_1``; a point's job depends only on its own entry,
so editing one value of a grid trains only the points that value makes.
Grids expand with scikit-learn's ``ParameterGrid`` (a dict, or a list of
dicts, as its ``GridSearchCV`` takes). Free of JAX: Snakemake reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from overfit import search
from overfit.axes import AXES, ORDER, applied
from overfit.errors import ConfigError




@dataclass(frozen=True)
class Point:
    name: str
    sweep: str
    values: dict  # axis -> value
    entry: dict  # the experiment entry it trains
    protocol: str
    repeats: int | None  # None: every repeat of the protocol


def _label(value) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text.replace("+", "")


def point_name(sweep: str, values: dict) -> str:
    """``{sweep}-{axis}_{value}-…`` in axis order: readable, and a valid job and file name."""
    return "-".join([sweep, *(f"{axis}_{_label(values[axis])}" for axis in ORDER if axis in values)])


def _grids(sweep: dict) -> list[dict]:
    grid = sweep["grid"]
    return grid if isinstance(grid, list) else [grid]


def sweep_points(config: dict, name: str) -> list[Point]:
    """The points of one sweep, in grid order; its ``include`` experiments are not points (they train already)."""
    from sklearn.model_selection import ParameterGrid

    sweep, where = config["sweeps"][name], f"sweeps.{name}"
    experiments = config["experiments"]
    if sweep["base"] not in experiments:
        raise ConfigError(f"{where}.base: {sweep['base']!r} is not an experiment of the config "
                          f"(have: {', '.join(experiments)})")
    if sweep["protocol"] not in config["protocols"]:
        raise ConfigError(f"{where}.protocol: {sweep['protocol']!r} is not a protocol of the config "
                          f"(have: {', '.join(config['protocols'])})")
    unknown = [axis for axis in sweep.get("set", {}) if axis not in AXES or axis == "experiment"]
    if unknown:
        raise ConfigError(f"{where}.set.{unknown[0]}: not a setting a sweep can fix (settings: {', '.join(ORDER[1:])})")
    for i, grid in enumerate(_grids(sweep)):
        for axis, values in grid.items():
            key = f"{where}.grid{f'[{i}]' if isinstance(sweep['grid'], list) else ''}.{axis}"
            if axis not in AXES:
                raise ConfigError(f"{key}: not an axis a sweep can vary (axes: {', '.join(AXES)})")
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{key}: give a non-empty list of values, e.g. {axis}: [{_example(axis)}]")
            if axis == "experiment":
                missing = [v for v in values if v not in experiments]
                if missing:
                    raise ConfigError(f"{key}: {', '.join(map(repr, missing))} is not an experiment of the config")
    points, seen = [], {}
    for values in ParameterGrid(_grids(sweep)):
        values = {axis: values[axis] for axis in ORDER if axis in values}
        entry = applied(experiments[values.get("experiment", sweep["base"])], {**sweep.get("set", {}), **values})
        point = Point(point_name(name, values), name, values, entry, sweep["protocol"], sweep.get("repeats"))
        if point.name in experiments or point.name in seen:
            raise ConfigError(f"{where}: the point {point.name!r} appears twice (or is an experiment's name); "
                              "remove the repeated value")
        seen[point.name] = point
        points.append(point)
    missing = [n for n in sweep.get("include", []) if n not in experiments]
    if missing:
        raise ConfigError(f"{where}.include: {', '.join(map(repr, missing))} is not an experiment of the config")
    return points


def _example(axis: str) -> str:
    return {"width": "4, 16, 64", "depth": "1, 2, 3", "l1": "0.0001, 0.001", "l2": "0.0001, 0.001", "dropout": "0.2, 0.5",
            "weight_decay": "0.002", "train_size": "1000, 4000", "label_noise": "0, 0.5, 1", "experiment": "original",
            "loss": "keras_clipped, exact"}.get(axis, "…")


def points(config: dict) -> dict[str, Point]:
    """Every sweep's points, by name."""
    return {p.name: p for name in config.get("sweeps", {}) for p in sweep_points(config, name)}


def entries(config: dict) -> dict[str, dict]:
    """Every experiment entry, written, swept or drawn by the search: what ``overfit.experiments.experiment`` reads."""
    return {**config["experiments"], **{name: p.entry for name, p in points(config).items()}, **search.configs(config)}


def curve(config: dict, name: str) -> list[tuple[str, dict]]:
    """A sweep as its curve: (experiment, its values) for the points and the included experiments.

    An included experiment's values are read off its entry for the sweep's axes, so that it sits on the curve.
    """
    sweep = config["sweeps"][name]
    out = [(p.name, p.values) for p in sweep_points(config, name)]
    axes = [a for grid in _grids(sweep) for a in grid]
    for experiment in sweep.get("include", []):
        out.append((experiment, read_values(config["experiments"][experiment], axes, experiment)))
    return out


def read_values(entry: dict, axes: list[str], name: str) -> dict:
    """The values an experiment entry has on the given axes (0 where it does not set one)."""
    reg = entry.get("regularizer", {})
    dropout = entry.get("dropout", 0.0)
    known = {"experiment": name, "width": entry["hidden"][0], "depth": len(entry["hidden"]), "l1": reg.get("l1", 0.0),
             "l2": reg.get("l2", 0.0), "dropout": dropout[0] if isinstance(dropout, list) else dropout,
             "weight_decay": entry.get("weight_decay", 0.0), "train_size": entry.get("train_size", "all"),
             "label_noise": entry.get("label_noise", 0.0)}
    return {axis: known.get(axis, entry.get(axis)) for axis in dict.fromkeys(axes)}
