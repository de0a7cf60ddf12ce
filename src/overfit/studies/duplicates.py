"""Redundancy across the split, measured (section 4.2.2): how much do the test reviews that also sit in the training
set, word for word or nearly (overfit.data.duplicates), lift the test score?

Free of JAX (the claims and the report read its tables with ``lift``): the job (overfit.jobs.train.duplicate_leak)
trains the runs. The reference model trains twice per seed on the training reviews: on all of them (``all``), and on all but those
that have an identical or near-identical review in the test set (``deduplicated``). Both arms share their seeds
(initial weights, the shuffle's seed), so they compare paired by seed. After every epoch each is scored on the test
reviews that have such a partner in training (``duplicated``) and on the whole test set (``test``). The lift of the
duplicated reviews' score is what the duplicates are worth to the model; the whole test score's is what they are
worth to the number a reader sees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit.protocols import Fold

ARMS = ("all", "deduplicated")
# the rows of results/duplicate_leak.csv: per arm, seed and epoch, each scored set's loss, accuracy and size
COLUMNS = ["arm", "seed", "epoch", "scored", "loss", "acc", "rows"]


def partners(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, test rows) that belong to a pair across the split (results/data/imdb/duplicate_pairs.parquet:
    identical or near-identical reviews), each once."""
    across = pairs[pairs.split_a != pairs.split_b]
    train = np.where(across.split_a == "train", across.row_a, across.row_b)
    test = np.where(across.split_a == "test", across.row_a, across.row_b)
    return np.unique(train).astype(np.int64), np.unique(test).astype(np.int64)


def folds(n_train: int, pairs: pd.DataFrame) -> dict[str, Fold]:
    """Each arm's training rows, and the duplicated test reviews it is scored on (none: no arm to train)."""
    train_partners, test_partners = partners(pairs)
    if not len(test_partners):
        return {}
    everything = np.arange(n_train)
    kept = np.setdiff1d(everything, train_partners)
    return {"all": Fold(0, 0, everything, "test", test_partners),
            "deduplicated": Fold(0, 0, kept, "test", test_partners)}


def tidy(rows: list[dict], arms: dict[str, Fold], n_test: int) -> pd.DataFrame:
    """The engine's metric rows of both arms' runs (each run's ``protocol`` label its arm; overfit.jobs.train trains
    them) as the table of COLUMNS."""
    rows = pd.DataFrame(rows)
    rows = rows[rows.split.isin(["duplicated", "test"]) & rows.metric.isin(["loss", "acc"])]
    table = rows.pivot_table(index=["protocol", "seed", "epoch", "split"], columns="metric", values="value").reset_index()
    sizes = {"duplicated": len(arms["all"].validation_rows), "test": n_test}
    table = table.rename(columns={"protocol": "arm", "split": "scored"}).assign(rows=lambda t: t.scored.map(sizes))
    return table[COLUMNS].sort_values(["arm", "seed", "scored", "epoch"]).reset_index(drop=True)


def lift(table: pd.DataFrame, scored: str, epoch: int, metric: str = "acc") -> pd.Series:
    """Per seed: ``metric`` of the model trained on all reviews minus the deduplicated one's, on ``scored`` (the
    duplicated test reviews, or the whole test set) after ``epoch`` epochs; positive: the duplicates lift the score
    (for the loss, negative)."""
    at = table[(table.scored == scored) & (table.epoch == epoch)].pivot_table(index="seed", columns="arm", values=metric)
    if at.empty or not set(ARMS) <= set(at.columns):
        raise KeyError(f"no {metric} of both arms on the {scored} reviews at epoch {epoch}")
    return at["all"] - at["deduplicated"]
