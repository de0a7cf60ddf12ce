"""Intervals, jitter and verdicts (overfit.stats), on data whose answers are known."""

import numpy as np
import pytest

from overfit import stats


def simulated_coverage(corrected: bool, datasets=2000, n=400, folds=4, repeats=3, effect=0.1, seed=0) -> float:
    """How often the interval over iterated K-fold runs covers the true effect.

    Each simulated data set has n points, each with a paired difference
    d_i ~ N(effect, 1) (say, the loss difference of two models on that
    point). A run's statistic is the mean of d over its validation fold, as
    a fold's validation score is. The runs of one data set share its points
    (the folds of a repeat partition them, every repeat reshuffles them), so
    they are correlated, and what varies between data sets (the sampling of
    the n points) is invisible in the spread between folds.
    """
    rng = np.random.default_rng(seed)
    covered = 0
    for _ in range(datasets):
        d = rng.normal(effect, 1.0, n)
        runs = [d[rng.permutation(n)[k::folds]].mean() for _ in range(repeats) for k in range(folds)]
        interval = stats.t_interval(runs, validation_train_ratio=1 / (folds - 1))
        low, high = (interval.low, interval.high) if corrected else (interval.naive_low, interval.naive_high)
        covered += low <= effect <= high
    return covered / datasets


def test_corrected_interval_covers_a_known_effect_on_correlated_folds_and_the_naive_one_does_not():
    assert 0.93 <= simulated_coverage(corrected=True) <= 0.995
    assert simulated_coverage(corrected=False) < 0.85


def test_plain_interval_covers_independent_runs():
    rng = np.random.default_rng(1)
    covered = sum(
        (lambda i: i.low <= 0.3 <= i.high)(stats.t_interval(rng.normal(0.3, 0.05, 5))) for _ in range(2000))
    assert 0.93 <= covered / 2000 <= 0.97


def test_correction_widens_by_the_nadeau_bengio_factor():
    values = np.random.default_rng(2).normal(0, 1, 12)
    interval = stats.t_interval(values, validation_train_ratio=1 / 3)
    widening = (interval.high - interval.low) / (interval.naive_high - interval.naive_low)
    assert widening == pytest.approx(np.sqrt((1 / 12 + 1 / 3) / (1 / 12)))  # 2.24 at K = 4, J = 12
    assert interval.low <= interval.value <= interval.high and interval.method == stats.CORRECTED
    plain = stats.t_interval(values)
    assert (plain.low, plain.high) == (plain.naive_low, plain.naive_high) and plain.method == stats.PLAIN


def test_too_few_runs_give_no_interval_and_an_unclear_verdict():
    interval = stats.t_interval([0.4])
    assert interval.value == 0.4 and np.isnan(interval.low)
    assert stats.verdict(interval, {"above": 0}) == stats.UNCLEAR
    assert stats.t_interval([]).n == 0


EPOCHS = np.arange(1, 21, dtype=float)


@pytest.mark.parametrize("corner", [1, 2, 4, 8])
def test_jitter_of_a_smooth_curve_of_any_shape_is_near_zero(corner):
    v_shape = 0.3 + np.where(EPOCHS < corner, 0.08 * (corner - EPOCHS), 0.06 * (EPOCHS - corner))
    curved = 0.28 + 0.4 * np.exp(-EPOCHS) + 0.002 * np.maximum(0, EPOCHS - corner) ** 2
    smooth = np.stack([v_shape, curved])
    assert np.all(stats.jitter(smooth) < 0.002)
    # the mean |second difference| scores the corner of the V as noise; the median does not
    assert np.abs(np.diff(curved, n=2)).mean() > 0.003
    assert corner == 1 or np.abs(np.diff(v_shape, n=2)).mean() > 0.005


def test_jitter_measures_noise():
    rng = np.random.default_rng(3)
    base = 0.3 + 0.06 * np.maximum(0, EPOCHS - 2)
    noisy = base + rng.normal(0, 0.02, (400, len(EPOCHS)))
    # independent noise of sd sigma scores about sigma
    assert np.median(stats.jitter(noisy)) == pytest.approx(0.02, rel=0.15)


def test_verdicts_for_each_kind_of_claim():
    def interval(low, high):
        return stats.Interval((low + high) / 2, low, high, low, high, 10, stats.PLAIN)

    assert stats.verdict(interval(0.2, 0.4), {"above": 0.1}) == stats.HOLDS
    assert stats.verdict(interval(0.05, 0.4), {"above": 0.1}) == stats.UNCLEAR
    assert stats.verdict(interval(-0.3, 0.05), {"above": 0.1}) == stats.FAILS
    assert stats.verdict(interval(-0.3, -0.2), {"below": 0}) == stats.HOLDS
    assert stats.verdict(interval(0.1, 0.2), {"below": 0}) == stats.FAILS
    assert stats.verdict(interval(3.1, 4.2), {"within": [2.5, 4.5]}) == stats.HOLDS
    assert stats.verdict(interval(4.0, 5.0), {"within": [2.5, 4.5]}) == stats.UNCLEAR
    assert stats.verdict(interval(5.0, 6.0), {"within": [2.5, 4.5]}) == stats.FAILS


def test_rank_correlation():
    assert stats.rank_correlation([1, 2, 3, 4], [0.5, 0.4, 0.1, 0.0]) == pytest.approx(-1)
    assert stats.rank_correlation([1, 2, 3, 4], [0.1, 0.2, 0.15, 0.3]) == pytest.approx(0.8)
    assert np.isnan(stats.rank_correlation([1, 2, 3], [0.1, 0.1, 0.1]))
