"""The report's figures, each a pure function of the metrics table (and the book's recorded curves).

Each figure's words (axes, legends, panel titles) are in its spec's language, through ``_`` (overfit.report.i18n);
a Korean figure is drawn in Noto Sans CJK, the one font family that matplotlib finds with Hangul on Debian
(fonts-noto-cjk), with DejaVu Sans behind it for the few symbols it lacks; English figures keep seaborn's font.
"""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from overfit.files import atomic_path  # noqa: E402
from overfit.recipe.heads import MEASURES, PROBLEMS  # noqa: E402
from overfit.report import i18n, modes  # noqa: E402
from overfit.report.catalog import IMAGE_FIGURES, FigureSpec  # noqa: E402

BOOK_COLOUR = "0.6"
COLOURS = {0: "tab:blue", 1: "tab:orange"}
MARKERS = {0: "+", 1: "o"}  # the book: crosses for the reference model, dots for the other
RUN = ["repeat", "fold", "seed"]
# the sans-serif families of a language whose script seaborn's default font lacks, first found first
FONTS = {"ko": ["Noto Sans CJK KR", "Noto Sans CJK JP", "DejaVu Sans"]}


@functools.cache
def _fonts(language: str) -> list[str]:
    """``language``'s font families, refused where none of those with its script is installed (matplotlib would draw
    each of its letters as an empty box, with only a warning)."""
    from matplotlib import font_manager

    families = FONTS[language]
    for family in families[:-1]:
        try:
            font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
            return families
        except ValueError:
            continue
    raise RuntimeError(f"no font for {language} figures ({', '.join(families[:-1])}): install Debian's fonts-noto-cjk "
                       "(apt-get install fonts-noto-cjk), or leave report.language in the config at en")


def _book_curve(book: pd.DataFrame, section: str, experiment: str, split: str, metric: str) -> pd.DataFrame:
    name = metric if split == "train" else f"val_{metric}"
    return book[(book.section == section) & (book.experiment == experiment) & (book.metric == name)]


def _rows(metrics: pd.DataFrame, protocol: str, experiment: str, split: str, metric: str) -> pd.DataFrame:
    return metrics[(metrics.protocol == protocol) & (metrics.experiment == experiment) & (metrics.split == split)
                   & (metrics.metric == metric)]


def _seeds_and_median(ax, rows: pd.DataFrame, style: str, colour: str, label: str, markersize: float, _) -> None:
    """Each seed's run as a faint line, the median over seeds drawn as the book drew its one run."""
    for _key, run in rows.groupby(RUN):
        ax.plot(run.epoch, run.value, "-", color=colour, alpha=0.25, linewidth=0.8)
    median = rows.groupby("epoch").value.median()
    runs = rows.groupby(RUN).ngroups
    ax.plot(median.index, median.values, style, color=colour, markersize=markersize,
            label=_("{label} (ours, median of {runs})").format(label=label, runs=runs))


def _two_modes(ax, metrics: pd.DataFrame, spec: FigureSpec, rows: pd.DataFrame, colour: str, marker: str, _) -> None:
    """A model with two modes: each mode's runs faint and its median, labelled with how many runs it holds (and how
    many seeds of Keras 3 running the book's code stalled, where measured)."""
    experiment, stalls_from = spec.modes
    mode = modes.mode_of(modes.lowest_validation_loss(metrics, experiment, spec.protocol), stalls_from)
    keras = modes.keras_frequency()
    for name, style, alpha in ((modes.LEARNS, "-", 0.25), (modes.STALLS, "--", 0.15)):
        kept = mode.index[mode == name]
        if not len(kept):
            continue
        in_mode = rows[pd.MultiIndex.from_frame(rows[RUN]).isin(kept)]
        for _key, run in in_mode.groupby(RUN):
            ax.plot(run.epoch, run.value, style, color=colour, alpha=alpha, linewidth=0.8)
        median = in_mode.groupby("epoch").value.median()
        label = _("{experiment}, {mode} (ours: {kept} of {runs} runs").format(experiment=experiment, mode=_(name),
                                                                            kept=len(kept), runs=len(mode))
        if name == modes.STALLS and keras:
            label += _("; Keras 3: {stalled} of {seeds} seeds").format(stalled=keras[0], seeds=keras[1])
        ax.plot(median.index, median.values, marker + style, color=colour, markersize=5,
                alpha=1.0 if name == modes.LEARNS else 0.6, label=label + ")")


def draw(spec: FigureSpec, metrics: pd.DataFrame, book: pd.DataFrame, table: pd.DataFrame | None = None):
    """One figure; the book's recorded runs (``spec.book``) drawn in grey where the book has them.

    ``table``: the results table the figure's kind draws from (overfit.report.catalog.TABLES).
    """
    sns.set_theme(style="whitegrid", context="notebook",
                  rc={"font.sans-serif": _fonts(spec.language)} if spec.language in FONTS else None)
    _ = i18n.gettext(spec.language)
    if spec.kind == "sweep":
        drawn = [table[table.sweep == spec.sweep],
                 *(table[table.sweep == other].assign(base=base) for other, base in spec.beside)]
        return _draw_sweep(spec, pd.concat(drawn, ignore_index=True), _)
    if spec.kind == "protocol_audit":
        return _draw_audit(spec, table, _)
    if spec.kind == "tuning_leak":
        return _draw_tuning(spec, table, _)
    if spec.kind == "recipe":
        return _draw_recipe(spec, table, _)
    if spec.kind == "last_layer":
        return _draw_last_layer(spec, table, _)
    if spec.kind == "threshold":
        return _draw_threshold(spec, table, _)
    if spec.kind == "images":
        return _draw_images(spec, table[table.study == spec.x], _)
    if spec.kind == "clock":
        return _draw_clock(spec, table, _)
    book_names = dict(spec.book)
    metrics = metrics[np.isfinite(metrics.value)]  # a diverged run's last epoch carries inf or NaN
    label = _("accuracy" if spec.metric == "acc" else "loss")
    if spec.kind == "movie_leak":
        return _draw_leak(spec, metrics, _)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if spec.kind == "book_3_5":  # training (dots) and validation (line) of one model
        experiment = spec.experiments[0]
        for split, style, word in (("train", "o", "Training"), ("validation", "-", "Validation")):
            _seeds_and_median(ax, _rows(metrics, spec.protocol, experiment, split, spec.metric), style, "tab:blue",
                              f"{_(word)} {label}", 5, _)
            if experiment in book_names:
                theirs = _book_curve(book, "3.5", book_names[experiment], split, spec.metric)
                ax.plot(theirs.epoch, theirs.value, style, color=BOOK_COLOUR, alpha=0.8,
                        label=_("{curve} (book)").format(curve=f"{_(word)} {label}"))
    elif spec.kind == "book_4_4":
        for i, experiment in enumerate(spec.experiments):
            rows = _rows(metrics, spec.protocol, experiment, spec.split, spec.metric)
            if spec.modes and experiment == spec.modes[0]:
                _two_modes(ax, metrics, spec, rows, COLOURS[i], MARKERS[i], _)
            else:
                _seeds_and_median(ax, rows, MARKERS[i], COLOURS[i], experiment, 8 if i == 0 else 5, _)
            if experiment in book_names:
                theirs = _book_curve(book, "4.4", book_names[experiment], spec.split, spec.metric)
                ax.plot(theirs.epoch, theirs.value, MARKERS[i] + ":", color=BOOK_COLOUR, markersize=8 if i == 0 else 5,
                        label=_("{curve} (book)").format(curve=experiment))
    else:
        rows = metrics[(metrics.protocol == spec.protocol) & metrics.experiment.isin(spec.experiments)
                       & (metrics.split == spec.split) & (metrics.metric == spec.metric)]
        runs = rows.groupby(["experiment", *RUN]).ngroups // max(1, len(spec.experiments))
        sns.lineplot(rows, x="epoch", y="value", hue="experiment", hue_order=list(spec.experiments), style="experiment",
                     style_order=list(spec.experiments), markers=["P", "o"], dashes=False, estimator="median",
                     errorbar=("pi", 50), ax=ax)
        ax.legend(title=_("median of {runs} runs, middle 50%").format(runs=runs))
    ax.set_xlabel(_("Epochs"))
    ax.set_ylabel((_("Training") + " " if spec.split == "train" else _("Validation") + " " if spec.split == "validation"
                   else "") + label)
    ax.set_title(spec.title, fontsize=11)
    epoch_axis(ax)
    if spec.kind != "folded":
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def epoch_axis(ax) -> None:
    """Whole epochs on the x axis over the epochs drawn on it (ours and the book's), not over every run in the
    metrics table (a 60-epoch sweep put 4.4's 20-epoch figure's ticks out to 60): every 2 as the book's figures,
    further apart for longer runs, about ten ticks at most."""
    first, last = ax.dataLim.x0, ax.dataLim.x1
    if not (np.isfinite(first) and np.isfinite(last)):
        return
    first, last = int(np.floor(first)), int(np.ceil(last))
    step = next((s for s in (1, 2, 5, 10, 20, 50) if (last - first) / s <= 11), 100)
    ax.set_xticks([t for t in range(0, last + 1, step) if t >= first])


def _label(spec: FigureSpec, value, default: str) -> str:
    """The config's label (spec.labels) of an arm's name or of a hue's value, which results tables may give back as
    a float (the CSV's 1.0 for the config's 1)."""
    for key, label in spec.labels:
        if key == str(value):
            return label
        try:
            if float(key) == float(value):
                return label
        except (TypeError, ValueError):
            continue
    return default


def _draw_leak(spec: FigureSpec, metrics: pd.DataFrame, _):
    random_folds, folded, test = spec.protocols
    names = {random_folds: _("{protocol} (random folds)").format(protocol=random_folds),
             folded: _("{protocol} (grouped by movie)").format(protocol=folded),
             test: _("{protocol}: test loss, all training reviews").format(protocol=test)}
    rows = metrics[metrics.experiment.isin(spec.experiments) & metrics.protocol.isin([p for p in names if p])
                   & (metrics.split == "validation") & (metrics.metric == spec.metric)]
    rows = rows.assign(curve=rows.protocol.map(names))
    grid = sns.relplot(rows, x="epoch", y="value", hue="curve", hue_order=[names[p] for p in names if p], col="experiment",
                       col_order=list(spec.experiments), col_wrap=min(4, len(spec.experiments)), kind="line",
                       estimator="mean", errorbar=None, height=2.4, aspect=1.1, facet_kws={"sharey": False})
    grid.set_axis_labels(_("Epochs"), _("Validation loss"))
    grid.set_titles("{col_name}")
    for ax in grid.axes.flat:
        epoch_axis(ax)
    sns.move_legend(grid, "upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, title=None, frameon=False)
    grid.figure.suptitle(spec.title, y=1.03, fontsize=11)
    return grid.figure


def _draw_sweep(spec: FigureSpec, table: pd.DataFrame, _):
    """Three panels against the sweep's axis (``spec.panels``: for most sweeps the lowest and last validation data
    loss, the epoch of the lowest and the gap; for memorization the accuracies and how fast the labels are fit)."""
    fig, axes = plt.subplots(1, len(spec.panels), figsize=(4 * len(spec.panels), 3.6))
    groups = table.groupby(spec.hue, sort=True) if spec.hue else [("", table)]
    panels = spec.panels
    for i, (value, group) in enumerate(groups):
        group = group.sort_values([spec.x, "experiment"])
        colour = sns.color_palette()[i % 10]
        label = (_label(spec, value, f"{spec.hue} {value:g}" if isinstance(value, float) else f"{spec.hue} {value}")
                 if spec.hue else _("points"))
        for ax, (column, title) in zip(axes, panels):
            if column == "best_loss":
                ax.errorbar(group[spec.x], group.best_loss, yerr=[group.best_loss - group.best_low,
                            group.best_high - group.best_loss], fmt="o-", color=colour, capsize=2,
                            label=_("{label}: lowest").format(label=label))
                if "gap_at_last_epoch" in dict(spec.panels):  # (a learning curve's last epochs do not compare)
                    ax.plot(group[spec.x], group.last_loss, "--", color=colour, alpha=0.7,
                            label=_("{label}: last epoch").format(label=label))
            elif column == "last_loss":  # the end of training, with its interval (double descent)
                ax.errorbar(group[spec.x], group.last_loss, yerr=[group.last_loss - group.last_low,
                            group.last_high - group.last_loss], fmt="o-", color=colour, capsize=2, label=label)
            else:
                ax.plot(group[spec.x], group[column], "o-", color=colour, label=label)
            own = group[group.included]
            ax.plot(own[spec.x], own[column], "o", markerfacecolor="white", markeredgecolor=colour, markersize=8)
            ax.set_title(_(title), fontsize=10)
    for ax in axes:
        ax.set_xlabel(_(spec.x.replace("_", " ")))
        values = table[spec.x].astype(float)
        if spec.x in ("parameters", "train_reviews"):
            ax.set_xscale("log")
        elif spec.x not in ("dropout", "label_noise") and (values > 0).any():
            ax.set_xscale("symlog", linthresh=float(values[values > 0].min()))
        if spec.x == "parameters" and table.train_reviews.notna().any():
            # the interpolation point: as many parameters as training reviews (a model this large can fit them all)
            ax.axvline(float(table.train_reviews.mean()), color="grey", linestyle=":", linewidth=1,
                       label=_("as many parameters as training reviews") if ax is axes[0] else None)
    axes[0].legend(fontsize=7)
    fig.suptitle(_("{title} ({protocol}, {runs} runs a point)").format(
        title=spec.title, protocol=spec.protocol, runs=int(table.runs.min()) if len(table) else 0), fontsize=11)
    fig.tight_layout()
    return fig


def _clipped(ax, values: pd.Series, y: np.ndarray, symmetric: bool) -> pd.Series:
    """Set the axis to the bulk of ``values`` (a pitfall can be 100 times off) and mark each value beyond it at the
    edge with its number; return the values as drawn."""
    bulk = float(values.abs().quantile(0.85)) * 2.2 or 1.0
    farthest = float(values.abs().max())
    bulk = min(bulk, farthest) if np.isfinite(farthest) and farthest > 0 else bulk  # no wider than the values
    drawn = values.clip(-bulk, bulk)
    for yi, value in zip(y, values):
        if abs(value) > bulk:
            ax.annotate(f"{value:+.3g} →" if value > 0 else f"← {value:+.3g}", (np.sign(value) * bulk, yi), fontsize=7,
                        ha="right" if value > 0 else "left", va="bottom", color="tab:red")
    ax.set_xlim(-bulk * 1.05 if symmetric else 0, bulk * 1.05)
    return drawn


def _draw_audit(spec: FigureSpec, table: pd.DataFrame, _):
    """Bias (with its interval) and spread per protocol, loss and accuracy; each label gives the cost of an estimate.
    Values far beyond the rest (the sorted split that holds out a whole class) are marked at the axis' edge."""
    table = table.sort_values("model_epochs", kind="stable").reset_index(drop=True)
    labels = [_("{protocol} {estimate} ({epochs} model-epochs, {seconds} s)").format(
        protocol=p, estimate=i18n.estimate_words(e, _) if e != "single" else "", epochs=f"{m:.0f}",
        seconds=f"{s:.1f}").replace("  ", " ")
              for p, e, m, s in zip(table.protocol, table.estimate, table.model_epochs, table.seconds)]
    fig, axes = plt.subplots(1, 4, figsize=(15, 0.32 * len(table) + 1.6), sharey=True)
    y = np.arange(len(table))
    for ax, metric, unit in ((axes[0], "loss", _("loss")), (axes[2], "acc", _("accuracy"))):
        bias = _clipped(ax, table[f"bias_{metric}"], y, symmetric=True)
        inside = bias == table[f"bias_{metric}"]
        low = (table[f"bias_{metric}"] - table[f"bias_{metric}_low"]).where(inside).fillna(0)
        high = (table[f"bias_{metric}_high"] - table[f"bias_{metric}"]).where(inside).fillna(0)
        ax.errorbar(bias, y, xerr=[low, high], fmt="o", color="tab:blue", capsize=2)
        ax.axvline(0, color="0.4", linewidth=0.8)
        ax.set_title(_("Bias, {unit} (95%)").format(unit=unit), fontsize=10)
    for ax, metric, unit in ((axes[1], "loss", _("loss")), (axes[3], "acc", _("accuracy"))):
        colours = ["tab:orange" if derived else "tab:green" for derived in table.spread_derived]
        ax.barh(y, _clipped(ax, table[f"spread_{metric}"].fillna(0), y, symmetric=False), color=colours)
        ax.set_title(_("Spread, {unit} (orange: derived)").format(unit=unit), fontsize=10)
    axes[0].set_yticks(y, labels, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


def _draw_tuning(spec: FigureSpec, table: pd.DataFrame, _):
    """Optimism against the number of configurations compared, one line (and band) per validation protocol."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for i, (protocol, group) in enumerate(table.groupby("protocol", sort=False)):
        colour = sns.color_palette()[i % 10]
        for ax, metric in zip(axes, ("loss", "acc")):
            ax.plot(group.configs, group[f"optimism_{metric}"], "o-", color=colour, markersize=3, label=protocol)
            ax.fill_between(group.configs, group[f"optimism_{metric}_p10"], group[f"optimism_{metric}_p90"],
                            color=colour, alpha=0.15)
    for ax, title in zip(axes, TUNING_TITLES):
        ax.axhline(0, color="0.4", linewidth=0.8)
        ax.set_xscale("log", base=2)  # N doubles from 1 to the whole search
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=2))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.set_xlabel(_("configurations compared (N)"))
        ax.set_title(_(title), fontsize=10)
    axes[0].legend(fontsize=8)
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


TUNING_TITLES = ("Test loss − selected validation loss", "Selected validation − test accuracy")
SCORE_NAMES = {"acc": "accuracy", "f1": "F1 (precision and recall)", "auc": "ROC AUC", "precision": "precision",
               "recall": "recall"}


def _draw_recipe(spec: FigureSpec, table: pd.DataFrame, _):
    """One step of the universal workflow, a panel per task (results/recipe.csv)."""
    tasks = list(dict.fromkeys(table.task))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.0), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        rows = table[table.task == task]
        problem = rows[(rows.step == "problem") & rows.chosen.astype(bool)]
        primary = str(problem.primary.iloc[0]) if len(problem) else "acc"
        mine = rows[rows.step == spec.x].reset_index(drop=True)
        baselines = rows[rows.step == "baselines"].groupby("candidate", sort=False)[list(SCORE_NAMES)].mean()
        if spec.x == "final":  # every model of step 7, baselines included, scored once on the test set
            shown = mine.set_index("candidate")[["acc", "auc", "precision", "recall"]]
            long = shown.reset_index(names="model").melt("model", var_name="measure")
            long["measure"] = long.measure.map(_)
            sns.barplot(long, x="measure", y="value", hue="model", ax=ax, palette="muted")
            ax.set_ylim(0, 1)
            ax.set_xlabel("")
            ax.legend(fontsize=7, loc="lower left")
        elif spec.x == "scale_up":
            x = np.arange(len(mine))
            ax.plot(x, mine["loss"], "o", color="tab:blue", label=_("validation, lowest epoch"))
            ax.errorbar(x + 0.08, mine["loss"] + mine["rise"], yerr=[mine["rise"] - mine["low"], mine["high"] - mine["rise"]],
                        fmt="x", color="tab:blue", capsize=3, label=_("validation, last epoch (rise, 95%)"))
            ax.plot(x, mine["train_loss"], "o", color="tab:orange", label=_("training, at the lowest epoch"))
            ax.plot(x + 0.08, mine["last_train_loss"], "x", color="tab:orange", label=_("training, last epoch"))
            pick = mine.index[mine.chosen.astype(bool)]  # the rung kept, ringed as the other steps' choices
            ax.plot(x[pick], mine["loss"][pick], "o", markersize=14, markerfacecolor="none", color="tab:red")
            ax.set_xticks(x, [_("{candidate}\n(epoch {epoch})").format(candidate=c, epoch=int(e))
                              for c, e in zip(mine.candidate, mine.epoch)], fontsize=8)
            ax.set_xlabel(_("rung (its lowest epoch)"), fontsize=8)
            ax.set_ylabel(_("loss"))
            ax.legend(fontsize=7)
        else:
            labels = list(mine.candidate if spec.x == "power" else mine.settings)
            x = np.arange(len(mine))
            if spec.x == "power":
                centre, low, high = mine[primary], mine.baseline_score + mine.low, mine.baseline_score + mine.high
                for i, (name, value) in enumerate(baselines[primary].items()):
                    ax.axhline(value, color=sns.color_palette("Greys", 4)[i + 1], linestyle="--", linewidth=1, label=name)
                ax.legend(fontsize=7, title=_("baselines"), title_fontsize=7)
            else:
                centre, low, high = mine[primary], mine.low, mine.high
            ax.errorbar(x, centre, yerr=[centre - low, high - centre], fmt="o", color="tab:blue", capsize=3)
            pick = mine.index[mine.chosen.astype(bool)]
            ax.plot(x[pick], centre[pick], "o", markersize=14, markerfacecolor="none", color="tab:red")
            ax.set_xticks(x, labels, rotation=30 if spec.x == "tune" else 0, ha="right" if spec.x == "tune" else "center",
                          fontsize=7 if spec.x == "tune" else 9)
            ax.set_ylabel(_("validation {measure}").format(measure=_(SCORE_NAMES[primary])))
        ax.set_title(task, fontsize=10)
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


def _draw_last_layer(spec: FigureSpec, table: pd.DataFrame, _):
    """One panel per problem type: its judging measure under the recommended and the wrong pairing."""
    problems = [p for p in PROBLEMS if p in set(table.problem)]
    fig, axes = plt.subplots(1, len(problems), figsize=(3.2 * len(problems), 3.6), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        measure = PROBLEMS[problem][4]
        rows = table[(table.problem == problem) & (table.measure == measure)]
        names = {kind: f"{_(kind)}\n{a}\n{l.replace('_', ' ')}" for kind, a, l in
                 rows[["pairing", "activation", "loss"]].drop_duplicates().itertuples(index=False)}
        rows = rows.assign(pairing=rows.pairing.map(names))
        sns.barplot(rows, x="pairing", y="value", ax=ax, errorbar=None, color="tab:blue", alpha=0.6)
        sns.stripplot(rows, x="pairing", y="value", ax=ax, color="k", size=4)
        ax.set_title(problem, fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel(_(MEASURES[measure]))
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


def _draw_threshold(spec: FigureSpec, table: pd.DataFrame, _):
    """A panel per imbalanced task: each model's precision-recall curve over its out-of-fold predictions (per seed,
    thin), with the mean precision and recall of its runs at 0.5 (circle) and at the cross-fitted threshold (cross);
    the positive share is the precision of guessing."""
    tasks = list(table.task.unique())
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.0 * len(tasks) + 3.6, 4.6), squeeze=False)
    sides = list(table[["model", "loss"]].drop_duplicates().itertuples(index=False, name=None))
    palette = dict(zip(sides, sns.color_palette("tab10")))
    for ax, task in zip(axes[0], tasks):
        rows = table[table.task == task]
        for side, colour in palette.items():
            mine = rows[(rows.model == side[0]) & (rows.loss == side[1])]
            curves = mine[mine.point == "curve"]
            points = mine[mine.point != "curve"].set_index("point")
            label = _("{model}, {loss} loss (average precision {ap:.3f})").format(
                model=_(side[0]), loss=_(side[1]), ap=float(points.average_precision.iloc[0]))
            for i, (_seed, run) in enumerate(curves.groupby("seed")):
                ax.plot(run.recall, run.precision, "-", color=colour, linewidth=1.2, alpha=0.8,
                        label=label if i == 0 else None)
            for at, marker in (("default", "o"), ("tuned", "X")):
                ax.plot(points.recall[at], points.precision[at], marker, color=colour, markersize=8,
                        markeredgecolor="k")
        share = spec.labels and dict(spec.labels).get(task)
        if share:
            ax.axhline(float(share), color="grey", linestyle=":", linewidth=1)
        ax.plot([], [], "o", color="grey", markeredgecolor="k", label=_("at 0.5, mean of the runs"))
        ax.plot([], [], "X", color="grey", markeredgecolor="k", label=_("at the tuned threshold, mean of the runs"))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(_("recall"))
        ax.set_ylabel(_("precision"))
        ax.set_title(task, fontsize=10)
    # outside the panels: the curves and points fill the whole square
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


def _draw_images(spec: FigureSpec, table: pd.DataFrame, _):
    """A study of the images, a panel per (split, metric): each arm's seeds thin, their mean thick."""
    panels = IMAGE_FIGURES.get(spec.x, ("", (("validation", "acc"),), ""))[1]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False)
    palette = dict(zip(table.arm.unique(), sns.color_palette("tab10")))
    for ax, (split, metric, *scale) in zip(axes[0], panels):
        rows = table[(table.split == split) & (table.metric == metric) & np.isfinite(table.value)]
        for arm, colour in palette.items():
            runs = rows[rows.arm == arm]
            for _key, run in runs.groupby("seed"):
                ax.plot(run.epoch, run.value, "-", color=colour, alpha=0.3, linewidth=0.8)
            mean = runs.groupby("epoch").value.mean()
            ax.plot(mean.index, mean.values, "-", color=colour, linewidth=2,
                    label=_label(spec, arm, arm.replace("_", " ")))
        ax.set_yscale(scale[0] if scale else "linear")
        ax.set_title(f"{_(split.replace('_', ' '))} {_('accuracy' if metric == 'acc' else metric)}", fontsize=10)
        ax.set_xlabel(_("Epochs"))
        epoch_axis(ax)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


def _draw_clock(spec: FigureSpec, table: pd.DataFrame, _):
    """Mean reading error of each learned representation against training faces and compute; the rule as a line."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    learned, rule = table[table.representation != "rule"], table[table.representation == "rule"]
    palette = dict(zip(learned.representation.unique(), sns.color_palette("tab10")))
    for ax, x, label in ((axes[0], "train_size", _("Training faces")), (axes[1], "flops", _("Training compute (FLOPs)"))):
        for representation, colour in palette.items():
            rows = learned[learned.representation == representation]
            ax.plot(rows[x], rows.mean_error, "o", color=colour, alpha=0.4, markersize=3)
            mean = rows.groupby("train_size")[[x, "mean_error"]].mean()
            ax.plot(mean[x], mean.mean_error, "-", color=colour, linewidth=2, label=representation)
        for value in rule.mean_error:
            ax.axhline(value, color="k", linestyle="--", linewidth=1, label=_("rule (no training)"))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(_("Mean error (minutes)"))
    axes[0].legend(fontsize=8)
    fig.suptitle(spec.title, fontsize=11)
    fig.tight_layout()
    return fig


def save(fig, path) -> None:
    with atomic_path(path) as partial, open(partial, "wb") as stream:
        # fixed metadata so that the same results give the same bytes
        fig.savefig(stream, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
