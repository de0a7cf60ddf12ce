"""Each checkable claim of the chapter, the statistic that tests it, and a verdict computed from the results.

Statistics are over the runs of the folded protocol (K folds × P repeats).
Comparisons are paired: every experiment trains on the same folds with the
same batch order (see overfit.experiments), so each claim is tested on the
per-run difference between two experiments, with a 95% t-interval. A
verdict "holds" when the interval lies on the claimed side, "does not hold"
when it lies on the other side, and "unclear" when it straddles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from overfit.report.tables import curves, mean_ci

HOLDS, FAILS, UNCLEAR, NOT_RUN = "holds", "does not hold", "unclear", "not run"
CAPACITY_ORDER = ["smaller", "smaller_6", "original", "bigger", "bigger_1024"]


@dataclass
class Claim:
    id: str
    claim: str
    statistic: str
    value: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    n: int = 0
    verdict: str = NOT_RUN
    detail: str = ""


def _side(low: float, high: float, claimed: str) -> str:
    """claimed ">0" or "<0": where the interval must lie for the claim to hold."""
    if np.isnan(low):
        return UNCLEAR
    positive, negative = low > 0, high < 0
    if claimed == ">0":
        return HOLDS if positive else FAILS if negative else UNCLEAR
    return HOLDS if negative else FAILS if positive else UNCLEAR


def best_epoch(table: pd.DataFrame) -> pd.Series:
    return table.idxmin(axis=1).astype(float)


def rise_after_best(table: pd.DataFrame) -> pd.Series:
    """How far the validation loss climbs from its minimum to the last epoch: the amount of overfitting."""
    return table.iloc[:, -1] - table.min(axis=1)


def slope_after_best(table: pd.DataFrame) -> pd.Series:
    last = table.columns[-1]
    best = best_epoch(table)
    span = (last - best).replace(0, np.nan)
    return rise_after_best(table) / span


def roughness(table: pd.DataFrame) -> pd.Series:
    """Mean absolute second difference of the curve: epoch-to-epoch jitter, insensitive to a steady trend."""
    return table.diff(axis=1).diff(axis=1).abs().mean(axis=1)


def _paired(stat, a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """stat(b) - stat(a) over the runs both have."""
    common = a.index.intersection(b.index)
    return (stat(b.loc[common]) - stat(a.loc[common])).dropna().to_numpy()


def _paired_claim(claim: Claim, stat, a, b, claimed: str) -> Claim:
    diffs = _paired(stat, a, b)
    if len(diffs) == 0:
        return claim
    claim.value, claim.low, claim.high = mean_ci(diffs)
    claim.n, claim.verdict = len(diffs), _side(claim.low, claim.high, claimed)
    return claim


def compute_claims(metrics: pd.DataFrame, scores: pd.DataFrame, protocol: str) -> pd.DataFrame:
    present = set(metrics.experiment[metrics.protocol == protocol])

    def val(name, metric="loss"):
        return curves(metrics, name, protocol, "validation", metric) if name in present else None

    def train(name):
        return curves(metrics, name, protocol, "train", "loss") if name in present else None

    original = val("original")
    claims = []

    c = Claim("1a", "3.5: the 16-16-1 model's validation loss bottoms out around epoch 3–4",
              "epoch of the lowest mean validation loss (original); interval: 95% t-interval of the runs' own best epochs")
    if original is not None:
        c.value = float(original.mean().idxmin())
        _, c.low, c.high = mean_ci(best_epoch(original))
        c.n = len(original)
        c.verdict = HOLDS if 3 <= c.value <= 4 else UNCLEAR if 2 <= c.value <= 5 else FAILS
    claims.append(c)

    c = Claim("1b", "3.5: retrained for 4 epochs on all training data, about 88% test accuracy",
              "test accuracy of the 4-epoch refit, mean over seeds (holds within 1 point of 0.88)")
    refit = scores[scores.fit == "book_3_5"] if len(scores) else scores
    if len(refit):
        c.value, c.low, c.high = mean_ci(refit.test_acc)
        c.n = len(refit)
        c.verdict = HOLDS if abs(c.value - 0.88) <= 0.01 else FAILS
    claims.append(c)

    smaller, bigger = val("smaller"), val("bigger")
    if original is not None and smaller is not None:
        claims.append(_paired_claim(Claim("2a", "The smaller network starts overfitting later than the reference (after six epochs rather than four)",
                                          "best epoch, smaller − original (paired)"), best_epoch, original, smaller, ">0"))
        claims.append(_paired_claim(Claim("2b", "… and its performance degrades more slowly once it starts overfitting",
                                          "validation-loss slope after the best epoch, smaller − original (paired)"),
                                    slope_after_best, original, smaller, "<0"))
    if original is not None and bigger is not None:
        c = Claim("3a", "The bigger network starts overfitting almost immediately, after just one epoch",
                  "best epoch of bigger, mean with 95% interval (holds if at most 2)")
        c.value, c.low, c.high = mean_ci(best_epoch(bigger))
        c.n = len(bigger)
        c.verdict = HOLDS if c.high <= 2 else FAILS if c.low > 2 else UNCLEAR
        claims.append(c)
        claims.append(_paired_claim(Claim("3b", "… and it overfits much more severely",
                                          "rise of validation loss from its minimum to the last epoch, bigger − original (paired)"),
                                    rise_after_best, original, bigger, ">0"))
        claims.append(_paired_claim(Claim("3c", "Its validation loss is also noisier",
                                          "mean |second difference| of the validation loss, bigger − original (paired)"),
                                    roughness, original, bigger, ">0"))
        c = Claim("4a", "The bigger network gets its training loss near zero very quickly",
                  "first epoch at which bigger's mean training loss is below 0.01 (holds if by epoch 5)")
        bigger_train = train("bigger")
        below = bigger_train.mean()[bigger_train.mean() < 0.01]
        c.n = len(bigger_train)
        c.value = float(below.index[0]) if len(below) else float("nan")
        c.verdict = HOLDS if c.value <= 5 else UNCLEAR if c.value <= 10 else FAILS
        c.detail = f"training loss at epoch 3: {bigger_train[3].mean():.4f}"
        claims.append(c)
    ordered = [name for name in CAPACITY_ORDER if name in present]
    if len(ordered) >= 3:
        early = {name: train(name)[3].mean() for name in ordered}
        gap = {name: (val(name).iloc[:, -1] - train(name).iloc[:, -1]).mean() for name in ordered}
        c = Claim("4b", "The more capacity the network has, the more quickly it can model the training data",
                  "training loss at epoch 3, by capacity (" + " < ".join(ordered) + "): decreasing?")
        c.detail = ", ".join(f"{k} {v:.4f}" for k, v in early.items())
        c.n = len(ordered)
        c.value = float(np.sum(np.diff(list(early.values())) < 0))  # decreasing steps out of len-1
        c.verdict = HOLDS if c.value == len(ordered) - 1 else FAILS if c.value == 0 else UNCLEAR
        claims.append(c)
        c = Claim("4c", "… but the more susceptible it is to overfitting (a large gap between training and validation loss)",
                  "validation − training loss at the last epoch, by capacity: increasing?")
        c.detail = ", ".join(f"{k} {v:.3f}" for k, v in gap.items())
        c.n = len(ordered)
        c.value = float(np.sum(np.diff(list(gap.values())) > 0))
        c.verdict = HOLDS if c.value == len(ordered) - 1 else FAILS if c.value == 0 else UNCLEAR
        claims.append(c)
    l2, dropout = val("l2"), val("dropout")
    if original is not None and l2 is not None:
        claims.append(_paired_claim(Claim("5", "The model with L2 regularization is much more resistant to overfitting than the reference",
                                          "rise of validation loss (Keras' val_loss, penalty included) from its minimum to the last epoch, "
                                          "l2 − original (paired)"), rise_after_best, original, l2, "<0"))
    if original is not None and dropout is not None:
        claims.append(_paired_claim(Claim("6a", "Dropout: a clear improvement over the reference network (less overfitting)",
                                          "validation loss at the last epoch, dropout − original (paired)"),
                                    lambda t: t.iloc[:, -1], original, dropout, "<0"))
        claims.append(_paired_claim(Claim("6b", "Dropout: a clear improvement over the reference network (a better best model)",
                                          "lowest validation loss, dropout − original (paired)"),
                                    lambda t: t.min(axis=1), original, dropout, "<0"))
    table = pd.DataFrame([c.__dict__ for c in claims])
    table.insert(2, "protocol", protocol)
    return table
