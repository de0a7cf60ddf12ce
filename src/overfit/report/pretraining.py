"""Section 4.1's pretraining study in the report: its learning-curve figure, its summary table, the numbers its text
quotes (overfit.studies.pretraining makes the table, results/pretraining.csv).

Every point is a start's validation accuracy at its chosen epoch (the epoch of the highest mean over the runs, the
claims' ``value_at_highest_mean_epoch``), the mean over folds × seeds with the corrected resampled interval the
claims use (overfit.report.claims.interval; folds share reviews). Differences between starts are paired by run.
Every word a reader sees is in ``TEXT`` (each a message of the report's catalog, overfit.report.i18n, so the figure
is drawn in the page's language); the section's sentences are in templates/pretraining.html.j2, with ``section``'s
numbers in them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from overfit.files import atomic_path  # noqa: E402
from overfit.report import i18n  # noqa: E402
from overfit.report.claims import interval, value_at_highest_mean_epoch  # noqa: E402
from overfit.report.figures import FONTS, _fonts  # noqa: E402

NAME = "pretraining"  # its figure: results/figures/pretraining.png, in another language results/figures/<it>/…
STARTS = ("scratch", "self_supervised", "unsupervised")
CLAIMS = ("13a", "13b", "13c")
RUN = ["repeat", "fold", "seed"]
COLOURS = {"scratch": "tab:grey", "self_supervised": "tab:blue", "unsupervised": "tab:orange"}
MARKERS = {"scratch": "o", "self_supervised": "s", "unsupervised": "^"}

TEXT = {
    "title": "Pretraining the first layer without labels (section 4.1)",
    "x": "labeled training reviews (log scale)",
    "y": "accuracy (validation: at the start's chosen epoch)",
    "starts": {"scratch": "from scratch (Glorot, the book's)", "self_supervised": "self-supervised (masked words)",
               "unsupervised": "unsupervised (truncated SVD)"},
    "test": "hollow: the test set, once per fit (mean of {n} fits)",
    "band": "shaded: 95% corrected resampled interval over folds × seeds ({runs} runs a point)",
    "caption": ("Validation accuracy of the 16-16-1 model against the number of labeled training reviews, its first "
                "layer started from scratch, by masked words (self-supervised) or by a truncated SVD (unsupervised), "
                "both learned on the fold's other training reviews with their labels hidden. Each point: the mean over "
                "{runs} runs ({folds} folds × {seeds} seeds) at the start's chosen epoch (highest mean validation "
                "accuracy); the band: the corrected resampled 95% interval over those runs (folds share reviews), "
                "which covers the draw of labeled reviews, initial weights and batch order, and the folds. Hollow "
                "markers: the test set, scored once per fit after the folds chose the epochs."),
}


def _validation_runs(table: pd.DataFrame, start: str, labeled: int) -> pd.DataFrame:
    rows = table[(table.start == start) & (table.labeled == labeled) & (table.split == "validation")
                 & (table.metric == "acc") & ~table.diverged.astype(bool)]
    return rows.pivot_table(index=RUN, columns="epoch", values="value")


def _ratio(table: pd.DataFrame) -> float:
    """n_validation / n_training of the study's folds (the pool is a fold's training part): the correction."""
    rows = table[table.split == "validation"]
    return float((rows.validation_size / rows.pool_size).mean())


def points(table: pd.DataFrame) -> pd.DataFrame:
    """Per start and labeled size: the chosen epoch, the mean validation accuracy there with its interval, the
    paired advantage over scratch with its interval, and the test accuracy of the final fits (mean)."""
    ratio, out = _ratio(table), []
    sizes = sorted(table.loc[table.split == "validation", "labeled"].unique())
    for labeled in sizes:
        scratch = value_at_highest_mean_epoch(_validation_runs(table, "scratch", labeled))
        for start in STARTS:
            curves = _validation_runs(table, start, labeled)
            if curves.empty:
                continue
            values = value_at_highest_mean_epoch(curves)
            found = interval(values, (0.0, 1.0), validation_train_ratio=ratio)
            difference = (values - scratch.reindex(values.index)).dropna()
            advantage = interval(difference, (-1.0, 1.0), validation_train_ratio=ratio)
            test = table[(table.start == start) & (table.labeled == labeled) & (table.split == "test")
                         & (table.metric == "acc")]
            out.append({"labeled": int(labeled), "start": start, "epoch": int(curves.mean().idxmax()),
                        "validation_acc": found.value, "low": found.low, "high": found.high, "runs": found.n,
                        "advantage": advantage.value if start != "scratch" else np.nan,
                        "advantage_low": advantage.low if start != "scratch" else np.nan,
                        "advantage_high": advantage.high if start != "scratch" else np.nan,
                        "test_acc": float(test.value.mean()) if len(test) else np.nan, "test_fits": len(test)})
    return pd.DataFrame(out)


def figure(table: pd.DataFrame, language: str = i18n.SOURCE):
    """The learning curve: one line per start (mean, band = its interval), the test fits as hollow markers; its words
    in ``language``."""
    _ = i18n.gettext(language)
    found = points(table)
    sns.set_theme(style="whitegrid", rc={"font.sans-serif": _fonts(language)} if language in FONTS else None)
    fig, ax = plt.subplots(figsize=(8, 5))
    for start in STARTS:
        mine = found[found.start == start]
        if mine.empty:
            continue
        colour = COLOURS[start]
        ax.fill_between(mine.labeled, mine.low, mine.high, color=colour, alpha=0.18, linewidth=0)
        ax.plot(mine.labeled, mine.validation_acc, "-", marker=MARKERS[start], color=colour,
                label=_(TEXT["starts"][start]))
        tested = mine[mine.test_fits > 0]
        ax.plot(tested.labeled, tested.test_acc, linestyle="none", marker=MARKERS[start], markerfacecolor="none",
                markeredgecolor=colour, markersize=9)
    fits = found.loc[found.test_fits > 0, "test_fits"]
    if len(fits):  # one legend entry for the test markers of every start
        ax.plot([], [], linestyle="none", marker="o", markerfacecolor="none", markeredgecolor="0.3", markersize=9,
                label=_(TEXT["test"]).format(n=int(fits.min())))
    ax.set_xscale("log")
    ax.set_xticks(sorted(found.labeled.unique()))
    ax.set_xticklabels([f"{n:,}" for n in sorted(found.labeled.unique())])
    ax.minorticks_off()
    ax.set_xlabel(_(TEXT["x"]))
    ax.set_ylabel(_(TEXT["y"]))
    ax.set_title(_(TEXT["title"]))
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), ncol=2, fontsize=8, frameon=False,
              title=_(TEXT["band"]).format(runs=int(found.runs.max())), title_fontsize=8)
    fig.tight_layout()
    return fig


def save(fig, path) -> None:
    with atomic_path(path) as partial, open(partial, "wb") as stream:
        # fixed metadata so that the same results give the same bytes
        fig.savefig(stream, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)


def rows(found: pd.DataFrame) -> list[dict]:
    """The table the report shows: one row per labeled size and start, its numbers as they are printed."""
    def span(low, high):
        return "" if np.isnan(low) else f"[{low:.3f}, {high:.3f}]"

    return [{"labeled": f"{r.labeled:,}", "start": TEXT["starts"][r.start], "epoch": r.epoch,
             "validation_acc": f"{r.validation_acc:.3f}", "interval": span(r.low, r.high),
             "advantage": "" if np.isnan(r.advantage) else f"{r.advantage:+.3f}",
             "advantage_interval": span(r.advantage_low, r.advantage_high),
             "test_acc": "" if np.isnan(r.test_acc) else f"{r.test_acc:.3f}"} for r in found.itertuples()]


def section(table: pd.DataFrame, claims: pd.DataFrame, language: str = i18n.SOURCE) -> dict:
    """What the report shows of the study (templates/pretraining.html.j2): the figure's name and caption, the table's
    rows, the study's claim rows, the headline claim's (13a's) outcome, and the numbers the text quotes by name."""
    _ = i18n.gettext(language)
    found = points(table)
    sizes = sorted(found.labeled.unique())
    smallest, largest = sizes[0], sizes[-1]
    runs = table[table.split == "validation"].drop_duplicates(RUN)
    pretext = table[table.split == "pretext"].groupby("metric").value.mean()

    def at(start, labeled, column):
        return float(found.set_index(["start", "labeled"]).loc[(start, labeled), column])

    numbers = {
        "smallest": f"{smallest:,}", "largest": f"{largest:,}",
        "folds": runs[["repeat", "fold"]].drop_duplicates().shape[0], "seeds": runs.seed.nunique(),
        "runs": int(found.runs.max()), "pool": f"{int(table.loc[table.split == 'validation', 'pool_size'].mean()):,}",
        "pretext_loss": f"{pretext.get('loss', np.nan):.3f}",
        "pretext_frequency_loss": f"{pretext.get('frequency_loss', np.nan):.3f}",
        "pretext_acc": f"{pretext.get('acc', np.nan):.1%}",
    }
    for start in STARTS:
        for name, labeled in (("smallest", smallest), ("largest", largest)):
            numbers[f"{start}_{name}"] = f"{at(start, labeled, 'validation_acc'):.3f}"
            numbers[f"{start}_{name}_test"] = f"{at(start, labeled, 'test_acc'):.3f}"
            if start != "scratch":
                numbers[f"{start}_advantage_{name}"] = f"{at(start, labeled, 'advantage'):+.3f}"
                numbers[f"{start}_advantage_{name}_interval"] = (f"[{at(start, labeled, 'advantage_low'):+.3f}, "
                                                                  f"{at(start, labeled, 'advantage_high'):+.3f}]")
    mine = claims[claims.id.astype(str).isin(CLAIMS)] if "id" in claims else claims.iloc[0:0]
    numbers.update({f"verdict_{claim}": "not run" for claim in CLAIMS})
    for row in mine.drop_duplicates("id").itertuples():
        numbers[f"verdict_{row.id}"] = row.verdict
    caption = _(TEXT["caption"]).format(runs=numbers["runs"], folds=numbers["folds"], seeds=numbers["seeds"])
    return {"name": NAME, "title": _(TEXT["title"]), "caption": caption, "rows": rows(found), "points": found,
            "claims": mine, "outcome": numbers["verdict_13a"], "n": numbers}
