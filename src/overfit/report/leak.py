"""The movie leak: random folds against folds grouped by movie, and which one predicts the test loss.

IMDB has up to 30 reviews per movie, and its test set shares no movie with
its training set. Random folds put reviews of one movie on both sides, so a
model can score on a validation review by what it learned of that movie
(titles, names) from the training folds: a leak the test set does not have.

Per experiment that runs under both protocols:

- each protocol's chosen epoch (lowest mean validation loss, as the final
  fits choose) and its mean validation loss there, with the corrected
  interval over its folds × repeats;
- the leak: random − grouped, at their chosen epochs, paired by repeat:
  each repeat of either protocol is a partition of the same reviews, so the
  mean over its folds estimates the same quantity but for the leak, and the
  repeats are independent draws of partition and initialisation. The plain
  t-interval over the repeats' differences covers those draws, on these
  reviews (the data set's own sampling cancels in the difference);
- the test loss of models trained on all training reviews for those epochs:
  the book's 4.4 protocol validates on the test set every epoch, so its mean
  over seeds is the test-loss curve; each protocol's bias is its validation
  loss minus that test loss. Fold models train on three quarters of the
  reviews, so both protocols are pessimistic by that much; the leak makes
  random folds optimistic, and the two can cancel;
- the final fits' own test loss, trained for the epochs of
  ``final.choose_epochs_on``.
"""

from __future__ import annotations

import pandas as pd

from overfit import stats
from overfit.grid import protocol_experiments
from overfit.report.tables import curves, experiments_run, validation_train_ratio

COLUMNS = ["experiment", "random_epoch", "random_loss", "random_low", "random_high", "grouped_epoch", "grouped_loss",
           "grouped_low", "grouped_high", "leak", "leak_low", "leak_high", "repeats", "test_best_epoch", "test_best_loss",
           "test_at_random_epoch", "test_at_grouped_epoch", "bias_random", "bias_grouped", "closer", "final_epochs",
           "final_test_loss"]


def _chosen(table: pd.DataFrame, ratio: float):
    """The epoch of lowest mean validation loss, the loss there with its corrected interval, and each repeat's mean."""
    epoch = int(table.mean().idxmin())
    return epoch, stats.t_interval(table[epoch], validation_train_ratio=ratio), table[epoch].groupby(level="repeat").mean()


def movie_leak(metrics: pd.DataFrame, scores: pd.DataFrame, config: dict) -> pd.DataFrame:
    roles = config.get("roles", {})
    random_folds, folded, test = roles.get("random_folds"), roles.get("folded"), roles.get("book_4_4")
    if not (random_folds and folded) or random_folds not in config["protocols"] or folded not in config["protocols"]:
        return pd.DataFrame(columns=COLUMNS)
    ran = experiments_run(metrics)
    both = [n for n in protocol_experiments(config, random_folds) if n in protocol_experiments(config, folded)
            and n in ran.get(random_folds, set()) and n in ran.get(folded, set())]
    rows = []
    for name in both:
        random_table, grouped_table = (curves(metrics, name, p, "validation", "loss") for p in (random_folds, folded))
        if random_table.empty or grouped_table.empty:
            rows.append({"experiment": name})  # every run of one protocol diverged: nothing to compare
            continue
        random_epoch, r, random_repeats = _chosen(random_table, validation_train_ratio(metrics, random_folds, name))
        grouped_epoch, g, grouped_repeats = _chosen(grouped_table, validation_train_ratio(metrics, folded, name))
        leak = stats.t_interval((random_repeats - grouped_repeats).dropna())
        row = dict(experiment=name, random_epoch=random_epoch, random_loss=r.value, random_low=r.low, random_high=r.high,
                   grouped_epoch=grouped_epoch, grouped_loss=g.value, grouped_low=g.low, grouped_high=g.high,
                   leak=leak.value, leak_low=leak.low, leak_high=leak.high, repeats=leak.n)
        test_curve = curves(metrics, name, test, "validation", "loss").mean() if name in ran.get(test, set()) else []
        if len(test_curve):
            row.update(test_best_epoch=int(test_curve.idxmin()), test_best_loss=float(test_curve.min()),
                       test_at_random_epoch=float(test_curve[random_epoch]), test_at_grouped_epoch=float(test_curve[grouped_epoch]))
            row["bias_random"] = r.value - row["test_at_random_epoch"]
            row["bias_grouped"] = g.value - row["test_at_grouped_epoch"]
            row["closer"] = random_folds if abs(row["bias_random"]) < abs(row["bias_grouped"]) else folded
        final = scores[(scores.fit == "final") & (scores.experiment == name)] if len(scores) else scores
        if len(final):
            row.update(final_epochs=int(final.epochs.iloc[0]), final_test_loss=float(final.test_loss.mean()))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def summary(table: pd.DataFrame, random_folds: str, folded: str) -> dict:
    """What the leak table says in a few numbers (the report's and the README's sentences)."""
    table = table.dropna(subset=["leak"])
    if table.empty:
        return {}
    out = {
        "experiments": len(table),
        "mean_leak": float(table.leak.mean()),
        "leak_below_zero": int((table.leak_high < 0).sum()),
        "epochs_differ": int((table.random_epoch != table.grouped_epoch).sum()),
    }
    tested = table.dropna(subset=["bias_random", "bias_grouped"])
    if len(tested):
        out.update(
            tested=len(tested),
            grouped_closer=int((tested.closer == folded).sum()),
            mean_abs_bias_random=float(tested.bias_random.abs().mean()),
            mean_abs_bias_grouped=float(tested.bias_grouped.abs().mean()),
            # lower test loss at the epochs a protocol picks = the better choice for the final fits
            test_loss_random_epochs=float(tested.test_at_random_epoch.mean()),
            test_loss_grouped_epochs=float(tested.test_at_grouped_epoch.mean()),
        )
    return out
