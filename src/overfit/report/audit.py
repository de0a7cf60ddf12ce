"""Section 4.2 measured: what each evaluation protocol says the reference model's test score is, and at what cost.

An *estimate* is what one use of a protocol reports: the mean validation
curve over its folds (one fold for a hold-out), the epoch where that curve's
loss is lowest, and the validation loss and accuracy there. A protocol redrawn
``repeats`` times (a reshuffled hold-out, an iterated K-fold) gives one
estimate per repeat (and per seed, where it trains several on one split); the
repeats are independent draws of split and initialisation from the same 25,000
reviews, so their spread is the protocol's spread over reshuffles, conditional
on these reviews.

The *truth* is the book protocol's test curve: models trained on all 25,000
training reviews, scored on the 25,000 test reviews (movies disjoint from
training) every epoch, mean over its seeds. An estimate's error is its value
minus that test curve at the epoch the estimate chose. Fold and hold-out
models train on fewer reviews than the truth's, so every protocol is a little
pessimistic by construction: that is part of its bias, as it is for a user.

An *iterated* K-fold of P repeats is one estimate from all P × K models (the
mean curve over every run). Its spread over reshuffles is not observed (one
per run of the pipeline); it is derived as the single repeat's spread / √P,
valid when the repeats are independent draws, and the table marks it derived.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit.grid import protocol_models
from overfit.report.tables import curves

COLUMNS = ["protocol", "estimate", "kind", "validation_size", "folds", "estimates", "models", "epochs",
           "model_epochs", "seconds", "chosen_epoch", "at_last_epoch", "loss", "bias_loss", "bias_loss_low",
           "bias_loss_high", "spread_loss", "rmse_loss", "acc", "bias_acc", "bias_acc_low", "bias_acc_high",
           "spread_acc", "rmse_acc", "spread_derived"]


def truth(loss: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """The test curve by epoch from the book protocol's validation ``loss`` and ``acc`` curves (its validation set is
    the test set): the mean over seeds, columns loss, acc; empty if it did not run."""
    return pd.DataFrame({"loss": loss.mean(), "acc": acc.mean()}) if len(loss) else pd.DataFrame(columns=["loss", "acc"])


def _chosen(loss: pd.DataFrame, acc: pd.DataFrame, test: pd.DataFrame) -> dict:
    """The estimate of a set of runs (rows of the curves): mean curve, its lowest-loss epoch, the values there."""
    mean_loss, mean_acc = loss.mean(), acc.mean()
    epoch = int(mean_loss.idxmin())
    row = {"epoch": epoch, "loss": float(mean_loss[epoch]), "acc": float(mean_acc[epoch]),
           "at_last_epoch": epoch == int(mean_loss.index.max())}
    if epoch in test.index:
        row.update(truth_loss=float(test.loss[epoch]), truth_acc=float(test.acc[epoch]))
    return row


def validation_curves(metrics: pd.DataFrame, experiment: str, protocol: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The validation loss and accuracy curves of the protocol's runs (runs × epochs), in the same row order."""
    loss = curves(metrics, experiment, protocol, "validation", "loss")
    return loss, curves(metrics, experiment, protocol, "validation", "acc").reindex(loss.index)


def estimates(loss: pd.DataFrame, acc: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """One row per use of a protocol (repeat × seed) from its runs' validation ``loss`` and ``acc`` curves: chosen
    epoch, loss, acc, the truth there, and the errors."""
    rows = []
    for (repeat, seed), runs in loss.groupby(level=["repeat", "seed"]):
        rows.append({"repeat": repeat, "seed": seed, **_chosen(runs, acc.loc[runs.index], test)})
    table = pd.DataFrame(rows, columns=["repeat", "seed", "epoch", "loss", "acc", "at_last_epoch", "truth_loss", "truth_acc"])
    table["error_loss"] = table.loss - table.truth_loss
    table["error_acc"] = table.acc - table.truth_acc
    return table


def _summary(table: pd.DataFrame, metric: str) -> dict:
    from overfit import stats

    errors = table[f"error_{metric}"]
    bias = stats.t_interval(errors)
    return {metric: float(table[metric].mean()), f"bias_{metric}": bias.value, f"bias_{metric}_low": bias.low,
            f"bias_{metric}_high": bias.high, f"spread_{metric}": float(table[metric].std(ddof=1)) if len(table) > 1 else np.nan,
            f"rmse_{metric}": float(np.sqrt(np.mean(errors ** 2)))}


def audit_table(metrics: pd.DataFrame, config: dict, seconds: dict[str, float]) -> pd.DataFrame:
    """One row per audited protocol (role ``audited``), and one per iterated K-fold (a K-fold with repeats).

    ``seconds``: each protocol's training-job seconds (its ``benchmark:`` files), for the cost of an estimate.
    """
    roles = config.get("roles", {})
    experiment, book = roles.get("reference"), roles.get("book_4_4")
    test = truth(*validation_curves(metrics, experiment, book)) if experiment and book in config["protocols"] else pd.DataFrame()
    rows = []
    for protocol in roles.get("audited", []):
        entry = config["protocols"][protocol]
        if experiment not in set(metrics.experiment[metrics.protocol == protocol]) or test.empty:
            continue
        loss, acc = validation_curves(metrics, experiment, protocol)
        table = estimates(loss, acc, test)
        folds = entry.get("folds", 1)
        epochs = int(metrics.epoch[(metrics.protocol == protocol) & (metrics.experiment == experiment)].max())
        per_job = protocol_models(config, protocol)
        base = {"protocol": protocol, "kind": entry["kind"], "folds": folds, "epochs": epochs,
                "validation_size": float(metrics.validation_size[(metrics.protocol == protocol)
                                                                  & (metrics.experiment == experiment)].mean())}
        cost = seconds.get(protocol, np.nan) / per_job
        rows.append({**base, "estimate": "single", "estimates": len(table), "models": folds,
                     "model_epochs": folds * epochs, "seconds": cost * folds, "chosen_epoch": float(table.epoch.mean()),
                     "at_last_epoch": int(table.at_last_epoch.sum()), **_summary(table, "loss"), **_summary(table, "acc"),
                     "spread_derived": False})
        repeats = entry.get("repeats", 1)
        if "kfold" in entry["kind"] and repeats > 1:
            one = _chosen(loss, acc, test)  # the iterated K-fold's one estimate: every repeat's folds together
            row = {**base, "estimate": f"iterated ×{repeats}", "estimates": 1, "models": folds * repeats,
                   "model_epochs": folds * repeats * epochs, "seconds": cost * folds * repeats,
                   "chosen_epoch": float(one["epoch"]), "at_last_epoch": int(one["at_last_epoch"]), "spread_derived": True}
            for metric in ("loss", "acc"):
                error = one[metric] - one.get(f"truth_{metric}", np.nan)
                row.update({metric: one[metric], f"bias_{metric}": error, f"rmse_{metric}": abs(error),
                            f"spread_{metric}": float(table[metric].std(ddof=1)) / np.sqrt(repeats)})
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
