"""Section 4.2's information leak, simulated: pick the best of N configurations on validation, then look at the test set.

The search's configurations (overfit.search) train under four validation
protocols, all grouped by movie so that the movie leak (overfit.report.leak)
does not add to the tuning leak: a small and a large hold-out (each redrawn a
few times), a K-fold, and a nested K-fold whose inner folds lie within the
K-fold's outer training rows. Every model is also scored on the test set
after each epoch; the test set is used here only to measure the leak.

A configuration's validation score is its mean validation curve's lowest loss
(the epoch is tuned too); the tuner keeps the configuration with the lowest.
Its *optimism* is the same model's test loss at that epoch minus the selected
validation loss (and validation accuracy minus test accuracy): how much better
the validation score looks than what the model does on unseen data.
The nested K-fold selects within each outer fold on the inner folds, then
scores the chosen configuration (and epoch) on that outer fold's validation
rows, with the outer fold's model: its estimate is the mean over outer folds.

For each N (1, 2, 3, 4, 6, 8, 12, … up to every configuration the protocol
trained: ``sizes``), the mean over random subsets of N configurations (all
subsets where there are few) and over the protocol's redraws; p10 and p90 are
over the same subsets and redraws: what one tuner would see eight times in ten.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from overfit.report.tables import curves

COLUMNS = ["protocol", "configs", "optimism_loss", "optimism_loss_p10", "optimism_loss_p90", "optimism_acc",
           "optimism_acc_p10", "optimism_acc_p90", "selected_loss", "selected_test_loss", "draws"]
# Subsets of N configurations drawn per N, where there are more than this many.
DRAWS = 400


def sizes(count: int) -> list[int]:
    """The numbers of configurations the curve is drawn at: 1, 2, 3, 4, 6, 8, 12, 16, … (about √2 apart) and all."""
    steps = sorted({n for k in range(count.bit_length() + 1) for n in (2 ** k, 3 * 2 ** k // 2) if 1 <= n < count})
    return [*steps, count]


def _curve(metrics, name, protocol, split, metric, level="repeat"):
    table = curves(metrics, name, protocol, split, metric)
    return table.groupby(level=level).mean() if len(table) else table


def scores(metrics: pd.DataFrame, configs: list[str], protocol: str, level: str = "repeat") -> pd.DataFrame:
    """Per unit (``level`` of the runs: a hold-out's redraw; a K-fold's single repeat) and configuration: the
    epoch of its lowest mean validation loss, and its validation and test loss and accuracy there."""
    rows = []
    for name in configs:
        loss = _curve(metrics, name, protocol, "validation", "loss", level)
        if loss.empty:
            continue
        acc = _curve(metrics, name, protocol, "validation", "acc", level)
        test_loss, test_acc = (_curve(metrics, name, protocol, "test", m, level) for m in ("loss", "acc"))
        for unit, values in loss.iterrows():
            epoch = int(values.idxmin())
            row = {"unit": unit, "config": name, "epoch": epoch, "loss": float(values[epoch]), "acc": float(acc.loc[unit, epoch])}
            if not test_loss.empty:
                row.update(test_loss=float(test_loss.loc[unit, epoch]), test_acc=float(test_acc.loc[unit, epoch]))
            rows.append(row)
    return pd.DataFrame(rows, columns=["unit", "config", "epoch", "loss", "acc", "test_loss", "test_acc"])


def nested_scores(metrics: pd.DataFrame, configs: list[str], nested: str, outer: str) -> pd.DataFrame:
    """Per outer fold and configuration: its inner score (chosen epoch, mean inner validation loss) and, at that
    epoch, the outer fold model's validation and test values (what the nested K-fold reports for it)."""
    inner = scores(metrics, configs, nested, level="repeat")  # a nested protocol's repeat is its outer fold
    rows = []
    for name in configs:
        values = {m: curves(metrics, name, outer, s, k).groupby(level="fold").mean()
                  for m, (s, k) in {"loss": ("validation", "loss"), "acc": ("validation", "acc"),
                                    "test_loss": ("test", "loss"), "test_acc": ("test", "acc")}.items()}
        for _, row in inner[inner.config == name].iterrows():
            fold, epoch = int(row.unit), int(row.epoch)
            if fold not in values["loss"].index:
                continue
            rows.append({"unit": fold, "config": name, "epoch": epoch, "inner_loss": row.loss,
                         **{m: float(v.loc[fold, epoch]) for m, v in values.items()}})
    return pd.DataFrame(rows, columns=["unit", "config", "epoch", "inner_loss", "loss", "acc", "test_loss", "test_acc"])


def _subsets(configs: list[str], size: int, rng: np.random.Generator) -> list[tuple[str, ...]]:
    if math.comb(len(configs), size) <= DRAWS:
        return list(itertools.combinations(configs, size))
    return [tuple(rng.choice(configs, size, replace=False)) for _ in range(DRAWS)]


def _optimism(table: pd.DataFrame, subset: tuple[str, ...], select_on: str) -> pd.DataFrame:
    """Per unit: the configuration of ``subset`` with the lowest ``select_on``, and its values."""
    chosen = table[table.config.isin(subset)]
    return chosen.loc[chosen.groupby("unit")[select_on].idxmin()]


def optimism_curve(table: pd.DataFrame, protocol: str, seed: int, select_on: str = "loss",
                   mean_over_units: bool = False) -> pd.DataFrame:
    """Optimism against N, the number of configurations the tuner compared (see the module's docstring).

    ``mean_over_units``: the estimate is the mean over units (a nested K-fold's outer folds), so is its optimism.
    """
    configs = sorted(table.config.unique())
    rng = np.random.default_rng(seed)
    rows = []
    for size in sizes(len(configs)):
        loss, acc, selected, selected_test = [], [], [], []
        for subset in _subsets(configs, size, rng):
            best = _optimism(table, subset, select_on)
            parts = [best] if not mean_over_units else [best.mean(numeric_only=True).to_frame().T]
            for part in parts:
                loss.extend(part.test_loss - part.loss)
                acc.extend(part.acc - part.test_acc)
                selected.extend(part.loss)
                selected_test.extend(part.test_loss)
        rows.append({"protocol": protocol, "configs": size, "optimism_loss": np.mean(loss),
                     "optimism_loss_p10": np.percentile(loss, 10), "optimism_loss_p90": np.percentile(loss, 90),
                     "optimism_acc": np.mean(acc), "optimism_acc_p10": np.percentile(acc, 10),
                     "optimism_acc_p90": np.percentile(acc, 90), "selected_loss": np.mean(selected),
                     "selected_test_loss": np.mean(selected_test), "draws": len(loss)})
    return pd.DataFrame(rows, columns=COLUMNS)


def tuning_tables(metrics: pd.DataFrame, config: dict) -> dict[str, pd.DataFrame]:
    """Each tuning protocol's per-unit, per-configuration scores (the nested one's by outer fold)."""
    from overfit.chapter import TUNING_ROLES
    from overfit.grid import protocol_experiments

    roles = config.get("roles", {})
    out = {}
    for role in TUNING_ROLES:
        protocol = roles.get(role)
        if not protocol or protocol not in config["protocols"]:
            continue
        configs = protocol_experiments(config, protocol)
        if role == "tuning_nested":
            outer = roles.get("tuning_kfold")
            if outer:
                out[protocol] = nested_scores(metrics, configs, protocol, outer)
        else:
            out[protocol] = scores(metrics, configs, protocol)
    return out


def tuning_leak(metrics: pd.DataFrame, config: dict) -> pd.DataFrame:
    """The optimism curves of every tuning protocol (roles tuning_small, tuning_large, tuning_kfold, tuning_nested)."""
    from overfit.seeds import stable_seed

    nested = config.get("roles", {}).get("tuning_nested")
    frames = []
    for protocol, table in tuning_tables(metrics, config).items():
        if table.empty or table.test_loss.isna().all():
            continue
        is_nested = protocol == nested
        frames.append(optimism_curve(table, protocol, stable_seed(config["seed"], "tuning", protocol),
                                     "inner_loss" if is_nested else "loss", mean_over_units=is_nested))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def selection_gain(table: pd.DataFrame, metric: str = "loss", fewer: int = 1, seed: int = 0) -> pd.Series:
    """Per unit (a redraw of the split): the optimism of the best of all configurations minus the mean optimism of
    the best of ``fewer`` (1: a configuration taken alone; else over random subsets of that many, as the curve draws
    them). What choosing among all of them on this validation set adds to its optimism."""
    sign = 1 if metric == "loss" else -1
    optimism = sign * (table[f"test_{metric}"] - table[metric])
    if fewer == 1:
        baseline = optimism.groupby(table.unit).mean()
    else:
        subsets = _subsets(sorted(table.config.unique()), fewer, np.random.default_rng(seed))
        picks = [_optimism(table, subset, "loss").index for subset in subsets]
        baseline = pd.concat([optimism.loc[p].set_axis(table.unit.loc[p]) for p in picks]).groupby(level=0).mean()
    best = _optimism(table, tuple(table.config.unique()), "loss")
    return optimism.loc[best.index].set_axis(best.unit) - baseline
