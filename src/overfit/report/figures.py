"""The report's figures, each a pure function of the metrics table (and the book's recorded curves)."""

from __future__ import annotations

from importlib import resources as importlib_resources

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from overfit.report.catalog import FigureSpec  # noqa: E402

BOOK_COLOUR = "0.6"
COLOURS = {0: "tab:blue", 1: "tab:orange"}
MARKERS = {0: "+", 1: "o"}  # the book: crosses for the reference model, dots for the other


def book_histories() -> pd.DataFrame:
    """The 1st edition notebooks' recorded histories, shipped with the package."""
    path = importlib_resources.files("overfit") / "reference" / "dlwp1_notebook_histories.csv"
    with importlib_resources.as_file(path) as file:
        return pd.read_csv(file, dtype={"section": str})


def _book_curve(book: pd.DataFrame, section: str, experiment: str, split: str, metric: str) -> pd.DataFrame:
    name = metric if split == "train" else f"val_{metric}"
    return book[(book.section == section) & (book.experiment == experiment) & (book.metric == name)]


def _ours(metrics: pd.DataFrame, spec: FigureSpec, experiment: str, split: str) -> pd.DataFrame:
    return metrics[(metrics.protocol == spec.protocol) & (metrics.experiment == experiment)
                   & (metrics.split == split) & (metrics.metric == spec.metric) & (metrics.repeat == 0)
                   & (metrics.fold == 0) & (metrics.seed == 0)]


def draw(spec: FigureSpec, metrics: pd.DataFrame, book: pd.DataFrame):
    sns.set_theme(style="whitegrid", context="notebook")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    label = "accuracy" if spec.metric == "acc" else "loss"
    if spec.split == "both":  # the 3.5 figure: training (dots) and validation (line) of one model
        for split, style, word in (("train", "o", "Training"), ("validation", "-", "Validation")):
            ours = _ours(metrics, spec, spec.experiments[0], split)
            ax.plot(ours.epoch, ours.value, style, color="tab:blue", label=f"{word} {label} (ours)")
            theirs = _book_curve(book, "3.5", "reference_3_5", split, spec.metric)
            ax.plot(theirs.epoch, theirs.value, style, color=BOOK_COLOUR, alpha=0.8, label=f"{word} {label} (book)")
    elif spec.book:
        for i, experiment in enumerate(spec.experiments):
            ours = _ours(metrics, spec, experiment, spec.split)
            ax.plot(ours.epoch, ours.value, MARKERS[i], color=COLOURS[i], markersize=8 if i == 0 else 5,
                    label=f"{experiment} (ours)")
            theirs = _book_curve(book, "4.4", experiment, spec.split, spec.metric)
            if len(theirs):
                ax.plot(theirs.epoch, theirs.value, MARKERS[i] + ":", color=BOOK_COLOUR, markersize=8 if i == 0 else 5,
                        label=f"{experiment} (book)")
    else:
        rows = metrics[(metrics.protocol == spec.protocol) & metrics.experiment.isin(spec.experiments)
                       & (metrics.split == spec.split) & (metrics.metric == spec.metric)]
        runs = rows.groupby(["experiment", "repeat", "fold", "seed"]).ngroups // max(1, len(spec.experiments))
        sns.lineplot(rows, x="epoch", y="value", hue="experiment", hue_order=list(spec.experiments), style="experiment",
                     style_order=list(spec.experiments), markers=["P", "o"], dashes=False, errorbar=("ci", 95),
                     n_boot=2000, seed=0, ax=ax)
        ax.legend(title=f"mean of {runs} runs, 95% band")
    ax.set_xlabel("Epochs")
    ax.set_ylabel(("Training " if spec.split == "train" else "Validation " if spec.split == "validation" else "") + label)
    ax.set_title(spec.title, fontsize=11)
    ax.set_xticks(range(0, int(metrics.epoch.max()) + 1, 2))
    if spec.book:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save(fig, path) -> None:
    from overfit.files import atomic_path

    with atomic_path(path) as partial, open(partial, "wb") as stream:
        # fixed metadata so that the same results give the same bytes
        fig.savefig(stream, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
