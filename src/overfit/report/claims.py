"""The chapter's claims, tested: a loop over the rows of config/chapter.yaml and a few named statistics.

Each row names a statistic (below), the experiment roles it compares and
the protocol roles it is judged under. Per run, the statistic reduces a
curve (runs × epochs) to one number; comparisons are paired by run (every
experiment trains on the same folds in the same batch order, see
overfit.experiments), trends are a per-run rank correlation with the number
of parameters. The mean over runs is the value; its interval is the one that
fits how the runs were drawn (overfit.stats); the verdict says where the
interval lies against the thresholds the row gives the book's words.

Besides holds / does not hold / unclear, a row can be *vacuous* (its
``requires`` guard did not hold: the sentence is empty without it) or *not
testable here* (chapter.yaml's ``not_testable``: the design cannot answer
the sentence; the statistic is still shown). Every row with a test gets the
p-value of its verdict's direction, and the family of all rows a verdict
after Holm's adjustment beside the raw one (``verdict_adjusted``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from overfit import chapter as chapter_roles
from overfit import stats, sweeps
from overfit.errors import ConfigError
from overfit.recipe import candidates, decide, threshold
from overfit.report import modes
from overfit.report.audit import estimates, truth
from overfit.report.provenance import differences
from overfit.report.sweeps import at_size, ordered
from overfit.report.tables import book_histories, curves, experiments_run, runs_of, validation_train_ratio
from overfit.report.tuning import scores, selection_gain
from overfit.seeds import stable_seed
from overfit.studies import duplicates

FOLDED_KINDS = ("kfold", "grouped_kfold")
CENSORED_NOTE = "never below 0.01: counted as one epoch past their last"


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
    """The first epoch whose value is below 0.01; a run that never gets there counts as one past its own last
    epoch (censored: a run of 10 epochs is not counted at 21)."""
    below = table.lt(0.01)
    return pd.Series(np.where(below.any(axis=1), below.idxmax(axis=1), last_epochs(table) + 1), index=table.index,
                     dtype=float)


def last_epochs(table: pd.DataFrame) -> np.ndarray:
    """Each run's own last epoch: its last column with a value."""
    return table.columns.to_numpy()[table.notna().to_numpy().cumsum(axis=1).argmax(axis=1)]


def value_at_epoch_3(table: pd.DataFrame) -> pd.Series:
    return table[3]


def value_at_highest_mean_epoch(table: pd.DataFrame) -> pd.Series:
    """Each run's value at the epoch where the mean over the runs is highest: an accuracy at the epoch early
    stopping on these runs would choose (section 4.1's pretraining study; overfit.studies.pretraining.chosen_epochs
    chooses its test fits' epochs so)."""
    return table[table.mean(axis=0).idxmax()]


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
    "value_at_highest_mean_epoch": (of_curve(value_at_highest_mean_epoch),
                                    "value at the epoch of the highest mean over runs"),
    "gap_at_last_epoch": (gap_at_last_epoch, "validation − training value at the last epoch"),
}
EPOCH_STATISTICS = ("best_epoch", "first_epoch_below_0_01")
NONNEGATIVE = ("rise_after_best", "slope_after_best", "jitter", "absolute_error", "mean_error")
CORRELATION = (-1.0, 1.0)


def bounds(statistic: str, metric: str, epochs: int, difference: bool = False) -> tuple[float, float]:
    """Where a row's per-run statistic cannot go (its interval does not cross them, overfit.stats.t_interval):
    an accuracy in [0, 1], a loss or a rise at least 0, an epoch in [1, the last + 1]; a difference of two,
    between their extremes' differences."""
    if statistic in EPOCH_STATISTICS:
        lo, hi = 1.0, epochs + 1.0
    elif statistic in NONNEGATIVE or (statistic.endswith("value") or statistic == "value_at_epoch_3") and metric != "acc":
        lo, hi = 0.0, np.inf
    elif metric == "acc" or statistic == "test_acc":
        lo, hi = 0.0, 1.0
    elif statistic == "test_loss":
        lo, hi = 0.0, np.inf
    else:
        return stats.NO_BOUNDS
    return (lo - hi, hi - lo) if difference else (lo, hi)


def interval(values, statistic_bounds: tuple[float, float], **options) -> stats.Interval:
    """The row's interval: on the logit scale for an accuracy or a correlation (a fraction, bounded on both
    sides), cut at the bounds for the others (overfit.stats.t_interval says why)."""
    fraction = statistic_bounds in ((0.0, 1.0), (-1.0, 1.0))
    return stats.t_interval(values, bounds=statistic_bounds, transform=fraction, **options)


def noise_floor(curves: list[pd.DataFrame], draws: int = 4000, seed: int = 0) -> float:
    """The 95th percentile of the mean rise after the minimum over these runs if none of them rose at all.

    ``rise_after_best`` (last − lowest value) is positive on pure noise: the last epoch of a flat noisy curve is
    above its lowest. Each run's null is a flat curve over its epochs with its own epoch-to-epoch noise (its
    ``jitter``, which a smooth trend does not inflate); the mean over the runs is drawn ``draws`` times. A claim
    about a rise is judged against at least this level (chapter.yaml: ``noise_floor: true``)."""
    rng = np.random.default_rng(seed)
    rises = []
    for table in curves:
        sigma = stats.jitter(table.to_numpy())
        noise = rng.standard_normal((draws, len(sigma), table.shape[1])) * sigma[None, :, None]
        rises.append(noise[:, :, -1] - noise.min(axis=2))
    return float(np.quantile(np.concatenate(rises, axis=1).mean(axis=1), 0.95))


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
    p_value: float = float("nan")  # two-sided, of the verdict's direction (stats.judged)
    verdict_adjusted: str = stats.NOT_RUN  # after Holm's adjustment over every row of the table
    reason: str = ""  # why a row is vacuous or not testable here
    post_hoc: bool = False  # its threshold or design was set or changed after its results were seen
    history: str = ""
    detail: str = ""


class Context:
    """Everything a claim row is computed from: the tables, the config's roles and protocols."""

    def __init__(self, metrics: pd.DataFrame, scores: pd.DataFrame, config: dict, chapter: dict,
                 images: pd.DataFrame | None = None, clock: pd.DataFrame | None = None,
                 pretraining: pd.DataFrame | None = None, recipe: dict[str, pd.DataFrame] | None = None,
                 duplicate_leak: pd.DataFrame | None = None, threshold: pd.DataFrame | None = None):
        self.metrics, self.scores, self.config, self.chapter = metrics, scores, config, chapter
        self.threshold = threshold  # results/recipe_threshold.csv: imbalanced tasks' run scores (recipe.threshold)
        self.images, self.clock, self.pretraining = images, clock, pretraining
        self.duplicate_leak = duplicate_leak  # results/duplicate_leak.csv (overfit.studies.duplicates)
        self.recipe = recipe or {}  # task -> the curves of its step 5 (results/recipe/<task>/5_scale_up.parquet)
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

    def at_size(self, experiment: str, size: int) -> str:
        try:
            return at_size(self.config, experiment, size)
        except ConfigError as reason:
            raise NotRun(str(reason)) from None

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
        if self._curves[key].empty:
            raise NotRun(f"no run to compute it from: all {self.runs(experiment, protocol)} runs diverged, or none "
                         f"recorded the {split} {metric} of {experiment} under {protocol}")
        return self._curves[key]

    def runs(self, experiment: str, protocol: str) -> int:
        return runs_of(self.metrics, experiment, protocol)

    def book_mode(self, protocol_role: str, protocol: str, experiments) -> tuple[pd.Index, str] | None:
        """Where one of ``experiments`` has two modes under the protocol (chapter ``book.modes``): the runs in the
        mode the book's recorded run was in, and a sentence that says so; else None."""
        entry = self.chapter.get("book", {}).get("modes", {}).get(protocol_role)
        if not entry:
            return None
        experiment = self.experiments(entry["role"])[0]
        if experiment not in experiments:
            return None
        section = self.chapter["book"].get("runs", {}).get(protocol_role, {})
        book_mode = modes.book_run_mode(self.book, section.get("section"), section.get(entry["role"]), entry["stalls_from"])
        if book_mode is None:
            return None
        mode = modes.mode_of(modes.lowest_validation_loss(self.metrics, experiment, protocol), entry["stalls_from"])
        kept = mode.index[mode == book_mode]
        words = (f"read in the mode of the book's run of {experiment} ({book_mode}: lowest validation loss "
                 f"{'≥' if book_mode == modes.STALLS else '<'} {entry['stalls_from']:g}): {len(kept)} of its {len(mode)} runs "
                 f"({modes.frequency_words(mode)})")
        return kept, words

    def folded(self, protocol: str) -> bool:
        return self.config["protocols"][protocol]["kind"] in FOLDED_KINDS

    def validation_train_ratio(self, protocol: str) -> float | None:
        """n_validation / n_training of the protocol's folds (None: runs on one split, independent)."""
        if not self.folded(protocol):
            return None
        # of the folds as the protocol draws them: a sweep's smaller training subsets are not its folds (unless a
        # sweep's points are all the protocol trained)
        written = self.metrics[self.metrics.experiment.isin(list(self.config["experiments"]))]
        if not (written.protocol == protocol).any():
            written = self.metrics
        return validation_train_ratio(written, protocol)

    def steps_per_epoch(self, protocol: str, experiment: str) -> float:
        rows = self.metrics[(self.metrics.protocol == protocol) & (self.metrics.experiment == experiment)]
        settings = {**self.config["training"], **sweeps.entries(self.config)[experiment]}
        return float(math.ceil(rows.train_size.mean() / settings["batch_size"])) if len(rows) else float("nan")


class NotRun(Exception):
    """A claim that cannot be computed from these results; the message says why."""


def _per_run(ctx: Context, statistic: str, experiment: str, protocol: str, split: str, metric: str) -> pd.Series:
    return STATISTICS[statistic][0](lambda s: ctx.curves(experiment, protocol, s, metric), split)


def _censored(curves: dict[str, pd.DataFrame], row: dict) -> str:
    """For a first-epoch statistic: how many runs never got there (counted one epoch past their own last)."""
    if row["statistic"] != "first_epoch_below_0_01":
        return ""
    counts = {name: (int((~table.lt(0.01).any(axis=1)).sum()), len(table)) for name, table in curves.items()}
    return "".join(f"; {name}: {n} of {total} runs {CENSORED_NOTE}" for name, (n, total) in counts.items() if n)


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
    result = _result(row)
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    what = f"{STATISTICS[row['statistic']][1]} of the {split} {metric}"
    try:
        protocol = ctx.protocol(protocol_role)
        result.protocol = protocol
        if "compare" in row:
            a, b = (ctx.experiments(r)[0] for r in row["compare"])
            if "train_sizes" in row:  # each side on its share of the training reviews: a learning curve's points
                a, b = (ctx.at_size(name, size) for name, size in zip((a, b), row["train_sizes"]))
            values_a = _per_run(ctx, row["statistic"], a, protocol, split, metric)
            values_b = _per_run(ctx, row["statistic"], b, protocol, split, metric)
            common = values_a.index.intersection(values_b.index)
            per_run = (values_b.loc[common] - values_a.loc[common])
            result.statistic = f"{what}: {b} − {a}, paired by run"
            # the runs both trained (a protocol's wide experiments may train only its first seeds)
            total = min(ctx.runs(a, protocol), ctx.runs(b, protocol))
            result.detail = f"means: {a} {values_a.mean():.4g}, {b} {values_b.mean():.4g}"
            result.detail += _censored({n: ctx.curves(n, protocol, split, metric) for n in (a, b)}, row)
            reference, floor_of = a, (a, b)
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
            # a sweep's points train fewer runs than the experiments it includes, and a protocol's wide experiments
            # may train only its first seeds: count the runs all have
            total = min(ctx.runs(n, protocol) for n in names)
            result.detail = "means: " + ", ".join(f"{n} {table[n].mean():.4g}" for n in names)
            reference, floor_of = names[0], tuple(names)
        else:
            (name,) = (ctx.experiments(r)[0] for r in row["of"])
            per_run = _per_run(ctx, row["statistic"], name, protocol, split, metric)
            result.statistic = f"{what} of {name}"
            total = ctx.runs(name, protocol)
            reference, floor_of = name, (name,)
            result.detail = _censored({name: ctx.curves(name, protocol, split, metric)}, row).removeprefix("; ")
        claimed = _claimed(row, result, [ctx.curves(n, protocol, split, metric) for n in floor_of])
        mode = ctx.book_mode(protocol_role, protocol, floor_of)
    except NotRun as reason:
        result.detail = str(reason)
        return result
    if mode is not None:
        kept, words = mode
        total -= int((~per_run.index.isin(kept)).sum())
        per_run = per_run[per_run.index.isin(kept)]
        result.detail = "; ".join(part for part in (result.detail, words) if part)
    per_run = per_run.dropna()
    epochs = int(ctx.curves(reference, protocol, split, metric).columns.max())
    statistic_bounds = (CORRELATION if "trend" in row
                        else bounds(row["statistic"], metric, epochs, difference="compare" in row))
    found = interval(per_run, statistic_bounds, validation_train_ratio=ctx.validation_train_ratio(protocol),
                     ranking_points=len(floor_of) if "trend" in row else None)
    result.dropped = total - found.n
    result.steps_per_epoch = ctx.steps_per_epoch(protocol, reference)
    result.book_value = _book_value(ctx, row, protocol_role, split, metric)
    _judged(result, found, claimed)
    if not found.n:
        result.detail = f"no run to compute it from: all {total} runs diverged or the statistic is undefined for them"
    elif result.dropped:
        result.detail += f"; {result.dropped} run(s) left out (diverged, or the statistic is undefined for them)"
    return result


def _result(row: dict, **fields) -> Result:
    """A row's result before it is computed: what the chapter says of it (its sentence, words, history)."""
    history = row.get("history", [])
    return Result(row["id"], row["section"], row["sentence"], claimed=stats.describe_claimed(row["claimed"]),
                  words=row["words"], post_hoc=any(entry.get("seen") == "after" for entry in history),
                  history="; ".join(f"{e['date']} {e['change']} ({e['seen']} the results: {e['why']})"
                                    for e in history), **fields)


def _claimed(row: dict, result: Result, curves: list[pd.DataFrame]) -> dict:
    """The row's thresholds; a rise's raised to the noise floor of these runs where the row asks for it."""
    if not row.get("noise_floor"):
        return row["claimed"]
    floor = noise_floor(curves)
    (side, threshold), = row["claimed"].items()
    claimed = {side: max(threshold, floor)}
    result.claimed = (f"{stats.describe_claimed(claimed)} (the words' {threshold:g}, or the noise floor "
                      f"{floor:.4g} if higher: the 95th percentile of the mean rise of flat curves with these runs' "
                      f"noise)")
    return claimed


def _fit_claim(ctx: Context, row: dict) -> Result:
    result = _result(row, protocol=row["fit"], statistic=f"{row['statistic']} of the final fit {row['fit']}, over seeds")
    finals = ctx.scores
    fit = finals[finals.fit == row["fit"]].dropna(subset=[row["statistic"]]) if "fit" in finals else finals
    if fit.empty:
        result.detail = f"no test score of the final fit {row['fit']!r} (not run, or every seed diverged)"
        return result
    _judged(result, interval(fit[row["statistic"]], bounds(row["statistic"], "", 0)), row["claimed"])
    book = ctx.chapter.get("book", {}).get(f"{row['statistic']}_{row['fit']}", {})
    result.book_value = book.get("notebook", float("nan"))
    result.detail = f"epochs: {int(fit.epochs.iloc[0])}; seeds' range {fit[row['statistic']].min():.4f}–{fit[row['statistic']].max():.4f}"
    return result


# --- section 4.2: statistics of protocols (overfit.report.audit, overfit.report.tuning) -------------------------
# Each takes the context, the protocols of the row's ``study`` roles and the metric, and returns the interval
# and a description of it. Every estimate is one use of a protocol (a redraw), independent of the others.

def _estimates(ctx: Context, protocol: str, iterate: int = 1):
    """Each use of the protocol: one per redraw, or, with ``iterate``, one per iterated K-fold of that many
    consecutive repeats (the mean curve over all their folds, as an iterated K-fold estimates)."""

    reference, book = ctx.experiments("reference")[0], ctx.protocol("book_4_4")
    # ctx.curves: cached, and NotRun where the protocol has no runs of the reference
    loss = ctx.curves(reference, protocol, "validation", "loss")
    acc = ctx.curves(reference, protocol, "validation", "acc").reindex(loss.index)
    test = truth(ctx.curves(reference, book, "validation", "loss"), ctx.curves(reference, book, "validation", "acc"))
    if test.empty:
        raise NotRun(f"every run of {reference} under {book} (the test curve estimates are judged against) diverged")
    if iterate > 1:
        repeats = loss.index.get_level_values("repeat")
        whole = repeats < (repeats.max() + 1) // iterate * iterate  # a last group short of repeats is left out
        if (repeats.max() + 1) // iterate < 2:
            raise NotRun(f"{protocol} has {repeats.max() + 1} repeats: too few for two iterated K-folds of {iterate}")
        loss, acc = (frame[whole].rename(index=lambda r: r // iterate, level="repeat") for frame in (loss, acc))
    return estimates(loss, acc, test)


def _spread_ratio(ctx, protocols, metric, row):
    """How many times the spread of one protocol's estimates over reshuffles exceeds another's, both measured."""
    iterate = row.get("iterate", 1)
    a, b = _estimates(ctx, protocols[0]), _estimates(ctx, protocols[1], iterate)
    what = f"iterated ×{iterate}" if iterate > 1 else "single"
    detail = (f"spreads (sd over reshuffles): {protocols[0]} {a[metric].std(ddof=1):.4f} ({len(a)} estimates), "
              f"{protocols[1]} {what} {b[metric].std(ddof=1):.4f} ({len(b)} estimates)")
    return stats.spread_ratio(a[metric], b[metric]), f"sd of the {metric} estimate: {protocols[0]} / {protocols[1]} {what}", detail


def _estimate_difference(ctx, protocols, metric, row):
    a, b = (_estimates(ctx, p) for p in protocols)
    detail = f"means: {protocols[0]} {a[metric].mean():.4f} ({len(a)}), {protocols[1]} {b[metric].mean():.4f} ({len(b)})"
    return (stats.difference_interval(a[metric], b[metric]),
            f"mean {metric} estimate: {protocols[0]} − {protocols[1]}", detail)


def _absolute_error(ctx, protocols, metric, row):
    a = _estimates(ctx, protocols[0])
    errors = a[f"error_{metric}"]
    detail = f"errors: {', '.join(f'{e:+.3f}' for e in errors)}; chosen epochs {sorted(a.epoch.astype(int))}"
    return interval(errors.abs(), (0.0, np.inf)), f"|{metric} estimate − test {metric} at its epoch|, {protocols[0]}", detail


def _selection_gain(ctx, protocols, metric, row):

    configs = [n for n in ctx.present.get(protocols[0], set()) if n in sweeps.entries(ctx.config)]
    table = scores(ctx.metrics, sorted(configs), protocols[0])
    if table.empty or table.test_loss.isna().all():
        raise NotRun(f"{protocols[0]} has no test scores (it needs evaluate_test)")
    fewer = row.get("against_configs", 1)
    if fewer >= table.config.nunique():
        raise NotRun(f"{protocols[0]} trained {table.config.nunique()} configurations, not more than {fewer}")
    gain = selection_gain(table, metric, fewer, stable_seed(ctx.config["seed"], "tuning", protocols[0]))
    detail = f"{table.config.nunique()} configurations; per redraw: {', '.join(f'{g:+.4f}' for g in gain)}"
    against = "of one alone" if fewer == 1 else f"of the best of {fewer}"
    return (stats.t_interval(gain), f"optimism ({metric}) of the best of all configurations − {against}, "
            f"{protocols[0]}", detail)


STUDY_STATISTICS = {
    "spread_ratio": _spread_ratio,
    "iterated_spread_ratio": _spread_ratio,  # the same, of iterated K-folds (the row's ``iterate``)
    "estimate_difference": _estimate_difference,
    "absolute_error": _absolute_error,
    "selection_gain": _selection_gain,
}


def _study_claim(ctx: Context, row: dict) -> Result:
    result = _result(row)
    try:
        protocols = [ctx.protocol(role) for role in row["study"]]
        result.protocol = " vs ".join(protocols)
        found, result.statistic, result.detail = STUDY_STATISTICS[row["statistic"]](ctx, protocols,
                                                                                    row.get("metric", "loss"), row)
    except NotRun as reason:
        result.detail = str(reason)
        return result
    return _judged(result, found, row["claimed"])


# --- redundancy across the split, measured (overfit.studies.duplicates) ------------------------------------------

def _duplicates_claim(ctx: Context, row: dict) -> Result:
    """The lift a model gets from the duplicates of test reviews in its training set (overfit.studies.duplicates):
    per seed, the model trained on every review minus the one trained without those duplicates, on the scored reviews
    at the row's epoch; a t-interval over the seeds (the arms share them; the data are the same in every seed)."""
    spec = row["duplicates"]
    result = _result(row, protocol="duplicate_leak")
    metric = row.get("metric", "acc")
    table = ctx.duplicate_leak
    if table is None:
        result.detail = "no results of the duplicates' lift (is `duplicate_leak:` in the config?)"
        return result
    if table.empty:
        result.detail = "no test review has a duplicate in the training set: nothing to measure"
        return result
    try:
        per_seed = duplicates.lift(table, spec["scored"], spec["epoch"], metric)
    except KeyError as reason:
        result.detail = str(reason.args[0])
        return result
    scored = table[(table.scored == spec["scored"]) & (table.epoch == spec["epoch"])]
    result.statistic = (f"{metric} on the {spec['scored']} reviews ({int(scored.rows.iloc[0])}) after epoch "
                        f"{spec['epoch']}: trained on all reviews − without the duplicates, paired by seed")
    result.detail = "per seed: " + ", ".join(f"{v:+.4g}" for v in per_seed)
    found = interval(per_seed, bounds("last_value", metric, spec["epoch"], difference=True))
    return _judged(result, found, row["claimed"])


# --- the experiments on images and the clock (overfit.images, overfit.clock) ------------------------------------
# Arms of an image study share their seeds (initial weights, batch order and, under K-fold, the fold): arms compare
# paired by seed, with a t-interval over the seeds, corrected for the folds' overlapping training sets where an arm
# validates under K-fold (as the IMDB experiments' folds are); the clock's runs are independent seeds on one split.

def _image_curve(ctx: Context, study: str, arm: str, split: str, metric: str) -> pd.DataFrame:
    if ctx.images is None or study not in set(ctx.images.study):
        raise NotRun(f"no results of the image study {study!r} (is it in the config's images.studies?)")
    rows = ctx.images[(ctx.images.study == study) & (ctx.images.arm == arm) & (ctx.images.split == split)
                      & (ctx.images.metric == metric) & ~ctx.images.diverged.astype(bool)]
    if rows.empty:
        raise NotRun(f"the image study {study!r} has no {split} {metric} of an arm {arm!r}")
    return rows.pivot_table(index="seed", columns="epoch", values="value")


def _image_ratio(ctx: Context, study: str, arms: list[str]) -> float | None:
    """n_validation / n_training of the K-fold the arms validate under (None: every arm on one fixed split, so that
    its seeds vary the initialisation only)."""
    if "split_by" not in ctx.images:
        return None
    rows = ctx.images[(ctx.images.study == study) & ctx.images.arm.isin(arms) & (ctx.images.split_by == "kfold")]
    rows = rows.drop_duplicates(["arm", "seed"])
    return float((rows.validation_rows / rows.train_rows).mean()) if len(rows) else None


def _image_claim(ctx: Context, row: dict) -> Result:
    spec = row["images"]
    result = _result(row, protocol=spec["study"])
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
        arms = [spec["of"]] if "of" in spec else list(spec["compare"])
        on = spec.get("splits", [split])
        claimed = _claimed(row, result, [_image_curve(ctx, spec["study"], arm, on[-1], metric) for arm in arms])
        epochs = int(_image_curve(ctx, spec["study"], arms[0], on[-1], metric).columns.max())
    except NotRun as reason:
        result.detail = str(reason)
        return result
    common = values_a.index.intersection(values_b.index)
    per_run = (values_b.loc[common] - values_a.loc[common]).dropna()
    result.detail = "per seed: " + ", ".join(f"{v:+.4g}" for v in per_run)
    statistic_bounds = bounds(row["statistic"], metric, epochs, difference="of" not in spec or "splits" in spec)
    found = interval(per_run, statistic_bounds, validation_train_ratio=_image_ratio(ctx, spec["study"], arms))
    return _judged(result, found, claimed)


def _clock_claim(ctx: Context, row: dict) -> Result:
    spec = row["clock"]
    result = _result(row, protocol="clock")
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
            found = stats.t_interval(per_run)
            result.statistic = (f"mean reading error (minutes, on the test faces): {rb} on {nb} faces − {ra} on "
                                f"{na}, paired by seed")
            result.detail = (f"means: {ra} {a.mean_error.mean():.3g}, {rb} {b.mean_error.mean():.3g} min; training "
                             f"compute {ra} {a.flops.mean():.3g}, {rb} {b.flops.mean():.3g} FLOPs "
                             f"({a.flops.mean() / b.flops.mean():.3g}×)")
        else:
            (one,) = runs(spec["of"], None).itertuples()
            # one deterministic reading of the test faces: the interval is over the faces
            found = stats.summary_interval(one.mean_error, one.error_sd, one.faces, "t over the test faces (one reading)")
            result.statistic = f"mean reading error (minutes) of {spec['of']} on the test faces"
            result.detail = f"median {one.median_error:.3g} min; {one.within_5:.2%} read within 5 minutes"
    except NotRun as reason:
        result.detail = str(reason)
        return result
    return _judged(result, found, row["claimed"])


# --- section 4.5: the recipe's step 5, scaling up until it overfits (overfit.recipe) ------------------------------
# Its ladder starts from a model too small to overfit in the recipe's epochs; a rung's rise is its validation loss
# at the last epoch minus at the epoch where the mean over the folds is lowest, per fold (the decision's own
# statistic, overfit.recipe.decide.rises), with the corrected interval over the folds.

def _recipe_claim(ctx: Context, row: dict) -> Result:
    spec = row["recipe"]
    task = spec["task"]
    result = _result(row, protocol=f"recipe_{task}")
    curves = ctx.recipe.get(task)
    if curves is None or curves.empty:
        result.detail = f"no step 5 curves of the recipe's task {task!r} (is it in recipe.tasks?)"
        return result
    ladder = list(candidates.scale_up(ctx.config["recipe"]))
    rung = {"first": ladder[0], "last": ladder[-1]}
    ratio = decide.ratio_of(curves)
    every = {name: decide.rises(curves, name) for name in ladder}
    if "rung" in spec:
        name = rung[spec["rung"]]
        rise, best, last = every[name]
        found = stats.t_interval(rise, validation_train_ratio=ratio)
        result.statistic = (f"rise of rung {name}'s validation loss from its lowest epoch ({best}) to the last "
                            f"({last}), over folds")
    else:
        (a, _, _), (b, best, last) = (every[rung[which]] for which in spec["compare"])
        found = stats.t_interval((b - a).dropna(), validation_train_ratio=ratio)
        result.statistic = (f"rise of the validation loss to the last epoch ({last}), rung {rung[spec['compare'][1]]} "
                            f"− rung {rung[spec['compare'][0]]}, paired by fold")
    result.detail = "; ".join(f"{name}: rise {rise.mean():+.4f} (lowest at epoch {best})"
                              for name, (rise, best, _) in every.items())
    return _judged(result, found, row["claimed"])


# --- section 4.5 on imbalanced data: thresholds tuned out of fold, class weights (overfit.recipe.threshold) ---------
# Each run (fold × seed) is scored on its own validation rows, at 0.5 or at the threshold of highest F1 on the other
# folds' predictions; two sides compare paired by run, with the corrected interval (the folds share training rows).
# Logistic regression is deterministic (one seed): it pairs with every seed of its fold.

def _paired_by_run(a: pd.Series, b: pd.Series) -> pd.Series:
    """b − a per run, (fold, seed) indexed; a side of one seed pairs by fold with each seed of the other."""
    a, b = a.rename("a").reset_index(), b.rename("b").reset_index()
    on = ["fold", "seed"]
    if a.seed.nunique() == 1 or b.seed.nunique() == 1:
        on = ["fold"]
        a, b = (side.drop(columns="seed") if side.seed.nunique() == 1 and other.seed.nunique() > 1 else side
                for side, other in ((a, b), (b, a)))
    merged = a.merge(b, on=on)
    return (merged.b - merged.a).dropna()


THRESHOLD_MEASURES = {"f1": "F1", "precision": "precision", "recall": "recall", "average_precision": "average precision"}


def _threshold_side(model: str, loss: str, at: str | None) -> str:
    """A side of a threshold claim in words: "net (plain loss) at the tuned threshold"."""
    return f"{model} ({loss} loss)" + {None: "", "default": f" at {threshold.DEFAULT}",
                                        "tuned": " at the tuned threshold"}[at]


def _threshold_claim(ctx: Context, row: dict) -> Result:
    spec, statistic = row["threshold"], row["statistic"]
    task = spec["task"]
    result = _result(row, protocol=f"recipe_{task}")
    table = ctx.threshold
    if table is None or table.empty or task not in set(table.task):
        result.detail = (f"no out-of-fold predictions of the recipe's task {task!r} (is it in recipe.tasks with a "
                         "positive_share, and recipe.threshold set?)")
        return result
    scores = table[table.task == task]
    sides, names, words = [], [], []
    for model, loss, at in spec["compare"]:
        column = statistic if statistic == "average_precision" else f"{statistic}_{at}"
        mine = scores[(scores.model == model) & (scores.loss == loss)]
        if mine.empty:
            result.detail = f"no runs of {model} with the {loss} loss on {task!r}"
            return result
        sides.append(mine.set_index(["fold", "seed"])[column])
        names.append(_threshold_side(model, loss, None if statistic == "average_precision" else at))
        words.append(f"mean of {names[-1]}: {mine[column].mean():.4f}")
        if at == "tuned" and statistic != "average_precision":
            words.append(f"mean threshold of {names[-1]}: {mine.threshold.mean():.3g}")
    result.statistic = (f"{THRESHOLD_MEASURES[statistic]} on each run's validation rows: {names[1]} − {names[0]}, "
                        "paired by run (fold × seed)")
    if statistic != "average_precision":
        result.statistic += "; thresholds tuned on the other folds"
    result.detail = "; ".join(words)
    # n_validation / n_training of each fold: its rows against the other folds' rows of the same run set
    ratio = float((scores.rows / scores.groupby(["model", "loss", "seed"]).rows.transform("sum").sub(scores.rows)).mean())
    return _judged(result, interval(_paired_by_run(*sides), (-1.0, 1.0), validation_train_ratio=ratio),
                   row["claimed"])


# --- section 4.1: pretraining with few labels (overfit.studies.pretraining) --------------------------------------
# Its runs are folds × seeds: each fold pretrains on its training part and validates on the rest, each seed draws
# the labeled reviews, the initial weights and the batch order; the three starts of a run share all of that, so
# they compare paired by run, with the corrected interval (folds share reviews, as the protocols' K-folds do).

def _pretraining_curves(ctx: Context, start: str, labeled: str, split: str, metric: str) -> tuple[pd.DataFrame, int]:
    """(runs × epochs, the labeled size) of one start at the smallest or largest labeled size of the study."""
    table = ctx.pretraining
    if table is None or table.empty:
        raise NotRun("no results of the pretraining study (is `pretraining:` in the config?)")
    sizes = sorted(table.loc[table.split == "validation", "labeled"].unique())
    if not sizes:
        raise NotRun("the pretraining study has no validation runs")
    size = int(sizes[0] if labeled == "smallest" else sizes[-1])
    rows = table[(table.start == start) & (table.labeled == size) & (table.split == split) & (table.metric == metric)
                 & ~table.diverged.astype(bool)]
    if rows.empty:
        raise NotRun(f"the pretraining study has no {split} {metric} of the start {start!r} on {size} labeled reviews")
    return rows.pivot_table(index=["repeat", "fold", "seed"], columns="epoch", values="value"), size


def _pretraining_claim(ctx: Context, row: dict) -> Result:
    """Start b − start a, paired by run, at one labeled size; with two sizes, that difference at the first − at
    the second (does the advantage shrink as labels grow)."""
    spec = row["pretraining"]
    result = _result(row, protocol="pretraining")
    split, metric = row.get("split", "validation"), row.get("metric", "loss")
    statistic = STATISTICS[row["statistic"]][0]
    sizes = [spec["labeled"]] if isinstance(spec["labeled"], str) else list(spec["labeled"])
    a, b = spec["compare"]
    try:
        differences, words = [], []
        for labeled in sizes:
            curve_a, n = _pretraining_curves(ctx, a, labeled, split, metric)
            values_a, values_b = (statistic(lambda s, start=start: _pretraining_curves(ctx, start, labeled, s, metric)[0],
                                            split) for start in (a, b))
            common = values_a.index.intersection(values_b.index)
            differences.append(values_b.loc[common] - values_a.loc[common])
            words.append(f"{n} labeled: {a} {values_a.mean():.4g}, {b} {values_b.mean():.4g}")
            epochs = int(curve_a.columns.max())
    except NotRun as reason:
        result.detail = str(reason)
        return result
    what = f"{STATISTICS[row['statistic']][1]} of the {split} {metric}"
    if len(differences) == 1:
        per_run = differences[0].dropna()
        result.statistic = f"{what}: {b} − {a}, paired by run (fold × seed), at the {sizes[0]} labeled size"
        statistic_bounds = bounds(row["statistic"], metric, epochs, difference=True)
    else:
        common = differences[0].index.intersection(differences[1].index)
        per_run = (differences[0].loc[common] - differences[1].loc[common]).dropna()
        result.statistic = (f"{what}: ({b} − {a}) at the {sizes[0]} labeled size − at the {sizes[1]}, paired by run "
                            f"(fold × seed)")
        low, high = bounds(row["statistic"], metric, epochs, difference=True)
        statistic_bounds = (2 * low, 2 * high)  # a difference of two differences
    table = ctx.pretraining[ctx.pretraining.split == split]
    ratio = float((table.validation_size / table.pool_size).mean())  # n_validation / n_training of its folds
    result.detail = "means: " + "; ".join(words)
    return _judged(result, interval(per_run, statistic_bounds, validation_train_ratio=ratio), row["claimed"])


def _judged(result: Result, interval: stats.Interval, claimed: dict) -> Result:
    result.value, result.low, result.high = interval.value, interval.low, interval.high
    result.naive_low, result.naive_high, result.method, result.n = interval.naive_low, interval.naive_high, interval.method, interval.n
    if interval.n:
        result.verdict, result.p_value = stats.judged(interval, claimed)
    else:
        result.verdict = stats.NOT_RUN
    return result


def compute_claims(metrics: pd.DataFrame, scores: pd.DataFrame, config: dict, chapter: dict,
                   images: pd.DataFrame | None = None, clock: pd.DataFrame | None = None,
                   pretraining: pd.DataFrame | None = None, recipe: dict[str, pd.DataFrame] | None = None,
                   duplicate_leak: pd.DataFrame | None = None, threshold: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (claim, protocol) of the chapter; see Result for the columns. ``recipe``: task -> the curves
    of the recipe's step 5; ``threshold``: the imbalanced tasks' run scores (overfit.recipe.threshold.run_scores)."""
    ctx = Context(metrics, scores, config, chapter, images, clock, pretraining, recipe, duplicate_leak, threshold)
    results: list[Result] = []
    for row in chapter["claims"]:
        if "images" in row:
            results.append(_image_claim(ctx, row))
        elif "clock" in row:
            results.append(_clock_claim(ctx, row))
        elif "pretraining" in row:
            results.append(_pretraining_claim(ctx, row))
        elif "recipe" in row:
            results.append(_recipe_claim(ctx, row))
        elif "threshold" in row:
            results.append(_threshold_claim(ctx, row))
        elif "duplicates" in row:
            results.append(_duplicates_claim(ctx, row))
        elif "fit" in row:
            results.append(_fit_claim(ctx, row))
        elif "study" in row:
            results.append(_study_claim(ctx, row))
        else:
            results.extend(_curve_claim(ctx, row, protocol_role) for protocol_role in row["protocols"])
    _apply_requirements(results, chapter, "verdict")
    _not_testable(results, chapter)
    _adjust(results)
    _apply_requirements(results, chapter, "verdict_adjusted")  # a guard unclear after Holm empties its row too
    return pd.DataFrame([asdict(r) for r in results])


def _apply_requirements(results: list[Result], chapter: dict, kind: str) -> None:
    """A claim that is empty without another (5a, more resistant, without 5b, fitting as well) is vacuous where
    that one does not hold, whatever its own outcome; its reason names the guard and what the guard gave.
    ``kind``: the raw verdict, or the one after Holm's adjustment."""
    rows = {row["id"]: row for row in chapter["claims"]}
    by_key = {(r.id, r.protocol): r for r in results}
    for result in results:
        required = rows[result.id].get("requires")
        if not required or getattr(result, kind) in (stats.NOT_RUN, stats.VACUOUS, stats.NOT_TESTABLE):
            continue
        other = by_key.get((required, result.protocol))
        outcome = getattr(other, kind) if other else stats.NOT_RUN
        if outcome != stats.HOLDS:
            if kind == "verdict":
                result.reason = (f"its guard {required} ({rows[required]['words']}) {outcome}, so this row's "
                                 f"outcome ({result.verdict}) says nothing of the sentence")
                result.p_value = float("nan")
            setattr(result, kind, stats.VACUOUS)


def _not_testable(results: list[Result], chapter: dict) -> None:
    """A row whose design cannot answer its sentence (chapter.yaml's ``not_testable``): shown, never counted."""
    reasons = {row["id"]: row["not_testable"] for row in chapter["claims"] if row.get("not_testable")}
    for result in results:
        if result.id in reasons and result.verdict != stats.NOT_RUN:
            result.reason = reasons[result.id]
            result.verdict, result.p_value = stats.NOT_TESTABLE, float("nan")


def _adjust(results: list[Result]) -> None:
    """Holm over the family (every row with a p-value): a raw verdict whose adjusted p-value is not below the
    level the raw one was judged at (two-sided 0.05) becomes unclear; rows without a test keep their kind."""
    adjusted = stats.holm([r.p_value for r in results])
    for result, p in zip(results, adjusted):
        keep = not np.isfinite(p) or p < stats.ALPHA or result.verdict not in (stats.HOLDS, stats.FAILS)
        result.verdict_adjusted = result.verdict if keep else stats.UNCLEAR


def seed_check(table: pd.DataFrame, other: pd.DataFrame, made_of: dict, made_of_other: dict) -> tuple[pd.Series, str]:
    """The verdicts of ``other`` (the same pipeline under another seed) row by row beside ``table``'s, where both
    were made by the same code and config but for the seed; else nothing, and what differs."""

    differ = [f"{kind} {key}" for kind in ("config", "code")
              for key in differences(made_of[kind], made_of_other.get(kind, {}))]
    if differ:
        return pd.Series("", index=table.index), f"not compared: made by other {', '.join(differ)}"
    verdicts = other.fillna({"protocol": ""}).set_index(["id", "protocol"]).verdict
    keys = pd.MultiIndex.from_frame(table[["id", "protocol"]].fillna(""))
    beside = verdicts.reindex(keys).fillna("").to_numpy()
    changed = int(sum(a != b for a, b in zip(table.verdict, beside) if b))
    return pd.Series(beside, index=table.index), f"{changed} of {int(sum(b != '' for b in beside))} verdicts differ"


def verdict_flips(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Claims that hold in one table and do not hold in the other (e.g. the pipeline run with two seeds)."""
    merged = first.merge(second, on=["id", "protocol"], suffixes=("_a", "_b"))
    opposite = {(stats.HOLDS, stats.FAILS), (stats.FAILS, stats.HOLDS)}
    flips = merged[[(a, b) in opposite for a, b in zip(merged.verdict_a, merged.verdict_b)]]
    return flips[["id", "protocol", "value_a", "low_a", "high_a", "verdict_a", "value_b", "low_b", "high_b", "verdict_b"]]
