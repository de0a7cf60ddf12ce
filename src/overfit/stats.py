"""Intervals that fit how the runs were drawn, and the small statistics the claims use.

Two designs produce our runs:

- **seeds on one split** (the book's protocols, final fits): runs differ only
  in initialisation and batch order, independently drawn, so the plain
  t-interval is valid for the variation it covers (seeds, not the choice of
  data);
- **folds × repeats** (K-fold, iterated K-fold): training sets overlap by
  (K − 2)/(K − 1) within a repeat and every repeat reuses the same reviews,
  so the runs are correlated and the plain interval is too narrow. The
  corrected resampled t-interval (Nadeau & Bengio 2003, "Inference for the
  generalization error", Machine Learning 52) inflates the variance of the
  mean from s²/J to s²·(1/J + n_validation/n_training); at K = 4 and J = 12
  that widens the interval 2.2-fold.

Every interval is returned with the naive one beside it, so a reader sees
what the correction changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

HOLDS, FAILS, UNCLEAR, NOT_RUN = "holds", "does not hold", "unclear", "not run"
CORRECTED = "corrected resampled t (Nadeau & Bengio 2003) over folds × repeats"
PLAIN = "t over independent seeds"


@dataclass(frozen=True)
class Interval:
    value: float  # the mean of the per-run values: the statistic the interval is about
    low: float
    high: float
    naive_low: float
    naive_high: float
    n: int
    method: str


def t_interval(values, confidence: float = 0.95, validation_train_ratio: float | None = None) -> Interval:
    """Mean of ``values`` with a t-interval; corrected for overlapping training sets when a ratio is given.

    ``validation_train_ratio``: n_validation / n_training of the folds (None:
    the runs are independent). With fewer than two values the interval is
    undefined (NaN).
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    method = PLAIN if validation_train_ratio is None else CORRECTED
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, nan, nan, 0, method)
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, float("nan"), float("nan"), float("nan"), float("nan"), n, method)
    variance = float(values.var(ddof=1))
    quantile = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    naive = quantile * np.sqrt(variance / n)
    factor = 1.0 / n if validation_train_ratio is None else 1.0 / n + validation_train_ratio
    half = quantile * np.sqrt(variance * factor)
    return Interval(mean, mean - half, mean + half, mean - naive, mean + naive, n, method)


def summary_interval(mean: float, sd: float, n: int, method: str, confidence: float = 0.95) -> Interval:
    """The t-interval of a mean known from its summary (mean, sd, n of independent values)."""
    half = float(stats.t.ppf(0.5 + confidence / 2, max(n - 1, 1))) * sd / np.sqrt(n) if n >= 2 else float("nan")
    return Interval(float(mean), mean - half, mean + half, float("nan"), float("nan"), int(n), method)


WELCH = "Welch t over independent reshuffles (two samples)"
F_RATIO = "F over independent reshuffles (ratio of spreads)"


def difference_interval(a, b, confidence: float = 0.95) -> Interval:
    """mean(a) − mean(b) of two independent samples (reshuffles of two protocols), with Welch's t-interval.

    The naive bounds are those of the pooled-variance t-interval.
    """
    a, b = (np.asarray(v, dtype=float) for v in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    nan = float("nan")
    if len(a) == 0 or len(b) == 0:
        return Interval(nan, nan, nan, nan, nan, len(a) + len(b), WELCH)
    value = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return Interval(value, nan, nan, nan, nan, len(a) + len(b), WELCH)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else len(a) + len(b) - 2
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    pooled = np.sqrt(((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
                     * (1 / len(a) + 1 / len(b)))
    naive = float(stats.t.ppf(0.5 + confidence / 2, len(a) + len(b) - 2)) * pooled
    return Interval(value, value - half, value + half, value - naive, value + naive, len(a) + len(b), WELCH)


def spread_ratio(a, b, b_averaged: int = 1, confidence: float = 0.95) -> Interval:
    """How many times the spread (standard deviation) of ``a`` exceeds that of ``b``, with the F-interval.

    ``a`` and ``b``: independent estimates (one per reshuffle) from two protocols. ``b_averaged``: each estimate
    of ``b`` stands for the mean of that many of them (an iterated K-fold of P repeats), whose spread is
    sd(b) / sqrt(P) when its repeats are independent draws. The interval assumes roughly normal estimates.
    """
    a, b = (np.asarray(v, dtype=float) for v in (a, b))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    nan = float("nan")
    if len(a) < 2 or len(b) < 2:
        return Interval(nan, nan, nan, nan, nan, len(a) + len(b), F_RATIO)
    variance_b = b.var(ddof=1) / b_averaged
    if variance_b == 0:
        return Interval(nan, nan, nan, nan, nan, len(a) + len(b), F_RATIO)
    ratio = a.var(ddof=1) / variance_b
    tail = (1 - confidence) / 2
    low = ratio / stats.f.ppf(1 - tail, len(a) - 1, len(b) - 1)
    high = ratio / stats.f.ppf(tail, len(a) - 1, len(b) - 1)
    value, low, high = (float(np.sqrt(x)) for x in (ratio, low, high))
    return Interval(value, low, high, low, high, len(a) + len(b), F_RATIO)


def jitter(curves: np.ndarray) -> np.ndarray:
    """Epoch-to-epoch noise of each curve (rows), in the curve's units.

    The median of |third difference|, divided by 0.6745·√20 so that
    independent noise of standard deviation σ scores σ. A third difference
    is zero on any locally quadratic stretch, so a smooth curve of any shape
    (falling fast, bending, rising ever faster) scores near zero, and a
    sharp corner (a V) disturbs three of the seventeen differences, which the
    median ignores. The mean of |second difference| would count the corner
    of a V, and any steady curvature, as noise.
    """
    curves = np.asarray(curves, dtype=float)
    return np.median(np.abs(np.diff(curves, n=3, axis=1)), axis=1) / (0.6745 * np.sqrt(20.0))


def rank_correlation(x, y) -> float:
    """Spearman's rank correlation of two sequences (NaN when either is constant)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def verdict(interval: Interval, claimed: dict) -> str:
    """Where the interval lies against what the sentence claims.

    ``claimed`` is one of ``{"above": t}`` (the effect exceeds t),
    ``{"below": t}`` or ``{"within": [a, b]}``. "holds": the whole interval
    is on the claimed side (inside the range); "does not hold": the whole
    interval is on the other side (outside the range); "unclear": it
    straddles a bound, or there are too few runs for an interval.
    """
    low, high = interval.low, interval.high
    if not np.isfinite(low) or not np.isfinite(high):
        return UNCLEAR
    if "above" in claimed:
        bound = claimed["above"]
        return HOLDS if low > bound else FAILS if high < bound else UNCLEAR
    if "below" in claimed:
        bound = claimed["below"]
        return HOLDS if high < bound else FAILS if low > bound else UNCLEAR
    a, b = claimed["within"]
    if a <= low and high <= b:
        return HOLDS
    if high < a or low > b:
        return FAILS
    return UNCLEAR



def describe_claimed(claimed: dict) -> str:
    if "above" in claimed:
        return f"> {claimed['above']:g}"
    if "below" in claimed:
        return f"< {claimed['below']:g}"
    a, b = claimed["within"]
    return f"within [{a:g}, {b:g}]"
