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

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy import stats

HOLDS, FAILS, UNCLEAR, NOT_RUN = "holds", "does not hold", "unclear", "not run"
# a row whose `requires` guard did not hold (the sentence is empty without it), and a row whose design cannot
# answer the sentence (chapter.yaml's `not_testable`): neither is evidence for or against the book
VACUOUS, NOT_TESTABLE = "vacuous", "not testable here"
VERDICTS = (HOLDS, FAILS, UNCLEAR, VACUOUS, NOT_TESTABLE, NOT_RUN)
CORRECTED = "corrected resampled t (Nadeau & Bengio 2003) over folds × repeats"
PLAIN = "t over independent seeds"
SIGN = "exact sign test over {units}: no spread, so no t-interval"
ALPHA = 0.05  # every verdict's level: a two-sided 95% interval, each side at 2.5%
NO_BOUNDS = (-np.inf, np.inf)


@dataclass(frozen=True)
class Test:
    """How to test a threshold against the statistic an interval is about: one-sided p-values on its scale.

    ``t``: (center − g(threshold)) / se follows Student's t with ``df``, g the interval's scale (``scale``);
    ``F``: a ratio of spreads, center = the squared ratio, F(df, df2) against the squared threshold;
    ``sign``: runs that all gave ``center``, as many as ``df`` independent ones, each as far above (below) with
    chance ``tails`` when the claim is false (``sign_interval``).
    """

    family: str
    center: float = float("nan")
    se: float = float("nan")
    df: float = float("nan")
    df2: float = float("nan")
    bounds: tuple[float, float] = NO_BOUNDS
    tails: tuple[float, float] = (0.5, 0.5)

    def p_above(self, threshold: float) -> float:
        """p-value of 'the statistic is at most ``threshold``' (small: it is above)."""
        if self.family == "sign":
            return self.tails[0] ** self.df if self.center > threshold else 1.0
        if self.family == "F":
            return float(stats.f.sf(self.center / threshold ** 2, self.df, self.df2)) if threshold > 0 else 0.0
        return float(stats.t.sf((self.center - scale(threshold, self.bounds)) / self.se, self.df))

    def p_below(self, threshold: float) -> float:
        """p-value of 'the statistic is at least ``threshold``' (small: it is below)."""
        if self.family == "sign":
            return self.tails[1] ** self.df if self.center < threshold else 1.0
        if self.family == "F":
            return float(stats.f.cdf(self.center / threshold ** 2, self.df, self.df2)) if threshold > 0 else 1.0
        return float(stats.t.cdf((self.center - scale(threshold, self.bounds)) / self.se, self.df))


@dataclass(frozen=True)
class Interval:
    value: float  # the mean of the per-run values: the statistic the interval is about
    low: float
    high: float
    naive_low: float
    naive_high: float
    n: int
    method: str
    test: Test | None = None  # how a threshold is tested against it (verdicts, p-values)


def scale(x, bounds: tuple[float, float]):
    """The scale an interval of a bounded statistic is built on, so that it cannot cross a bound: a log for one
    bound, a logit of the position between two (for a correlation in [−1, 1]: twice Fisher's z)."""
    lo, hi = bounds
    with np.errstate(divide="ignore", invalid="ignore"):
        if np.isfinite(lo) and np.isfinite(hi):
            return np.log((x - lo) / (hi - x))
        if np.isfinite(lo):
            return np.log(x - lo)
        if np.isfinite(hi):
            return -np.log(hi - x)
        return x


def unscale(y, bounds: tuple[float, float]):
    lo, hi = bounds
    if np.isfinite(lo) and np.isfinite(hi):
        return lo + (hi - lo) / (1 + np.exp(-y))
    if np.isfinite(lo):
        return lo + np.exp(y)
    if np.isfinite(hi):
        return hi - np.exp(-y)
    return y


def slope(x: float, bounds: tuple[float, float]) -> float:
    """d scale / dx at x (the delta method's factor)."""
    lo, hi = bounds
    if np.isfinite(lo) and np.isfinite(hi):
        return (hi - lo) / ((x - lo) * (hi - x))
    if np.isfinite(lo):
        return 1.0 / (x - lo)
    if np.isfinite(hi):
        return 1.0 / (hi - x)
    return 1.0


def t_interval(values, confidence: float = 0.95, validation_train_ratio: float | None = None,
               bounds: tuple[float, float] = NO_BOUNDS, ranking_points: int | None = None,
               transform: bool = True) -> Interval:
    """Mean of ``values`` with a t-interval; corrected for overlapping training sets when a ratio is given.

    ``validation_train_ratio``: n_validation / n_training of the folds (None:
    the runs are independent). ``bounds``: where the statistic cannot go. An
    accuracy's 0 and 1, a correlation's −1 and 1 (``transform``): the
    interval is built on the scale of ``scale`` around the mean (the delta
    method: for a correlation, Fisher's z) and mapped back, so that it stays
    inside them. Other bounds (an epoch's 1, a loss's 0; ``transform`` off)
    cut the interval: the true value lies inside them, so the cut interval
    covers it as often as the whole one, without the logit's long tail next
    to a bound that a few runs cannot pin down. With fewer than two values the
    interval is undefined (NaN). Values without any spread (every run's rank
    correlation −1) get no t-interval, which would have no width, but an
    exact test (``sign_interval``); ``ranking_points``: the values are rank
    correlations over that many points.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    method = PLAIN if validation_train_ratio is None else CORRECTED
    nan = float("nan")
    if n == 0:
        return Interval(nan, nan, nan, nan, nan, 0, method)
    mean = float(values.mean())
    if n < 2:
        return Interval(mean, nan, nan, nan, nan, n, method)
    variance = float(values.var(ddof=1))
    factor = 1.0 / n if validation_train_ratio is None else 1.0 / n + validation_train_ratio
    if variance == 0 or not bounds[0] < mean < bounds[1]:
        return sign_interval(values, 1.0 / factor, ranking_points)
    quantile = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    if not transform:
        half, naive = quantile * np.sqrt(variance * factor), quantile * np.sqrt(variance / n)
        low, high, naive_low, naive_high = (float(np.clip(x, *bounds)) for x in
                                            (mean - half, mean + half, mean - naive, mean + naive))
        if bounds != NO_BOUNDS and (low, high) != (mean - half, mean + half):
            method += f", cut at the statistic's bounds {_bounds(bounds)}"
        return Interval(mean, low, high, naive_low, naive_high, n, method,
                        Test("t", mean, float(np.sqrt(variance * factor)), n - 1.0))
    se = np.sqrt(variance * factor) * slope(mean, bounds)
    center = float(scale(mean, bounds))
    low, high = (float(unscale(center + sign * quantile * se, bounds)) for sign in (-1, 1))
    naive_low, naive_high = (float(unscale(center + sign * naive * slope(mean, bounds), bounds))
                             for naive in [quantile * np.sqrt(variance / n)] for sign in (-1, 1))
    if bounds != NO_BOUNDS:
        method += f", on the {'logit' if np.isfinite(bounds).all() else 'log'} scale (bounded: {_bounds(bounds)})"
    return Interval(mean, low, high, naive_low, naive_high, n, method, Test("t", center, float(se), n - 1.0, bounds=bounds))


def sign_interval(values, effective: float, ranking_points: int | None = None) -> Interval:
    """Runs that all give the same value: the exact probability, were the claim's other side true, that every
    run lands at least this far on this side anyway.

    Per independent run that chance is ½ (a sign test); for a rank correlation over k points, the chance that a
    random order of the k values correlates at least as strongly (a permutation test: 1/k! for a perfect
    order). Runs of folds × repeats are not independent (they share reviews): they count as the ``effective``
    number of independent runs that the corrected interval's variance implies, 1 / (1/J + n_validation/n_training).
    """
    values = np.asarray(values, dtype=float)
    value = float(values[0])
    if ranking_points is not None:
        tails = (spearman_tail(value, ranking_points, above=True), spearman_tail(value, ranking_points, above=False))
        what = (f"exact permutation test: all {len(values)} runs correlate {value:+.3g} over {ranking_points} points "
                f"(a random order does so, or more, with chance {min(tails):.3g})")
    else:
        tails = (0.5, 0.5)
        what = f"exact sign test: all {len(values)} runs equal"
    if effective < len(values) - 1e-9:
        what += f", counted as {effective:.2f} independent runs (folds share reviews)"
    return Interval(value, value, value, value, value, len(values), what + "; no spread, so no t-interval",
                    Test("sign", center=value, df=effective, tails=tails))


@functools.cache
def _spearman_null(points: int) -> np.ndarray:
    """Spearman's correlation of every order of ``points`` values with their positions (sampled past 8 points)."""
    if points <= 8:
        orders = np.array(list(itertools.permutations(range(points))), dtype=float)
    else:
        orders = np.argsort(np.random.default_rng(0).random((200_000, points)), axis=1).astype(float)
    ranks = np.arange(points, dtype=float)
    d2 = ((orders - ranks) ** 2).sum(axis=1)
    return np.round(1 - 6 * d2 / (points * (points ** 2 - 1)), 12)


def spearman_tail(value: float, points: int, above: bool) -> float:
    """The chance that a random order of ``points`` values has a rank correlation at least ``value`` (or at most)."""
    null = _spearman_null(points)
    return float(np.mean(null >= value - 1e-9) if above else np.mean(null <= value + 1e-9))


def _bounds(bounds) -> str:
    return f"[{bounds[0]:g}, {bounds[1]:g}]"


def summary_interval(mean: float, sd: float, n: int, method: str, confidence: float = 0.95) -> Interval:
    """The t-interval of a mean known from its summary (mean, sd, n of independent values)."""
    if n < 2 or not sd > 0:
        return Interval(float(mean), float("nan"), float("nan"), float("nan"), float("nan"), int(n), method)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / np.sqrt(n)
    return Interval(float(mean), mean - half, mean + half, float("nan"), float("nan"), int(n), method,
                    Test("t", float(mean), float(sd / np.sqrt(n)), n - 1.0))


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
    test = Test("t", value, float(se), float(df)) if se > 0 else None
    return Interval(value, value - half, value + half, value - naive, value + naive, len(a) + len(b), WELCH, test)


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
    return Interval(value, low, high, low, high, len(a) + len(b), F_RATIO,
                    Test("F", float(ratio), df=len(a) - 1.0, df2=len(b) - 1.0))


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
    # rounded: a perfect ordering is exactly ±1 (the exact test of sign_interval reads it), not −0.9999999999999998
    return float(np.clip(round(float(stats.spearmanr(x, y).statistic), 12), -1.0, 1.0))


def verdict(interval: Interval, claimed: dict) -> str:
    """Where the statistic lies against what the sentence claims.

    ``claimed`` is one of ``{"above": t}`` (the effect exceeds t),
    ``{"below": t}`` or ``{"within": [a, b]}``. "holds": the whole interval
    is on the claimed side (inside the range); "does not hold": the whole
    interval is on the other side (outside the range); "unclear": it
    straddles a bound, or there are too few runs for an interval. Read from
    the interval's test: the same as reading the 95% interval, each side at
    2.5%, and for a sample without spread the exact sign test's answer.
    """
    return judged(interval, claimed)[0]


def judged(interval: Interval, claimed: dict) -> tuple[str, float]:
    """The verdict and its p-value: two-sided, of the direction the verdict took (NaN where there is no test)."""
    test = interval.test
    if test is None:  # an interval given by its ends alone: read them
        return _by_ends(interval, claimed), float("nan")
    if interval.n < 2 or (test.family == "t" and not test.se > 0):
        return UNCLEAR, float("nan")
    if "above" in claimed:
        p_holds, p_fails = test.p_above(claimed["above"]), test.p_below(claimed["above"])
    elif "below" in claimed:
        p_holds, p_fails = test.p_below(claimed["below"]), test.p_above(claimed["below"])
    else:
        a, b = claimed["within"]
        p_holds = max(test.p_above(a), test.p_below(b))
        p_fails = min(test.p_below(a), test.p_above(b))
    if p_holds < ALPHA / 2:
        return HOLDS, min(1.0, 2 * p_holds)
    if p_fails < ALPHA / 2:
        return FAILS, min(1.0, 2 * p_fails)
    return UNCLEAR, min(1.0, 2 * min(p_holds, p_fails))


def _by_ends(interval: Interval, claimed: dict) -> str:
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
    return HOLDS if a <= low and high <= b else FAILS if high < a or low > b else UNCLEAR


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (NaN: not in the family, left NaN)."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    present = np.flatnonzero(np.isfinite(p))
    order = present[np.argsort(p[present], kind="stable")]
    m, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def describe_claimed(claimed: dict) -> str:
    if "above" in claimed:
        return f"> {claimed['above']:g}"
    if "below" in claimed:
        return f"< {claimed['below']:g}"
    a, b = claimed["within"]
    return f"within [{a:g}, {b:g}]"
