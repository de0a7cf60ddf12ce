"""The tidy tables every figure and claim is computed from."""

from __future__ import annotations

from importlib import resources as importlib_resources

import pandas as pd

RUN = ["repeat", "fold", "seed"]
FITS = ("final", "book_3_5")  # the protocol names of the final fits' rows (overfit.experiments.final_runs)


def collect_metrics(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """All per-epoch rows: one per (experiment, protocol, repeat, fold, seed, epoch, split, metric)."""
    table = pd.concat(frames, ignore_index=True)
    keys = ["experiment", "protocol", *RUN, "epoch", "split", "metric"]
    if table.duplicated(keys).any():
        raise ValueError("duplicate metric rows")
    return table.sort_values(keys, ignore_index=True)


def test_scores(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per final fit and seed: epochs trained, test loss (as Keras reports it) and accuracy.

    A fit whose run diverged, or that was never trained because every run
    it would choose its epochs from diverged, has ``diverged`` true and no
    test values.
    """
    columns = ["experiment", "fit", "seed", "epochs", "test_loss", "test_data_loss", "test_acc", "diverged"]
    fits = metrics[metrics.protocol.isin(FITS)]
    rows = []
    for (experiment, fit, seed), run in fits.groupby(["experiment", "protocol", "seed"], sort=True):
        test = run[run.split == "test"]
        values = dict(zip(test.metric, test.value))
        rows.append({"experiment": experiment, "fit": fit, "seed": seed,
                     "epochs": int(test.epoch.max() if len(test) else run.epoch.max()),
                     "test_loss": values.get("loss", float("nan")), "test_data_loss": values.get("data_loss", float("nan")),
                     "test_acc": values.get("acc", float("nan")), "diverged": bool(run.diverged.any())})
    return pd.DataFrame(rows, columns=columns)


def curves(metrics: pd.DataFrame, experiment: str, protocol: str, split: str = "validation", metric: str = "loss") -> pd.DataFrame:
    """Runs × epochs matrix of one curve (rows: (repeat, fold, seed)); diverged runs left out."""
    rows = metrics[(metrics.experiment == experiment) & (metrics.protocol == protocol)]
    diverged = rows.groupby(RUN).diverged.any()
    rows = rows[(rows.split == split) & (rows.metric == metric)]
    table = rows.pivot_table(index=RUN, columns="epoch", values="value")
    return table.loc[~diverged.reindex(table.index).fillna(False).to_numpy(bool)]


def runs_of(metrics: pd.DataFrame, experiment: str, protocol: str) -> int:
    """How many runs (diverged ones included) an experiment has under a protocol."""
    rows = metrics[(metrics.experiment == experiment) & (metrics.protocol == protocol)]
    return rows.groupby(RUN).ngroups


def experiments_run(metrics: pd.DataFrame) -> dict[str, set[str]]:
    """Which experiments have runs under each protocol."""
    return metrics.groupby("protocol").experiment.unique().map(set).to_dict()


def validation_train_ratio(metrics: pd.DataFrame, protocol: str, experiment: str | None = None) -> float:
    """Mean n_validation / n_training over a protocol's runs: the corrected interval's overlap term."""
    rows = metrics[metrics.protocol == protocol]
    if experiment is not None:
        rows = rows[rows.experiment == experiment]
    rows = rows.drop_duplicates(["experiment", "repeat", "fold", "seed"])
    return float((rows.validation_size / rows.train_size).mean())


def seed_runs(metrics: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Each seed of the book's protocols: its best epoch and lowest validation loss (one row per run)."""
    roles = config.get("roles", {})
    rows = []
    for role in ("book_3_5", "book_4_4"):
        protocol = roles.get(role)
        if not protocol:
            continue
        for experiment in sorted(set(metrics.experiment[metrics.protocol == protocol])):
            table = curves(metrics, experiment, protocol, "validation", "loss")
            for (repeat, fold, seed), values in table.iterrows():
                rows.append(dict(protocol=protocol, experiment=experiment, seed=seed, best_epoch=int(values.idxmin()),
                                 best_loss=float(values.min()), last_loss=float(values.iloc[-1])))
    return pd.DataFrame(rows, columns=["protocol", "experiment", "seed", "best_epoch", "best_loss", "last_loss"])


def run_counts(metrics: pd.DataFrame) -> pd.DataFrame:
    """Runs and diverged runs per (experiment, protocol), and the training and validation sizes."""
    runs = metrics.groupby(["experiment", "protocol", *RUN]).agg(
        diverged=("diverged", "any"), train_size=("train_size", "first"), validation_size=("validation_size", "first"))
    table = runs.groupby(["experiment", "protocol"]).agg(
        runs=("diverged", "size"), diverged=("diverged", "sum"), train_size=("train_size", "mean"),
        validation_size=("validation_size", "mean"))
    return table.reset_index()


def book_histories() -> pd.DataFrame:
    """The 1st edition notebooks' recorded histories, shipped with the package."""
    path = importlib_resources.files("overfit") / "reference" / "dlwp1_notebook_histories.csv"
    with importlib_resources.as_file(path) as file:
        return pd.read_csv(file, dtype={"section": str})
