"""Every outcome of every claim row, from synthetic results built to give it (issue 25, part 6).

The cases are generated from config/chapter.yaml when the tests are collected: for each row, one case per verdict
it can give (holds, does not hold, unclear; vacuous where it names a guard with ``requires``; only "not testable
here" where it says ``not_testable``), so that a new row gets its cases without anyone writing them. A case builds
the inputs the row reads (the metrics table for curve and section-4.2 rows, the test scores for a final fit, the
images and clock tables), with the row's statistic placed where the outcome needs it, runs
``compute_claims`` with the real config/config.yaml and config/chapter.yaml, and checks the row's verdict under each
of its protocols and that its value is the one built.

Where the statistic lands comes from the row's ``claimed``, never from a number written here: "holds" puts every
run well inside the claimed side, "does not hold" well on the other side, "unclear" alternates runs either side of
the bound so that the mean sits on it and the interval straddles it. A changed threshold needs no change here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from overfit import chapter as chapter_roles
from overfit import search, stats
from overfit.files import load_yaml
from overfit.report import claims

CONFIG = load_yaml(REPO / "config" / "config.yaml")
CHAPTER = chapter_roles.load(REPO / "config" / "chapter.yaml")
ROWS = {row["id"]: row for row in CHAPTER["claims"]}

HOLDS, FAILS, UNCLEAR = stats.HOLDS, stats.FAILS, stats.UNCLEAR
VACUOUS, NOT_TESTABLE = stats.VACUOUS, stats.NOT_TESTABLE

EPOCHS = 20
EPOCH = np.arange(1, EPOCHS + 1)
FOLD_REPEATS = 3  # a folded protocol's runs: its folds × this many repeats (as the config's kfold_by_movie)
SEEDS = 6  # runs of a protocol on one split, seeds of an image study, of the clock, of a final fit
ESTIMATES = 10  # estimates (redraws) of each section-4.2 protocol, units of a tuning protocol
TRAIN_REVIEWS = 25000
# "unclear" alternates two values around the bound: with an even number of runs their mean is the bound itself
assert SEEDS % 2 == 0 and ESTIMATES % 2 == 0


class Unreachable(Exception):
    """The outcome cannot be built for this row (its bound leaves no room for values the statistic can take)."""


# --- the cases ---------------------------------------------------------------------------------------------------

# (row id, outcome its statistic is built for) -> why the row cannot give it by construction. Each is still run, as a
# strict xfail that must fail with Unreachable: when a changed row makes it reachable, the case says so. None today.
UNREACHABLE: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Case:
    row: str
    outcome: str  # the verdict every result row of ``row`` must show
    own: str  # where the row's own statistic is built: the outcome, except for a vacuous row
    guard: str | None  # where its ``requires`` row is built (None: it has none)

    @property
    def name(self) -> str:
        name = f"{self.row}-{self.outcome}"
        if self.outcome == VACUOUS:
            name += f"-guard-{self.guard}"
        if self.own != self.outcome:
            name += f"-own-{self.own}"
        return name.replace(" ", "-")


def cases_of(row: dict) -> list[Case]:
    own = (HOLDS, FAILS, UNCLEAR)
    if "not_testable" in row:  # judged so whatever its statistic gives (the statistic is still computed)
        return [Case(row["id"], NOT_TESTABLE, outcome, None) for outcome in own]
    guard = HOLDS if "requires" in row else None  # a guarded row gives its own outcomes only where its guard holds
    out = [Case(row["id"], outcome, outcome, guard) for outcome in own]
    if "requires" in row:  # vacuous whatever its own outcome, whenever the guard does not hold
        out += [Case(row["id"], VACUOUS, HOLDS, FAILS), Case(row["id"], VACUOUS, FAILS, FAILS),
                Case(row["id"], VACUOUS, HOLDS, UNCLEAR)]
    return out


def _marks(case: Case) -> list:
    if (case.row, case.own) in UNREACHABLE:
        return [pytest.mark.xfail(strict=True, raises=Unreachable, reason=UNREACHABLE[case.row, case.own])]
    return []


CASES = [pytest.param(case, id=case.name, marks=_marks(case)) for row in CHAPTER["claims"] for case in cases_of(row)]


# --- targets: per-run values of a statistic that give an outcome against ``claimed`` ----------------------------

@dataclass(frozen=True)
class Bounds:
    """The values a statistic can take here, a clear difference in its units (``scale``), and a typical value (a
    pair's first member where it fits)."""
    lo: float
    hi: float
    scale: float
    typical: float
    grid: tuple[float, ...] | None = None  # the only values it can take (an epoch number; a correlation of ±1)

    def difference(self) -> Bounds:
        """The bounds of b − a, both within these."""
        span = int(self.hi - self.lo)
        grid = None if self.grid is None else tuple(float(v) for v in range(-span, span + 1))
        return Bounds(self.lo - self.hi, self.hi - self.lo, self.scale, 0.0, grid)

    def base_for(self, differences: np.ndarray) -> float:
        """A value a (the typical one where it fits) such that a + every difference is within bounds."""
        low, high = self.lo - differences.min(), self.hi - differences.max()
        assert low <= high, "the differences span more than the statistic's range"
        return float(np.clip(self.typical, low, high))


def alternating(n: int) -> np.ndarray:
    return np.where(np.arange(n) % 2 == 0, 1.0, -1.0)


def targets(claimed: dict, outcome: str, n: int, bounds: Bounds) -> np.ndarray:
    """n per-run values whose mean's interval gives ``outcome`` against ``claimed``.

    holds / does not hold: every run well on one side of the bound (twice the statistic's scale, or two thirds of
    the room there is), spread by a tenth of that distance, so the interval stays on that side; on a grid (whole
    epochs) the runs alternate between the two nearest values a whole step past the bound (or just past it). A
    spread matters: runs that all agree get an exact sign test, which folds × repeats (about two independent runs)
    can never pass. unclear: runs alternate either side of the bound, so the mean sits on it and the interval
    straddles it.
    """
    (kind, bound), = claimed.items()
    if outcome == UNCLEAR:
        if kind != "within":
            return _straddling(bound, n, bounds)
        a, b = bound
        return _straddling(a if a > bounds.lo else b, n, bounds)
    if kind == "within":
        a, b = bound
        if outcome == HOLDS:
            return _inside(a, b, n, bounds)
        try:
            return _beyond(a, -1, n, bounds)
        except Unreachable:
            return _beyond(b, +1, n, bounds)
    direction = +1 if (kind == "above") == (outcome == HOLDS) else -1
    return _beyond(bound, direction, n, bounds)


def _beyond(bound: float, direction: int, n: int, bounds: Bounds) -> np.ndarray:
    if bounds.grid is not None:
        past = sorted((v for v in bounds.grid if (v - bound) * direction > 0), key=lambda v: abs(v - bound))
        if not past:
            raise Unreachable(f"no value of the statistic lies {'above' if direction > 0 else 'below'} {bound}")
        clear = [v for v in past if abs(v - bound) >= 1]  # a whole step past the bound where there are two
        return _two(clear if len(clear) > 1 else past, n)
    room = bounds.hi - bound if direction > 0 else bound - bounds.lo
    if room <= 0:
        raise Unreachable(f"the statistic cannot go {'above' if direction > 0 else 'below'} {bound}")
    distance = min(2 * bounds.scale, room * 2 / 3)
    return bound + direction * distance + distance / 10 * alternating(n)


def _inside(a: float, b: float, n: int, bounds: Bounds) -> np.ndarray:
    low, high = max(a, bounds.lo), min(b, bounds.hi)
    if bounds.grid is not None:
        inside = [v for v in bounds.grid if low <= v <= high]
        if not inside:
            raise Unreachable(f"no value of the statistic lies within [{a}, {b}]")
        middle = max(len(inside) // 2 - 1, 0)
        return _two(inside[middle:middle + 2], n)
    if high <= low:
        raise Unreachable(f"the statistic cannot lie within [{a}, {b}]")
    return (low + high) / 2 + (high - low) / 20 * alternating(n)


def _two(values: list[float], n: int) -> np.ndarray:
    """The first two values in turn (the first alone where there is one: a correlation of −1 can only be −1)."""
    return np.where(alternating(n) > 0, values[0], values[1] if len(values) > 1 else values[0])


def _straddling(bound: float, n: int, bounds: Bounds) -> np.ndarray:
    if bounds.grid is not None:
        below, above = [v for v in bounds.grid if v < bound], [v for v in bounds.grid if v > bound]
        if not below or not above:
            raise Unreachable(f"the statistic has no values on both sides of {bound}")
        return np.where(alternating(n) > 0, min(above), max(below))
    spread = min(bounds.scale, bound - bounds.lo, bounds.hi - bound)
    if spread <= 0:
        raise Unreachable(f"the statistic has no values on both sides of {bound}")
    return bound + spread * alternating(n)


# --- curves: one run's curve by the features the statistics read ------------------------------------------------

# noise of a at every other epoch has |third difference| 8a everywhere; stats.jitter reports that / (0.6745·√20)
JITTER_AMPLITUDE = 0.6745 * math.sqrt(20.0) / 8


@dataclass
class Shape:
    """A curve over EPOCHS epochs. Default: a validation loss that falls 0.05 an epoch to ``best_value`` at
    ``best_epoch``, then climbs in a straight line by ``rise`` (or to ``last``) at the last epoch. ``falling``: a
    training loss, ``start``·``ratio``^(epoch−1) above ``floor``, shaped by ``at_epoch_3`` or ``first_below``."""
    best_epoch: int = 4
    best_value: float = 0.30
    rise: float = 0.10
    last: float | None = None
    jitter: float = 0.0
    falling: bool = False
    at_epoch_3: float | None = None
    first_below: int | None = None  # the first epoch below 0.01 (EPOCHS + 1: never)
    constant: float | None = None


def draw(shape: Shape) -> np.ndarray:
    if shape.constant is not None:
        values = np.full(EPOCHS, shape.constant)
    elif shape.falling:
        values = _falling(shape)
    else:
        b, m = shape.best_epoch, shape.best_value
        last = m + shape.rise if shape.last is None else shape.last
        after = m + (last - m) * (EPOCH - b) / max(EPOCHS - b, 1)
        values = np.where(EPOCH < b, m + 0.05 * (b - EPOCH), after)
    # Noise at every other epoch: a straight line's third differences are 0, and the corner and the two epochs left
    # clean disturb at most six of seventeen, so their median is the noise's. Upward only, and none at the best and
    # the last epoch: the lowest and the last value, and so every other statistic, stay as built.
    noise = shape.jitter * JITTER_AMPLITUDE * (1 + (-1.0) ** EPOCH)
    if not shape.falling and shape.constant is None:
        noise[[shape.best_epoch - 1, EPOCHS - 1]] = 0.0
    return values + noise


def _falling(shape: Shape) -> np.ndarray:
    floor, start, ratio = 0.002, 0.5, 0.7
    if shape.at_epoch_3 is not None:
        start = (shape.at_epoch_3 - floor) / ratio ** 2
    if shape.first_below is not None:
        f = shape.first_below
        if f > EPOCHS:  # never below 0.01
            floor = 0.02
        elif f == 1:
            start = (0.01 - floor) / 2
        else:  # the curve crosses 0.01 half way between epochs f − 1 and f
            ratio = ((0.01 - floor) / start) ** (1 / (f - 1.5))
    return floor + start * ratio ** (EPOCH - 1.0)


@dataclass
class Run:
    """One run (a fold of a repeat, or a seed): its curves by (split, metric), drawn when the tables are built."""
    labels: dict
    sizes: tuple[int, int]  # training, validation reviews
    group: int  # the estimate it belongs to (a section-4.2 protocol's repeat or seed)
    # where its curves bottom out unless a case says: runs and experiments differ, so that a statistic read off
    # the wrong epoch (the first, a fixed one) gives another value than the one built
    best_epoch: int = 4
    curves: dict = field(default_factory=dict)

    def curve(self, split: str, metric: str, **features) -> Shape:
        shape = self.curves.setdefault((split, metric), Shape(best_epoch=self.best_epoch, falling=split == "train"))
        for name, value in features.items():
            setattr(shape, name, value)
        return shape


# --- one maker per statistic: writes a per-run value into a run's curves -----------------------------------------

def _best_epoch(run, split, metric, value):
    run.curve(split, metric, falling=False, best_epoch=int(value))


def _best_value(run, split, metric, value):
    run.curve(split, metric, falling=False, best_value=value)


def _last_value(run, split, metric, value):
    run.curve(split, metric, falling=False, last=value)


def _rise_after_best(run, split, metric, value):
    run.curve(split, metric, falling=False, rise=value)


def _slope_after_best(run, split, metric, value):
    shape = run.curve(split, metric, falling=False)
    shape.rise = value * (EPOCHS - shape.best_epoch)


def _jitter(run, split, metric, value):
    run.curve(split, metric, jitter=value)


def _first_epoch_below_0_01(run, split, metric, value):
    run.curve(split, metric, falling=True, first_below=int(value))


def _value_at_epoch_3(run, split, metric, value):
    run.curve(split, metric, falling=True, at_epoch_3=value)


def _value_at_highest_mean_epoch(run, split, metric, value):
    run.curve(split, metric, constant=value)  # every epoch the same: whichever the runs' mean peaks at reads it


def _gap_at_last_epoch(run, split, metric, value):
    # validation − training at the last epoch, whatever the row's split: the validation curve ends that far above
    run.curve("validation", metric, falling=False, last=draw(run.curve("train", metric))[-1] + value)


EPOCH_BOUNDS = Bounds(1, EPOCHS, 1, 8, tuple(float(e) for e in range(1, EPOCHS + 1)))


def _values(metric: str) -> Bounds:
    return Bounds(0.0, 1.0, 0.02, 0.85) if metric == "acc" else Bounds(0.05, 1.5, 0.05, 0.3)


# statistic -> (maker, the statistic's bounds for a metric)
MAKERS = {
    "best_epoch": (_best_epoch, lambda metric: EPOCH_BOUNDS),
    "best_value": (_best_value, _values),
    "last_value": (_last_value, _values),
    "rise_after_best": (_rise_after_best, lambda metric: Bounds(0.0, 0.5 if metric == "acc" else 1.0,
                                                                0.02 if metric == "acc" else 0.05, 0.1)),
    "slope_after_best": (_slope_after_best, lambda metric: Bounds(0.0, 0.05, 0.003, 0.01)),
    "jitter": (_jitter, lambda metric: Bounds(0.0, 0.05, 0.005, 0.01)),
    # one past the last epoch: never below 0.01 (claims.first_epoch_below_0_01 counts it so)
    "first_epoch_below_0_01": (_first_epoch_below_0_01, lambda metric: Bounds(
        1, EPOCHS + 1, 1, 8, tuple(float(e) for e in range(1, EPOCHS + 2)))),
    "value_at_epoch_3": (_value_at_epoch_3, lambda metric: Bounds(0.01, 1.0, 0.05, 0.3)),
    "gap_at_last_epoch": (_gap_at_last_epoch, lambda metric: Bounds(0.0, 1.0, 0.05, 0.2)),
    "value_at_highest_mean_epoch": (_value_at_highest_mean_epoch, _values),
}
# a trend's per-run statistic: the rank correlation with the order, built as +1 or −1 (a monotone curve of points)
TREND_BOUNDS = Bounds(-1.0, 1.0, 1.0, 0.0, (-1.0, 1.0))
FIT_BOUNDS = {"test_acc": Bounds(0.0, 1.0, 0.02, 0.88), "test_loss": Bounds(0.05, 1.5, 0.05, 0.3),
              "test_data_loss": Bounds(0.05, 1.5, 0.05, 0.3)}
CLOCK_BOUNDS = Bounds(0.0, 120.0, 2.0, 10.0)  # minutes


# --- the synthetic results ---------------------------------------------------------------------------------------

@cache
def roles() -> claims.Context:
    """Roles resolved as claims.py resolves them (a sweep in its order, the capacity ladder by parameters)."""
    return claims.Context(Synthetic().tables()[0], pd.DataFrame(), CONFIG, CHAPTER)


def experiment(role: str) -> str:
    return roles().experiments(role)[0]


class Synthetic:
    """The tables a case builds, as runs of curves until ``tables`` draws them."""

    def __init__(self):
        self.metric_runs: dict[tuple[str, str], list[Run]] = {}
        self.image_runs: dict[tuple[str, str], list[Run]] = {}
        self.clock: list[dict] = []
        self.scores: list[dict] = []
        # section 4.1's pretraining study: (start, size) -> per-run values (folds × repeats), peaked at epoch 3
        self.pretraining: dict[tuple[str, str], np.ndarray] = {}
        self.pretraining_links: list = []  # (first size's cell, second's, the change between them) of a two-size row
        # the recipe's step 5: (task, rung) -> per-fold rises of its validation loss (unset rungs: RECIPE_RISE)
        self.recipe: dict[tuple[str, str], np.ndarray] = {}
        self.duplicates: list[dict] = []  # rows of results/duplicate_leak.csv
        # an imbalanced task's run scores (results/recipe_threshold.csv): (task, model, loss, fold, seed) -> columns
        self.threshold: dict[tuple, dict] = {}

    def threshold_run(self, task: str, model: str, loss: str, fold: int, seed: int) -> dict:
        """A run's scores, every one 0.5 until a row sets it."""
        from overfit.recipe.threshold import SCORES

        return self.threshold.setdefault((task, model, loss, fold, seed), {
            "task": task, "model": model, "loss": loss, "fold": fold, "seed": seed, **dict.fromkeys(SCORES, 0.5),
            "rows": 1000, "positives": 100})

    def runs(self, experiment: str, protocol: str, groups: int | None = None) -> list[Run]:
        """An experiment's runs under a protocol: folds × repeats where it has folds, else seeds or repeats (as the
        config's entry says); ``groups`` repeats or seeds (default: FOLD_REPEATS, or SEEDS)."""
        key = (experiment, protocol)
        if key not in self.metric_runs:
            entry = CONFIG["protocols"][protocol]
            folds = entry.get("folds", 1)
            if folds > 1:
                validation, by = TRAIN_REVIEWS // folds, "repeat"
                labels = [dict(repeat=g, fold=f, seed=0) for g in range(groups or FOLD_REPEATS) for f in range(folds)]
            else:
                validation = entry.get("validation_size", TRAIN_REVIEWS)
                by = "seed" if "seeds" in entry or "repeats" not in entry else "repeat"
                labels = [dict(repeat=0, fold=0, seed=0) | {by: g} for g in range(groups or SEEDS)]
            train = TRAIN_REVIEWS if entry["kind"] == "test_as_validation" else TRAIN_REVIEWS - validation
            self.metric_runs[key] = [Run(l, (train, validation), l[by], 3 + (len(self.metric_runs) + i) % 3)
                                     for i, l in enumerate(labels)]
        return self.metric_runs[key]

    def arm(self, study: str, arm: str) -> list[Run]:
        if (study, arm) not in self.image_runs:
            self.image_runs[study, arm] = [Run({"seed": s}, (0, 0), s, 3 + (len(self.image_runs) + s) % 3)
                                           for s in range(SEEDS)]
        return self.image_runs[study, arm]

    def tables(self) -> tuple:
        metrics = {c: [] for c in ("experiment", "protocol", "repeat", "fold", "seed", "epoch", "split", "metric",
                                   "value", "diverged", "train_size", "validation_size")}
        for (name, protocol), runs in self.metric_runs.items():
            for run in runs:
                # every run records its losses, and both splits of any metric it records (as training does)
                for metric in sorted({"loss", "data_loss", *(metric for _, metric in run.curves)}):
                    for split in ("validation", "train"):
                        run.curve(split, metric)
                for (split, metric), shape in run.curves.items():
                    block = dict(experiment=name, protocol=protocol, **run.labels, split=split, metric=metric,
                                 diverged=False, train_size=run.sizes[0], validation_size=run.sizes[1])
                    for column, value in block.items():
                        metrics[column].extend([value] * EPOCHS)
                    metrics["epoch"].extend(EPOCH)
                    metrics["value"].extend(draw(shape))
        images = {c: [] for c in ("study", "arm", "seed", "epoch", "split", "metric", "value", "diverged")}
        for (study, arm), runs in self.image_runs.items():
            for run in runs:
                for (split, metric), shape in run.curves.items():
                    for column, value in dict(study=study, arm=arm, seed=run.labels["seed"], split=split,
                                              metric=metric, diverged=False).items():
                        images[column].extend([value] * EPOCHS)
                    images["epoch"].extend(EPOCH)
                    images["value"].extend(draw(shape))
        scores = pd.DataFrame(self.scores, columns=["experiment", "fit", "seed", "epochs", "test_loss",
                                                    "test_data_loss", "test_acc", "diverged"])
        return (pd.DataFrame(metrics), scores, pd.DataFrame(images) if images["study"] else None,
                pd.DataFrame(self.clock) if self.clock else None, self.pretraining_table(), self.recipe_curves(),
                pd.DataFrame(self.duplicates) if self.duplicates else None,
                pd.DataFrame(list(self.threshold.values())) if self.threshold else None)

    def recipe_curves(self) -> dict[str, pd.DataFrame]:
        """Step 5's curves per task: each rung's validation loss lowest at epoch 3 (0.3) on every fold, high in
        between, and at the last epoch 0.3 + that fold's rise; precision and recall flat (F1 is read from them)."""
        out = {}
        for task in {task for task, _ in self.recipe}:
            rows = []
            for rung in recipe_ladder():
                for fold, rise in enumerate(self.recipe.get((task, rung), np.full(RECIPE_FOLDS, RECIPE_RISE))):
                    loss = np.where(EPOCH_RECIPE < 3, 0.3 + 0.02 * (3 - EPOCH_RECIPE), 0.8)
                    loss[EPOCH_RECIPE == 3], loss[-1] = 0.3, 0.3 + rise
                    for metric, values in (("loss", loss), ("precision", 0.5 + 0 * loss), ("recall", 0.5 + 0 * loss)):
                        rows += [{"experiment": rung, "protocol": f"recipe_{task}", "repeat": 0, "fold": fold,
                                  "seed": 0, "epoch": int(e), "split": "validation", "metric": metric, "value": v,
                                  "diverged": False, "train_size": 18750, "validation_size": 6250}
                                 for e, v in zip(EPOCH_RECIPE, values)]
            out[task] = pd.DataFrame(rows)
        return out

    def pretraining_table(self) -> pd.DataFrame | None:
        """The pretraining study's validation accuracy: every run peaks at epoch 3 at its value (scratch: 0.7)."""
        if not self.pretraining:
            return None
        sizes = {"smallest": 100, "largest": 3000}
        rows = []
        for (start, size), values in self.pretraining.items():
            for i, value in enumerate(values):
                for epoch in EPOCH:
                    rows.append({"start": start, "labeled": sizes[size], "repeat": i // 4, "fold": i % 4, "seed": 0,
                                 "epoch": epoch, "split": "validation", "metric": "acc",
                                 "value": value - 0.01 * abs(epoch - 3), "diverged": False, "train_size": sizes[size],
                                 "validation_size": 6250, "pool_size": 18750})
        return pd.DataFrame(rows)


# --- the rows: each writes the inputs that give an outcome, and returns the value each result row must show -----

def _floor_noise(row: dict, bounds: Bounds) -> float:
    """The jitter a ``noise_floor`` row's curves get: enough that the floor (about 2.5 times it over SEEDS runs)
    lies above the words' threshold, so that the case tests the floor rather than the words."""
    (bound,) = row["claimed"].values()
    return 1.5 * max(abs(bound), bounds.scale / 5)


def build(row: dict, outcome: str, data: Synthetic, claimed: dict[str, dict]) -> dict[str, float]:
    """Write into ``data`` what makes ``row`` give ``outcome``; the expected value by result protocol.

    ``claimed``: the row's thresholds by result protocol (its own ``claimed``, unless computed from the runs).
    """
    for key, design in (("images", _image_row), ("clock", _clock_row), ("fit", _fit_row), ("study", _study_row),
                        ("pretraining", _pretraining_row), ("recipe", _recipe_row), ("duplicates", _duplicates_row),
                        ("threshold", _threshold_row)):
        if key in row:
            return design(row, outcome, data, claimed)
    return _curve_row(row, outcome, data, claimed)


def _paired(claimed: dict, outcome: str, n: int, bounds: Bounds) -> tuple[float, np.ndarray]:
    """A base value for a and the per-run differences b − a."""
    differences = targets(claimed, outcome, n, bounds.difference())
    return bounds.base_for(differences), differences


def _curve_row(row, outcome, data, claimed):
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    make, bounds = MAKERS[row["statistic"]][0], MAKERS[row["statistic"]][1](metric)
    expected = {}
    for role in row["protocols"]:
        protocol = roles().protocol(role)
        # a folded protocol's interval reads n_validation / n_training off the config's own experiments' runs
        data.runs(experiment("reference"), protocol)
        if "of" in row:
            names = [experiment(row["of"][0])]
            runs = data.runs(names[0], protocol)
            values = targets(claimed[protocol], outcome, len(runs), bounds)
            for run, value in zip(runs, values):
                make(run, split, metric, value)
        elif "compare" in row:
            names = [experiment(r) for r in row["compare"]]
            if "train_sizes" in row:  # each side a learning curve's point
                names = [roles().at_size(name, size) for name, size in zip(names, row["train_sizes"])]
            a, b = (data.runs(name, protocol) for name in names)
            base, values = _paired(claimed[protocol], outcome, len(a), bounds)
            for run_a, run_b, difference in zip(a, b, values):
                make(run_a, split, metric, base)
                make(run_b, split, metric, base + difference)
        else:  # a trend: per run, the statistic rises (+1) or falls (−1) monotonically along the role's order
            names = roles().experiments(row["trend"])
            values = targets(claimed[protocol], outcome, len(data.runs(names[0], protocol)), TREND_BOUNDS)
            along = _monotone(len(names), bounds)
            for k, name in enumerate(names):
                for run, sign in zip(data.runs(name, protocol), values):
                    make(run, split, metric, along[k] if sign > 0 else along[-1 - k])
        if row.get("noise_floor"):  # the curves the floor is read from get their noise
            for name in names:
                for run in data.runs(name, protocol):
                    run.curve(split, metric).jitter = _floor_noise(row, bounds)
        expected[protocol] = float(np.mean(values))
    return expected


def _monotone(k: int, bounds: Bounds) -> np.ndarray:
    """k increasing values of the statistic."""
    if bounds.grid is not None:
        if k > len(bounds.grid):
            raise Unreachable(f"{k} points cannot take distinct values among {len(bounds.grid)}")
        start = (len(bounds.grid) - k) // 2
        return np.array(bounds.grid[start:start + k])
    step = min(bounds.scale, (bounds.hi - bounds.lo) / (k + 1))
    return (bounds.lo + bounds.hi) / 2 + step * (np.arange(k) - (k - 1) / 2)


def _fit_row(row, outcome, data, claimed):
    statistic = row["statistic"]
    values = targets(claimed[row["fit"]], outcome, SEEDS, FIT_BOUNDS[statistic])
    for seed, value in enumerate(values):
        data.scores.append({"experiment": experiment("reference"), "fit": row["fit"], "seed": seed, "epochs": 4,
                            "test_loss": 0.3, "test_data_loss": 0.3, "test_acc": 0.88, "diverged": False,
                            statistic: value})
    return {row["fit"]: float(values.mean())}


def _image_row(row, outcome, data, claimed):
    spec, split, metric = row["images"], row.get("split", "validation"), row.get("metric", "loss")
    make, bounds = MAKERS[row["statistic"]][0], MAKERS[row["statistic"]][1](metric)
    study = spec["study"]
    if "compare" in spec:  # two arms on one split
        on = spec.get("splits", [split])[0]
        sides = [(data.arm(study, arm), on) for arm in spec["compare"]]
    elif "splits" in spec:  # one arm on two splits
        sides = [(data.arm(study, spec["of"]), on) for on in spec["splits"]]
    else:
        runs = data.arm(study, spec["of"])
        values = targets(claimed[study], outcome, len(runs), bounds)
        for run, value in zip(runs, values):
            make(run, split, metric, value)
            if row.get("noise_floor"):  # the curves the floor is read from get their noise
                run.curve(split, metric).jitter = _floor_noise(row, bounds)
        return {study: float(values.mean())}
    (runs_a, on_a), (runs_b, on_b) = sides
    base, values = _paired(claimed[study], outcome, len(runs_a), bounds)
    for run_a, run_b, difference in zip(runs_a, runs_b, values):
        make(run_a, on_a, metric, base)
        make(run_b, on_b, metric, base + difference)
    if row.get("noise_floor"):  # the curves the floor is read from get their noise
        for runs, on in sides:
            for run in runs:
                run.curve(on, metric).jitter = _floor_noise(row, bounds)
    return {study: float(values.mean())}


def _clock_row(row, outcome, data, claimed):
    spec = row["clock"]

    def reading(representation, size, seed, mean, sd=3.0, faces=2000):
        return {"representation": representation, "train_size": size, "seed": seed, "faces": faces,
                "mean_error": mean, "error_sd": sd, "median_error": mean, "within_5": 0.5,
                "flops": 1e9 if representation == "pixels" else 1e7, "seconds": 1.0}

    if "compare" in spec:
        (a, size_a), (b, size_b) = spec["compare"]
        base, values = _paired(claimed["clock"], outcome, SEEDS, CLOCK_BOUNDS)
        for seed, difference in enumerate(values):
            data.clock += [reading(a, size_a, seed, base), reading(b, size_b, seed, base + difference)]
    else:  # one deterministic reading: its interval is over the test faces, built here as SEEDS faces' errors
        values = targets(claimed["clock"], outcome, SEEDS, CLOCK_BOUNDS)
        data.clock.append(reading(spec["of"], 0, 0, float(values.mean()), float(values.std(ddof=1)), len(values)))
    return {"clock": float(values.mean())}


def _duplicates_row(row, outcome, data, claimed):
    """The duplicates' lift: per seed, both arms' accuracy on the scored reviews at the row's epoch (the others'
    at 0.85), the model trained with the duplicates ahead by that seed's value."""
    spec = row["duplicates"]
    base, values = _paired(claimed["duplicate_leak"], outcome, SEEDS, Bounds(0.0, 1.0, 0.05, 0.85).difference())
    for seed, difference in enumerate(values):
        for arm, acc in (("deduplicated", base), ("all", base + difference)):
            for scored in ("duplicated", "test"):
                for epoch in EPOCH:
                    at = acc if (scored, epoch) == (spec["scored"], spec["epoch"]) else 0.85
                    data.duplicates.append({"arm": arm, "seed": seed, "epoch": int(epoch), "scored": scored,
                                            "loss": 0.3, "acc": at, "rows": 120 if scored == "duplicated" else 25000})
    return {"duplicate_leak": float(values.mean())}


PRETRAINING_RUNS = 4 * FOLD_REPEATS  # folds × seeds
PRETRAINING_BOUNDS = Bounds(-0.25, 0.25, 0.02, 0.0)  # an accuracy difference of two starts


def _pretraining_row(row, outcome, data, claimed):
    """b − a per run at one size (a at 0.7, b above it by the target); with two sizes, that difference at the first
    − at the second: b − a at the second size is set below the first's by the target. A guard built after the row
    (13a for 13c) rewrites the first size's b; the second's is then re-derived from it, so the row's value stays."""
    spec = row["pretraining"]
    a, b = spec["compare"]
    values = targets(claimed["pretraining"], outcome, PRETRAINING_RUNS, PRETRAINING_BOUNDS)
    sizes = [spec["labeled"]] if isinstance(spec["labeled"], str) else list(spec["labeled"])
    base = np.full(PRETRAINING_RUNS, 0.7)
    for size in sizes:
        data.pretraining[(a, size)] = base
    if len(sizes) == 1:
        data.pretraining[(b, sizes[0])] = base + values
        dependants = [d for d in data.pretraining_links if d[0] == (b, sizes[0])]
        for _, target, change in dependants:  # a row built before, reading this difference: keep its change
            data.pretraining[target] = base + values - change
    else:
        first = data.pretraining.setdefault((b, sizes[0]), base + 0.1)
        data.pretraining[(b, sizes[1])] = first - values
        data.pretraining_links.append(((b, sizes[0]), (b, sizes[1]), values))
    return {"pretraining": float(values.mean())}


RECIPE_FOLDS = CONFIG["recipe"]["folds"]
EPOCH_RECIPE = np.arange(1, CONFIG["recipe"]["epochs"] + 1)
RECIPE_RISE = 0.1  # a rung no row reads rises this much on every fold
RECIPE_BOUNDS = Bounds(0.0, 1.0, 0.02, RECIPE_RISE)  # a rise of the validation loss (it is ≥ 0 on average)


def recipe_ladder() -> list[str]:
    from overfit.recipe import candidates

    return list(candidates.scale_up(CONFIG["recipe"]))


def _recipe_row(row, outcome, data, claimed):
    """A rung's per-fold rises; with two rungs, the first's at RECIPE_RISE-ish and the last's above it by the target."""
    spec = row["recipe"]
    ladder = recipe_ladder()
    rung = {"first": ladder[0], "last": ladder[-1]}
    if "rung" in spec:
        values = targets(claimed[f"recipe_{spec['task']}"], outcome, RECIPE_FOLDS, RECIPE_BOUNDS)
        data.recipe[(spec["task"], rung[spec["rung"]])] = values
    else:
        a, b = (rung[which] for which in spec["compare"])
        base, values = _paired(claimed[f"recipe_{spec['task']}"], outcome, RECIPE_FOLDS, RECIPE_BOUNDS)
        data.recipe[(spec["task"], a)] = np.full(RECIPE_FOLDS, base)
        data.recipe[(spec["task"], b)] = base + values
    return {f"recipe_{spec['task']}": float(values.mean())}


THRESHOLD_RUNS = [(fold, seed) for fold in range(CONFIG["recipe"]["folds"])
                  for seed in range(CONFIG["recipe"]["threshold"]["seeds"])]
THRESHOLD_BOUNDS = Bounds(0.0, 1.0, 0.05, 0.6)  # an F1 or an average precision


def _threshold_row(row, outcome, data, claimed):
    """Per run (fold × seed), side a's score at a base value and side b's above it by the target; logistic regression
    (deterministic: one seed, paired by fold with every seed of the other side) is only ever side a."""
    spec, statistic = row["threshold"], row["statistic"]
    key = f"recipe_{spec['task']}"
    base, values = _paired(claimed[key], outcome, len(THRESHOLD_RUNS), THRESHOLD_BOUNDS)
    (a, b) = spec["compare"]
    assert b[0] != "logistic regression", "a maker for logistic regression as side b: its seeds pair by fold"
    for (fold, seed), difference in zip(THRESHOLD_RUNS, values):
        for (model, loss, at), value in ((a, base), (b, base + difference)):
            if model == "logistic regression" and seed:
                continue
            column = statistic if statistic == "average_precision" else f"{statistic}_{at}"
            data.threshold_run(spec["task"], model, loss, fold, seed)[column] = value
    return {key: float(values.mean())}


# --- section 4.2: estimates of protocols on the reference model (overfit.report.audit, overfit.report.tuning) ----

TRUTH = {"loss": 0.30, "acc": 0.88}  # the book protocol's test curve at epoch 3, where every estimate chooses
CHOSEN_EPOCH = 3


def _truth(data: Synthetic) -> None:
    """The book protocol's runs of the reference: the test curve every estimate is judged against."""
    for run in data.runs(experiment("reference"), roles().protocol("book_4_4")):
        run.curve("validation", "loss", best_epoch=CHOSEN_EPOCH, best_value=TRUTH["loss"])
        run.curve("validation", "acc", constant=TRUTH["acc"])


def _estimates(data: Synthetic, protocol: str, loss, acc, iterate: int = 1) -> None:
    """ESTIMATES estimates of a protocol: estimate g reports loss[g] and acc[g] (every run of it the same curve,
    lowest at CHOSEN_EPOCH, so that the mean curve's lowest epoch is that one). ``iterate``: an estimate is an
    iterated K-fold of that many consecutive repeats (claims.py's ``iterate``)."""
    loss, acc = np.broadcast_to(loss, ESTIMATES), np.broadcast_to(acc, ESTIMATES)
    for run in data.runs(experiment("reference"), protocol, groups=ESTIMATES * iterate):
        run.curve("validation", "loss", best_epoch=CHOSEN_EPOCH, best_value=float(loss[run.group // iterate]))
        run.curve("validation", "acc", constant=float(acc[run.group // iterate]))


def _standard(n: int) -> np.ndarray:
    """n values of mean 0 and standard deviation 1."""
    z = np.linspace(-1, 1, n)
    return z / z.std(ddof=1)


def _spread_ratio(row, outcome, data, claimed, protocols):
    """sd of a's estimates / sd of b's (b's an iterated K-fold's where the row says ``iterate``), on a log scale:
    a clear difference is a factor 4, wider than the F-interval's factor of about 2 at ESTIMATES each."""
    metric, other = row.get("metric", "loss"), "acc" if row.get("metric", "loss") == "loss" else "loss"
    log_claimed = {k: [math.log(x) for x in v] if k == "within" else math.log(v) for k, v in claimed.items()}
    ratio = math.exp(targets(log_claimed, outcome, 2, Bounds(-math.inf, math.inf, math.log(2), 0.0)).mean())
    spread_b = 0.01
    for protocol, spread, iterate in ((protocols[0], ratio * spread_b, 1),
                                      (protocols[1], spread_b, row.get("iterate", 1))):
        _estimates(data, protocol, **{metric: TRUTH[metric] + spread * _standard(ESTIMATES), other: TRUTH[other]},
                   iterate=iterate)
    return ratio


def _estimate_difference(row, outcome, data, claimed, protocols):
    """mean of a's estimates − mean of b's: a's placed by ``targets``, b's spread evenly about the same centre."""
    metric, other = row.get("metric", "loss"), "acc" if row.get("metric", "loss") == "loss" else "loss"
    bounds = Bounds(-0.25, 0.5, 0.05 if metric == "loss" else 0.02, 0.0)
    values = targets(claimed, outcome, ESTIMATES, bounds)
    for protocol, offsets in ((protocols[0], values), (protocols[1], bounds.scale / 10 * alternating(ESTIMATES))):
        _estimates(data, protocol, **{metric: TRUTH[metric] + offsets, other: TRUTH[other]})
    return float(values.mean())


def _absolute_error(row, outcome, data, claimed, protocols):
    """|estimate − the test curve at its epoch|: each estimate misses by its target, above and below in turn."""
    metric, other = row.get("metric", "loss"), "acc" if row.get("metric", "loss") == "loss" else "loss"
    errors = targets(claimed, outcome, ESTIMATES, Bounds(0.0, 0.1, 0.02, 0.0))
    _estimates(data, protocols[0], **{metric: TRUTH[metric] + errors * alternating(ESTIMATES), other: TRUTH[other]})
    return float(errors.mean())


def _selection_gain(row, outcome, data, claimed, protocols):
    """Per unit: the optimism of the best of the search's C configurations − the mean optimism of the best of F (the
    row's against_configs; 1: one alone). The best on validation (the first) carries all the optimism X, the others
    none; F of C hold it with chance F/C, so the gain is X·(1 − F/C)."""
    metric = row.get("metric", "loss")
    fewer = row.get("against_configs", 1)
    gains = targets(claimed, outcome, ESTIMATES, Bounds(-0.1, 0.3, 0.02, 0.0))
    configs = list(search.configs(CONFIG))[:max(3, fewer + 2)]  # few enough that every subset of F is drawn
    for c, name in enumerate(configs):
        for run in data.runs(name, protocols[0], groups=ESTIMATES):
            loss = 0.30 + 0.02 * c
            optimism = gains[run.group] * len(configs) / (len(configs) - fewer) if c == 0 else 0.0
            run.curve("validation", "loss", best_epoch=CHOSEN_EPOCH, best_value=loss)
            run.curve("validation", "acc", constant=0.85)
            # optimism: test − validation loss, validation − test accuracy
            run.curve("test", "loss", constant=loss + (optimism if metric == "loss" else 0.0))
            run.curve("test", "acc", constant=0.85 - (optimism if metric == "acc" else 0.0))
    return float(gains.mean())


STUDY_DESIGNS = {
    "spread_ratio": _spread_ratio,
    "iterated_spread_ratio": _spread_ratio,  # the same, of iterated K-folds (the row's ``iterate``)
    "estimate_difference": _estimate_difference,
    "absolute_error": _absolute_error,
    "selection_gain": _selection_gain,
}


def _study_row(row, outcome, data, claimed):
    protocols = [roles().protocol(role) for role in row["study"]]
    name = " vs ".join(protocols)
    _truth(data)
    return {name: STUDY_DESIGNS[row["statistic"]](row, outcome, data, claimed[name], protocols)}


# --- thresholds: the row's own, or computed from the runs --------------------------------------------------------

def _numeric(claimed: dict) -> bool:
    (value,) = claimed.values()
    return all(isinstance(v, (int, float)) for v in (value if isinstance(value, list) else [value]))


NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_claimed(text: str) -> dict:
    """A result's ``claimed`` column as a ``claimed``: it starts as stats.describe_claimed writes one ("> 0.1",
    "< -10", "within [2.5, 4.5]"), whatever follows (a noise floor's explanation)."""
    if match := re.match(rf"\s*([<>])\s*({NUMBER})", text):
        return {"above" if match[1] == ">" else "below": float(match[2])}
    match = re.match(rf"\s*within \[({NUMBER}), ({NUMBER})\]", text)
    assert match, f"no threshold at the start of the result's claimed column: {text!r}"
    return {"within": [float(match[1]), float(match[2])]}


def _keys(row: dict) -> list[str]:
    """The protocol column of a row's results."""
    if "images" in row:
        return [row["images"]["study"]]
    if "clock" in row:
        return ["clock"]
    if "pretraining" in row:
        return ["pretraining"]
    if "recipe" in row:
        return [f"recipe_{row['recipe']['task']}"]
    if "threshold" in row:
        return [f"recipe_{row['threshold']['task']}"]
    if "fit" in row:
        return [row["fit"]]
    if "duplicates" in row:
        return ["duplicate_leak"]
    if "study" in row:
        return [" vs ".join(roles().protocol(role) for role in row["study"])]
    return [roles().protocol(role) for role in row["protocols"]]


def computed(row: dict) -> bool:
    """Whether the row's threshold is computed from its runs (a ``noise_floor``, or a name in place of a number)."""
    return bool(row.get("noise_floor")) or not _numeric(row["claimed"])


def thresholds(row: dict, outcome: str) -> dict[str, dict]:
    """The row's ``claimed`` by result protocol. One computed from the runs is read off a first computation of the
    same design, built against the words' number (0 where there is none): the runs it reads (their noise) are the
    same whatever the outcome, the test checks that it did not move."""
    if not computed(row):
        return {key: row["claimed"] for key in _keys(row)}
    ((kind, _),) = row["claimed"].items()
    provisional = row["claimed"] if _numeric(row["claimed"]) else {kind: [0.0, 1.0] if kind == "within" else 0.0}
    data = Synthetic()
    build(row, outcome, data, {key: provisional for key in _keys(row)})
    table = compute(data)
    mine = table[table.id == row["id"]]
    return {p: parse_claimed(text) for p, text in zip(mine.protocol, mine.claimed)}


# --- the tests ---------------------------------------------------------------------------------------------------

def compute(data: Synthetic) -> pd.DataFrame:
    metrics, scores, images, clock, pretraining, recipe, duplicates, threshold = data.tables()
    return claims.compute_claims(metrics, scores, CONFIG, CHAPTER, images, clock, pretraining, recipe, duplicates,
                                 threshold)


def run_case(case: Case) -> tuple[pd.DataFrame, dict[str, float], dict[str, dict]]:
    row = ROWS[case.row]
    data = Synthetic()
    claimed = thresholds(row, case.own)
    expected = build(row, case.own, data, claimed)
    if case.guard is not None:
        guard = ROWS[row["requires"]]
        build(guard, case.guard, data, thresholds(guard, case.guard))
    return compute(data), expected, claimed


def _why(result: pd.Series) -> str:
    """What a result says of its verdict: its reason (vacuous, not testable) and its detail."""
    return " ".join(str(result.get(column, "")) for column in ("reason", "detail"))


@pytest.mark.parametrize("case", CASES)
def test_every_row_gives_each_of_its_outcomes(case: Case):
    row = ROWS[case.row]
    table, expected, claimed = run_case(case)
    mine = table[table.id == case.row].set_index("protocol")
    assert sorted(mine.index) == sorted(expected), f"result rows {list(mine.index)}, built {list(expected)}"
    for protocol, value in expected.items():
        result = mine.loc[protocol]
        shown = result[["value", "low", "high", "claimed", "verdict", "detail"]].to_dict()
        assert result.verdict == case.outcome, (protocol, shown)
        # the statistic is the one built: a maker that misses its target fails here, not in a verdict by chance
        assert result.value == pytest.approx(value, rel=1e-6, abs=1e-9), (protocol, shown)
        if computed(row):  # a computed threshold must not move with the values built against it …
            assert parse_claimed(result.claimed) == claimed[protocol], (protocol, shown)
            if _numeric(row["claimed"]):  # … and the runs' noise raises it, so that the case tests the floor
                assert claimed[protocol] != row["claimed"], (protocol, shown)
        if case.guard is not None:
            guard = table[(table.id == row["requires"]) & (table.protocol == protocol)]
            assert list(guard.verdict) == [case.guard], guard[["verdict", "value", "low", "high"]]
        if case.outcome == VACUOUS:  # its reason names the guard
            assert row["requires"] in _why(result), shown
        if case.outcome == NOT_TESTABLE:  # and shows why
            assert row["not_testable"] in _why(result), shown


def test_every_statistic_has_a_maker():
    """A statistic added to claims.py needs its maker here before a row can name it."""
    assert set(claims.STATISTICS) <= set(MAKERS), set(claims.STATISTICS) - set(MAKERS)
    assert set(claims.STUDY_STATISTICS) <= set(STUDY_DESIGNS), set(claims.STUDY_STATISTICS) - set(STUDY_DESIGNS)


def test_every_row_has_a_case_for_each_verdict_it_can_give():
    outcomes = {}
    for param in CASES:
        (case,) = param.values
        outcomes.setdefault(case.row, set()).add(case.outcome)
    assert set(outcomes) == set(ROWS)
    for row_id, row in ROWS.items():
        if "not_testable" in row:
            assert outcomes[row_id] == {NOT_TESTABLE}
        else:
            assert outcomes[row_id] == {HOLDS, FAILS, UNCLEAR} | ({VACUOUS} if "requires" in row else set())


@pytest.mark.parametrize("statistic", sorted(MAKERS))
def test_each_maker_gives_its_statistic(statistic):
    """The makers, checked on their own against claims.py's statistic: every value they are asked for, per run."""
    make, bounds = MAKERS[statistic][0], MAKERS[statistic][1]("loss")
    asked = np.array(bounds.grid if bounds.grid is not None else np.linspace(bounds.lo, bounds.hi, 7))
    runs = [Run({}, (0, 0), 0) for _ in asked]
    split = "train" if statistic in ("first_epoch_below_0_01", "value_at_epoch_3") else "validation"
    for run, value in zip(runs, asked):
        make(run, split, "loss", value)

    def curve(on):
        return pd.DataFrame([draw(run.curve(on, "loss")) for run in runs], columns=EPOCH)

    got = claims.STATISTICS[statistic][0](curve, split).to_numpy()
    np.testing.assert_allclose(got, asked, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("claimed", "outcome"), [
    ({"above": 1}, HOLDS), ({"above": 1}, FAILS), ({"below": -10}, UNCLEAR), ({"within": [2.5, 4.5]}, HOLDS),
    ({"within": [2.5, 4.5]}, FAILS), ({"within": [2.5, 4.5]}, UNCLEAR)])
@pytest.mark.parametrize("bounds", [Bounds(-20, 20, 0.5, 0), EPOCH_BOUNDS.difference()], ids=["continuous", "epochs"])
def test_targets_give_the_verdict_they_are_built_for(claimed, outcome, bounds):
    values = targets(claimed, outcome, 8, bounds)
    assert ((bounds.lo <= values) & (values <= bounds.hi)).all()
    assert stats.verdict(stats.t_interval(values, validation_train_ratio=1 / 3), claimed) == outcome


def test_an_outcome_with_no_room_is_refused_not_built():
    with pytest.raises(Unreachable, match="no value of the statistic lies within"):
        targets({"within": [2.2, 2.8]}, HOLDS, 4, EPOCH_BOUNDS)
    with pytest.raises(Unreachable, match="cannot go below 0"):
        targets({"below": 0}, HOLDS, 4, Bounds(0, 1, 0.1, 0.5))


def test_a_threshold_is_read_back_from_the_result_as_claims_describes_it():
    for claimed in ({"above": 0.0123}, {"below": -10}, {"within": [2.5, 4.5]}, {"above": 1e-05}):
        assert parse_claimed(stats.describe_claimed(claimed)) == claimed
    floor = "< 0.0312 (the words' 0.01, or the noise floor 0.0312 if higher: the 95th percentile …)"
    assert parse_claimed(floor) == {"below": 0.0312}
