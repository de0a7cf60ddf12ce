"""The chapter's claims, tested: a loop over the rows of config/chapter.yaml and a few named statistics.

Each row names a statistic (below), the experiment roles it compares and
the protocol roles it is judged under. Per run, the statistic reduces a
curve (runs × epochs) to one number; comparisons are paired by run (every
experiment trains on the same folds in the same batch order, see
overfit.experiments), trends are a per-run rank correlation with the number
of parameters. The mean over runs is the value; its interval is the one that
fits how the runs were drawn (overfit.stats); the verdict says where the
interval lies against the thresholds the row gives the book's words.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from overfit import chapter as chapter_roles
from overfit import stats, sweeps
from overfit.report.sweeps import ordered
from overfit.report.tables import book_histories, curves, experiments_run, runs_of, validation_train_ratio

FOLDED_KINDS = ("kfold", "grouped_kfold")
CENSORED_NOTE = "never below 0.01: counted as one epoch past the last"


# --- statistics: (runs × epochs curves of one experiment) -> one value per run -------------------------------

def best_epoch(table: pd.DataFrame) -> pd.Series:
    return table.idxmin(axis=1).astype(float)


def best_value(table: pd.DataFrame) -> pd.Series:
    return table.min(axis=1)


def last_value(table: pd.DataFrame) -> pd.Series:
    return table.iloc[:, -1]


def rise_after_best(table: pd.DataFrame) -> pd.Series:
    """How far the curve climbs from its minimum to the last epoch: the amount of overfitting."""
    return table.iloc[:, -1] - table.min(axis=1)


def slope_after_best(table: pd.DataFrame) -> pd.Series:
    """Rise per epoch after the minimum (undefined when the minimum is the last epoch)."""
    span = (table.columns[-1] - best_epoch(table)).replace(0, np.nan)
    return rise_after_best(table) / span


def jitter(table: pd.DataFrame) -> pd.Series:
    return pd.Series(stats.jitter(table.to_numpy()), index=table.index)


def first_epoch_below_0_01(table: pd.DataFrame) -> pd.Series:
    """The first epoch whose value is below 0.01; a run that never gets there counts as one past the last epoch."""
    below = table.lt(0.01)
    last = table.columns[-1]
    return pd.Series(np.where(below.any(axis=1), below.idxmax(axis=1), last + 1), index=table.index, dtype=float)


def value_at_epoch_3(table: pd.DataFrame) -> pd.Series:
    return table[3]


def gap_at_last_epoch(curve, split: str) -> pd.Series:
    """Validation minus training value at the last epoch: reads both curves, whatever the row's split."""
    validation = curve("validation")
    return last_value(validation) - last_value(curve("train")).reindex(validation.index)


def of_curve(statistic):
    """A statistic of the row's own curve, as a statistic of the curve accessor."""
    return lambda curve, split: statistic(curve(split))


# name -> (function(curve, split) -> one value per run, what it measures); ``curve(split)`` gives runs × epochs
STATISTICS = {
    "best_epoch": (of_curve(best_epoch), "epoch of the lowest value"),
    "best_value": (of_curve(best_value), "lowest value"),
    "last_value": (of_curve(last_value), "value at the last epoch"),
    "rise_after_best": (of_curve(rise_after_best), "rise from the minimum to the last epoch"),
    "slope_after_best": (of_curve(slope_after_best), "rise per epoch after the minimum"),
    "jitter": (of_curve(jitter), "epoch-to-epoch noise (median |third difference|, in the noise's sd)"),
    "first_epoch_below_0_01": (of_curve(first_epoch_below_0_01), "first epoch below 0.01"),
    "value_at_epoch_3": (of_curve(value_at_epoch_3), "value at epoch 3"),
    "gap_at_last_epoch": (gap_at_last_epoch, "validation − training value at the last epoch"),
}


@dataclass
class Result:
    id: str
    section: str
    claim: str
    protocol: str = ""
    steps_per_epoch: float = float("nan")
    statistic: str = ""
    value: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    naive_low: float = float("nan")
    naive_high: float = float("nan")
    method: str = ""
    n: int = 0
    dropped: int = 0
    claimed: str = ""
    words: str = ""
    book_value: float = float("nan")
    verdict: str = stats.NOT_RUN
    detail: str = ""


class Context:
    """Everything a claim row is computed from: the tables, the config's roles and protocols."""

    def __init__(self, metrics: pd.DataFrame, scores: pd.DataFrame, config: dict, chapter: dict,
                 images: pd.DataFrame | None = None, clock: pd.DataFrame | None = None):
        self.metrics, self.scores, self.config, self.chapter = metrics, scores, config, chapter
        self.images, self.clock = images, clock
        self.book = book_histories()
        self.present = experiments_run(metrics)
        self._curves: dict[tuple, pd.DataFrame] = {}  # claims read the same curves many times

    def experiments(self, role: str) -> list[str]:
        value = chapter_roles.role(self.config, role)
        if value is None:
            raise NotRun(f"the config gives no experiment the role {role!r}")
        if role in chapter_roles.SWEEP_ROLES:  # a sweep's curve, in its order
            return ordered(self.config, value)
        names = value if isinstance(value, list) else [value]
        return chapter_roles.by_capacity(self.config, names) if role == "capacity" else names

    def protocol(self, role: str) -> str:
        name = chapter_roles.role(self.config, role)
        if name is None:
            raise NotRun(f"the config gives no protocol the role {role!r}")
        return name

    def curves(self, experiment: str, protocol: str, split: str, metric: str) -> pd.DataFrame:
        if experiment not in self.present.get(protocol, set()):
            raise NotRun(f"{protocol} has no runs of {experiment}")
        key = (experiment, protocol, split, metric)
        if key not in self._curves:
            self._curves[key] = curves(self.metrics, experiment, protocol, split, metric)
        return self._curves[key]

    def runs(self, experiment: str, protocol: str) -> int:
        return runs_of(self.metrics, experiment, protocol)

    def folded(self, protocol: str) -> bool:
        return self.config["protocols"][protocol]["kind"] in FOLDED_KINDS

    def validation_train_ratio(self, protocol: str) -> float | None:
        """n_validation / n_training of the protocol's folds (None: runs on one split, independent)."""
        if not self.folded(protocol):
            return None
        # of the folds as the protocol draws them: a sweep's smaller training subsets are not its folds
        written = self.metrics[self.metrics.experiment.isin(list(self.config["experiments"]))]
        return validation_train_ratio(written, protocol)

    def steps_per_epoch(self, protocol: str, experiment: str) -> float:
        rows = self.metrics[(self.metrics.protocol == protocol) & (self.metrics.experiment == experiment)]
        settings = {**self.config["training"], **sweeps.entries(self.config)[experiment]}
        return float(math.ceil(rows.train_size.mean() / settings["batch_size"])) if len(rows) else float("nan")


class NotRun(Exception):
    """A claim that cannot be computed from these results; the message says why."""


def _per_run(ctx: Context, statistic: str, experiment: str, protocol: str, split: str, metric: str) -> pd.Series:
    return STATISTICS[statistic][0](lambda s: ctx.curves(experiment, protocol, s, metric), split)


def _censored(values: dict[str, pd.Series], row: dict, ctx: Context) -> str:
    """For a first-epoch statistic: how many runs never got there (counted one epoch past the last)."""
    if row["statistic"] != "first_epoch_below_0_01":
        return ""
    last = ctx.metrics.epoch.max()
    counts = {name: int((v > last).sum()) for name, v in values.items()}
    return "".join(f"; {name}: {n} of {len(values[name])} runs {CENSORED_NOTE}" for name, n in counts.items() if n)


def _book_value(ctx: Context, row: dict, protocol_role: str, split: str, metric: str) -> float:
    """The same statistic on the book's own recorded run, where the book recorded that curve."""
    names = ctx.chapter.get("book", {}).get("runs", {}).get(protocol_role, {})
    if metric != "loss" or "trend" in row:  # the book recorded Keras' loss only, one run per model
        return float("nan")
    book = ctx.book[ctx.book.section == names.get("section")]

    def one(role: str) -> float:
        def curve(split: str) -> pd.DataFrame:
            name = "loss" if split == "train" else "val_loss"
            rows = book[(book.experiment == names[role]) & (book.metric == name)]
            if rows.empty:
                raise NotRun(f"the book recorded no {name} of {names[role]}")
            return rows.pivot_table(index="section", columns="epoch", values="value")

        if role not in names:
            return float("nan")
        try:
            return float(STATISTICS[row["statistic"]][0](curve, split).iloc[0])
        except NotRun:
            return float("nan")

    if "compare" in row:
        a, b = row["compare"]
        return one(b) - one(a)
    if "of" in row:
        return one(row["of"][0])
    return float("nan")


def _curve_claim(ctx: Context, row: dict, protocol_role: str) -> Result:
    result = Result(row["id"], row["section"], row["sentence"], claimed=stats.describe_claimed(row["claimed"]), words=row["words"])
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    what = f"{STATISTICS[row['statistic']][1]} of the {split} {metric}"
    try:
        protocol = ctx.protocol(protocol_role)
        result.protocol = protocol
        if "compare" in row:
            a, b = (ctx.experiments(r)[0] for r in row["compare"])
            values_a = _per_run(ctx, row["statistic"], a, protocol, split, metric)
            values_b = _per_run(ctx, row["statistic"], b, protocol, split, metric)
            common = values_a.index.intersection(values_b.index)
            per_run = (values_b.loc[common] - values_a.loc[common])
            result.statistic = f"{what}: {b} − {a}, paired by run"
            total = max(ctx.runs(a, protocol), ctx.runs(b, protocol))
            result.detail = f"means: {a} {values_a.mean():.4g}, {b} {values_b.mean():.4g}"
            result.detail += _censored({a: values_a, b: values_b}, row, ctx)
            reference = a
        elif "trend" in row:
            names = ctx.experiments(row["trend"])
            missing = [n for n in names if n not in ctx.present.get(protocol, set())]
            if missing:
                raise NotRun(f"{protocol} has no runs of {', '.join(missing)}")
            table = pd.DataFrame({n: _per_run(ctx, row["statistic"], n, protocol, split, metric) for n in names}).dropna()
            per_run = table.apply(lambda r: stats.rank_correlation(np.arange(len(names)), r.to_numpy()), axis=1)
            along = ("the sweep's order" if row["trend"] in chapter_roles.SWEEP_ROLES else "the number of parameters")
            result.statistic = (f"Spearman correlation, per run, of {along} with the {what} "
                                f"({' < '.join(names)})")
            # a sweep's points train fewer runs than the experiments it includes: count the runs all have
            total = (min if row["trend"] in chapter_roles.SWEEP_ROLES else max)(ctx.runs(n, protocol) for n in names)
            result.detail = "means: " + ", ".join(f"{n} {table[n].mean():.4g}" for n in names)
            reference = names[0]
        else:
            (name,) = (ctx.experiments(r)[0] for r in row["of"])
            per_run = _per_run(ctx, row["statistic"], name, protocol, split, metric)
            result.statistic = f"{what} of {name}"
            total = ctx.runs(name, protocol)
            reference = name
            result.detail = _censored({name: per_run}, row, ctx).removeprefix("; ")
    except NotRun as reason:
        result.detail = str(reason)
        return result
    per_run = per_run.dropna()
    interval = stats.t_interval(per_run, validation_train_ratio=ctx.validation_train_ratio(protocol))
    result.value, result.low, result.high = interval.value, interval.low, interval.high
    result.naive_low, result.naive_high, result.method, result.n = interval.naive_low, interval.naive_high, interval.method, interval.n
    result.dropped = total - interval.n
    result.steps_per_epoch = ctx.steps_per_epoch(protocol, reference)
    result.book_value = _book_value(ctx, row, protocol_role, split, metric)
    result.verdict = stats.verdict(interval, row["claimed"]) if interval.n else stats.NOT_RUN
    if not interval.n:
        result.detail = f"no run to compute it from: all {total} runs diverged or the statistic is undefined for them"
    elif result.dropped:
        result.detail += f"; {result.dropped} run(s) left out (diverged, or the statistic is undefined for them)"
    return result


def _fit_claim(ctx: Context, row: dict) -> Result:
    result = Result(row["id"], row["section"], row["sentence"], protocol=row["fit"], claimed=stats.describe_claimed(row["claimed"]),
                    words=row["words"], statistic=f"{row['statistic']} of the final fit {row['fit']}, over seeds")
    fit = ctx.scores[ctx.scores.fit == row["fit"]] if len(ctx.scores) else ctx.scores
    fit = fit.dropna(subset=[row["statistic"]])
    if fit.empty:
        result.detail = f"no test score of the final fit {row['fit']!r} (not run, or every seed diverged)"
        return result
    interval = stats.t_interval(fit[row["statistic"]])
    result.value, result.low, result.high = interval.value, interval.low, interval.high
    result.naive_low, result.naive_high, result.method, result.n = interval.naive_low, interval.naive_high, interval.method, interval.n
    result.verdict = stats.verdict(interval, row["claimed"])
    book = ctx.chapter.get("book", {}).get(f"{row['statistic']}_{row['fit']}", {})
    result.book_value = book.get("notebook", float("nan"))
    result.detail = f"epochs: {int(fit.epochs.iloc[0])}; seeds' range {fit[row['statistic']].min():.4f}–{fit[row['statistic']].max():.4f}"
    return result


# --- section 4.2: statistics of protocols (overfit.report.audit, overfit.report.tuning) -------------------------
# Each takes the context, the protocols of the row's ``study`` roles and the metric, and returns the interval
# and a description of it. Every estimate is one use of a protocol (a redraw), independent of the others.

def _estimates(ctx: Context, protocol: str):
    from overfit.report.audit import estimates, truth

    reference, book = ctx.experiments("reference")[0], ctx.protocol("book_4_4")
    # ctx.curves: cached, and NotRun where the protocol has no runs of the reference
    loss = ctx.curves(reference, protocol, "validation", "loss")
    test = truth(ctx.curves(reference, book, "validation", "loss"), ctx.curves(reference, book, "validation", "acc"))
    if test.empty:
        raise NotRun(f"every run of {reference} under {book} (the test curve estimates are judged against) diverged")
    return estimates(loss, ctx.curves(reference, protocol, "validation", "acc").reindex(loss.index), test)


def _spread_ratio(ctx, protocols, metric, averaged=False):
    a, b = (_estimates(ctx, p) for p in protocols)
    repeats = ctx.config["protocols"][protocols[1]].get("repeats", 1) if averaged else 1
    what = f"iterated ×{repeats} (derived: sd / √{repeats})" if averaged else "single"
    detail = (f"spreads (sd over reshuffles): {protocols[0]} {a[metric].std(ddof=1):.4f} ({len(a)} estimates), "
              f"{protocols[1]} {what} {b[metric].std(ddof=1) / np.sqrt(repeats):.4f} ({len(b)} estimates)")
    return stats.spread_ratio(a[metric], b[metric], repeats), f"sd of the {metric} estimate: {protocols[0]} / {protocols[1]} {what}", detail


def _estimate_difference(ctx, protocols, metric):
    a, b = (_estimates(ctx, p) for p in protocols)
    detail = f"means: {protocols[0]} {a[metric].mean():.4f} ({len(a)}), {protocols[1]} {b[metric].mean():.4f} ({len(b)})"
    return (stats.difference_interval(a[metric], b[metric]),
            f"mean {metric} estimate: {protocols[0]} − {protocols[1]}", detail)


def _absolute_error(ctx, protocols, metric):
    a = _estimates(ctx, protocols[0])
    errors = a[f"error_{metric}"]
    detail = f"errors: {', '.join(f'{e:+.3f}' for e in errors)}; chosen epochs {sorted(a.epoch.astype(int))}"
    return stats.t_interval(errors.abs()), f"|{metric} estimate − test {metric} at its epoch|, {protocols[0]}", detail


def _selection_gain(ctx, protocols, metric):
    from overfit.report.tuning import scores, selection_gain

    configs = [n for n in ctx.present.get(protocols[0], set()) if n in sweeps.entries(ctx.config)]
    table = scores(ctx.metrics, sorted(configs), protocols[0])
    if table.empty or table.test_loss.isna().all():
        raise NotRun(f"{protocols[0]} has no test scores (it needs evaluate_test)")
    gain = selection_gain(table, metric)
    detail = f"{table.config.nunique()} configurations; per redraw: {', '.join(f'{g:+.4f}' for g in gain)}"
    return (stats.t_interval(gain), f"optimism ({metric}) of the best of all configurations − of one alone, "
            f"{protocols[0]}", detail)


STUDY_STATISTICS = {
    "spread_ratio": lambda ctx, p, m: _spread_ratio(ctx, p, m),
    "iterated_spread_ratio": lambda ctx, p, m: _spread_ratio(ctx, p, m, averaged=True),
    "estimate_difference": _estimate_difference,
    "absolute_error": _absolute_error,
    "selection_gain": _selection_gain,
}


def _study_claim(ctx: Context, row: dict) -> Result:
    result = Result(row["id"], row["section"], row["sentence"], claimed=stats.describe_claimed(row["claimed"]),
                    words=row["words"])
    try:
        protocols = [ctx.protocol(role) for role in row["study"]]
        result.protocol = " vs ".join(protocols)
        interval, result.statistic, result.detail = STUDY_STATISTICS[row["statistic"]](ctx, protocols, row.get("metric", "loss"))
    except NotRun as reason:
        result.detail = str(reason)
        return result
    result.value, result.low, result.high = interval.value, interval.low, interval.high
    result.naive_low, result.naive_high, result.method, result.n = interval.naive_low, interval.naive_high, interval.method, interval.n
    result.verdict = stats.verdict(interval, row["claimed"])
    return result


# --- the experiments on images and the clock (overfit.images, overfit.clock) ------------------------------------
# Their runs are independent seeds (each its own initial weights and batch order, the data the same), and arms
# of a study share the seeds: arms compare paired by seed, with a plain t-interval over the seeds.

def _image_curve(ctx: Context, study: str, arm: str, split: str, metric: str) -> pd.DataFrame:
    if ctx.images is None or study not in set(ctx.images.study):
        raise NotRun(f"no results of the image study {study!r} (is it in the config's images.studies?)")
    rows = ctx.images[(ctx.images.study == study) & (ctx.images.arm == arm) & (ctx.images.split == split)
                      & (ctx.images.metric == metric) & ~ctx.images.diverged.astype(bool)]
    if rows.empty:
        raise NotRun(f"the image study {study!r} has no {split} {metric} of an arm {arm!r}")
    return rows.pivot_table(index="seed", columns="epoch", values="value")


def _image_claim(ctx: Context, row: dict) -> Result:
    spec = row["images"]
    result = Result(row["id"], row["section"], row["sentence"], protocol=spec["study"],
                    claimed=stats.describe_claimed(row["claimed"]), words=row["words"])
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    what = f"{STATISTICS[row['statistic']][1]} of the {{}} {metric}"
    statistic = STATISTICS[row["statistic"]][0]
    try:
        def per_seed(arm: str, on: str) -> pd.Series:
            return statistic(lambda s: _image_curve(ctx, spec["study"], arm, s, metric), on)

        if "compare" in spec:  # two arms on one split
            a, b = spec["compare"]
            on = spec.get("splits", [split])[0]
            values_a, values_b = per_seed(a, on), per_seed(b, on)
            result.statistic = f"{what.format(on)}: {b} − {a}, paired by seed"
        elif "splits" in spec:  # one arm on two splits
            (a, b), arm = spec["splits"], spec["of"]
            values_a, values_b = per_seed(arm, a), per_seed(arm, b)
            result.statistic = f"{what.format(b)} − of the {a} {metric}, {arm}, per seed"
        else:
            values_b = per_seed(spec["of"], split)
            values_a = pd.Series(0.0, index=values_b.index)
            result.statistic = f"{what.format(split)} of {spec['of']}"
    except NotRun as reason:
        result.detail = str(reason)
        return result
    common = values_a.index.intersection(values_b.index)
    per_run = (values_b.loc[common] - values_a.loc[common]).dropna()
    result.detail = "per seed: " + ", ".join(f"{v:+.4g}" for v in per_run)
    return _judged(result, stats.t_interval(per_run), row)


def _clock_claim(ctx: Context, row: dict) -> Result:
    spec = row["clock"]
    result = Result(row["id"], row["section"], row["sentence"], protocol="clock",
                    claimed=stats.describe_claimed(row["claimed"]), words=row["words"])
    if ctx.clock is None or ctx.clock.empty:
        result.detail = "no results of the clock (is `clock:` in the config?)"
        return result
    table = ctx.clock

    def runs(representation: str, size: int | None) -> pd.DataFrame:
        chosen = table[(table.representation == representation)
                       & ((table.train_size == size) if size is not None else True)]
        if chosen.empty:
            raise NotRun(f"the clock has no {representation} runs" + (f" on {size} faces" if size else ""))
        return chosen.set_index("seed")

    try:
        if "compare" in spec:
            (ra, na), (rb, nb) = spec["compare"]
            a, b = runs(ra, na), runs(rb, nb)
            common = a.index.intersection(b.index)
            per_run = (b.mean_error.loc[common] - a.mean_error.loc[common]).dropna()
            interval = stats.t_interval(per_run)
            result.statistic = (f"mean reading error (minutes, on the test faces): {rb} on {nb} faces − {ra} on "
                                f"{na}, paired by seed")
            result.detail = (f"means: {ra} {a.mean_error.mean():.3g}, {rb} {b.mean_error.mean():.3g} min; training "
                             f"compute {ra} {a.flops.mean():.3g}, {rb} {b.flops.mean():.3g} FLOPs "
                             f"({a.flops.mean() / b.flops.mean():.3g}×)")
        else:
            (one,) = runs(spec["of"], None).itertuples()
            # one deterministic reading of the test faces: the interval is over the faces
            interval = stats.summary_interval(one.mean_error, one.error_sd, one.faces, "t over the test faces (one reading)")
            result.statistic = f"mean reading error (minutes) of {spec['of']} on the test faces"
            result.detail = f"median {one.median_error:.3g} min; {one.within_5:.2%} read within 5 minutes"
    except NotRun as reason:
        result.detail = str(reason)
        return result
    return _judged(result, interval, row)


def _judged(result: Result, interval: stats.Interval, row: dict) -> Result:
    result.value, result.low, result.high = interval.value, interval.low, interval.high
    result.naive_low, result.naive_high, result.method, result.n = interval.naive_low, interval.naive_high, interval.method, interval.n
    result.verdict = stats.verdict(interval, row["claimed"]) if interval.n else stats.NOT_RUN
    return result


def compute_claims(metrics: pd.DataFrame, scores: pd.DataFrame, config: dict, chapter: dict,
                   images: pd.DataFrame | None = None, clock: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (claim, protocol) of the chapter; see Result for the columns."""
    ctx = Context(metrics, scores, config, chapter, images, clock)
    results: list[Result] = []
    for row in chapter["claims"]:
        if "images" in row:
            results.append(_image_claim(ctx, row))
        elif "clock" in row:
            results.append(_clock_claim(ctx, row))
        elif "fit" in row:
            results.append(_fit_claim(ctx, row))
        elif "study" in row:
            results.append(_study_claim(ctx, row))
        else:
            results.extend(_curve_claim(ctx, row, protocol_role) for protocol_role in row["protocols"])
    _apply_requirements(results, chapter)
    return pd.DataFrame([asdict(r) for r in results])


def _apply_requirements(results: list[Result], chapter: dict) -> None:
    """A claim that is vacuous without another (5a without 5b) cannot hold where that one does not."""
    rows = {row["id"]: row for row in chapter["claims"]}
    by_key = {(r.id, r.protocol): r for r in results}
    for result in results:
        required = rows[result.id].get("requires")
        if not required or result.verdict != stats.HOLDS:
            continue
        other = by_key.get((required, result.protocol))
        if other is None or other.verdict != stats.HOLDS:
            outcome = other.verdict if other else stats.NOT_RUN
            result.verdict = stats.FAILS if outcome == stats.FAILS else stats.UNCLEAR
            result.detail += f"; {required} {outcome}, so this cannot hold on its own"


def verdict_flips(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Claims that hold in one table and do not hold in the other (e.g. the pipeline run with two seeds)."""
    merged = first.merge(second, on=["id", "protocol"], suffixes=("_a", "_b"))
    opposite = {(stats.HOLDS, stats.FAILS), (stats.FAILS, stats.HOLDS)}
    flips = merged[[(a, b) in opposite for a, b in zip(merged.verdict_a, merged.verdict_b)]]
    return flips[["id", "protocol", "value_a", "low_a", "high_a", "verdict_a", "value_b", "low_b", "high_b", "verdict_b"]]
