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


def test_a_bounded_statistics_interval_stays_inside_its_bounds_where_the_plain_one_crosses_them():
    correlations = [-1.0, -1.0, -0.8, -1.0, -0.95, -1.0, -0.9, -1.0]  # per-run rank correlations, as in 4b
    plain = stats.t_interval(correlations, validation_train_ratio=1 / 3)
    bounded = stats.t_interval(correlations, validation_train_ratio=1 / 3, bounds=(-1, 1))
    assert plain.low < -1  # the bug the issue found: [−1.03, −0.89]
    assert -1 < bounded.low < bounded.value < bounded.high < 1 and "logit scale" in bounded.method
    accuracies = [0.999, 1.0, 0.9995, 0.998, 1.0]
    assert stats.t_interval(accuracies).high > 1 and stats.t_interval(accuracies, bounds=(0, 1)).high < 1
    assert stats.t_interval([0.1, 0.3, 0.05], bounds=(0, np.inf)).low > 0  # one bound: the log scale


def test_the_bounded_interval_covers_a_known_mean_near_its_bound():
    """Accuracies of runs near 1 (Beta distributed, mean 0.97): the logit-scale interval still covers ~95%."""
    rng = np.random.default_rng(3)
    a, b = 97.0, 3.0
    covered = sum((lambda i: i.low <= a / (a + b) <= i.high)(stats.t_interval(rng.beta(a, b, 8), bounds=(0, 1)))
                  for _ in range(2000))
    assert 0.92 <= covered / 2000 <= 0.975


def test_a_sample_without_spread_is_judged_by_an_exact_test_that_says_how_many_runs_it_rests_on():
    five, six = stats.t_interval([-1.0] * 5), stats.t_interval([-1.0] * 6)
    assert five.low == five.high == -1 and "all 5 runs equal" in five.method
    assert stats.verdict(five, {"below": 0}) == stats.UNCLEAR  # a sign test: 1/32 one-sided, not below 2.5%
    assert stats.verdict(six, {"below": 0}) == stats.HOLDS and stats.judged(six, {"below": 0})[1] == pytest.approx(2 / 64)
    assert stats.verdict(six, {"above": 0}) == stats.FAILS
    # rank correlations of -1 over 3 points: each run orders them perfectly with chance 1/6 if the order were random
    ranked = stats.t_interval([-1.0] * 3, bounds=(-1, 1), ranking_points=3)
    assert "with chance 0.167" in ranked.method and stats.judged(ranked, {"below": 0})[1] == pytest.approx(2 / 216)
    # 0.8 over 4 points: of the 24 orders, the identity and the 3 swaps of neighbours correlate 0.8 or more
    assert stats.spearman_tail(0.8, 4, above=True) == pytest.approx(4 / 24)
    # folds × repeats: 12 runs of 4-fold (n_validation / n_training = 1/3) count as 1 / (1/12 + 1/3) = 2.4
    folds = stats.t_interval([-1.0] * 12, validation_train_ratio=1 / 3, bounds=(-1, 1), ranking_points=3)
    assert "2.40 independent runs" in folds.method
    assert stats.judged(folds, {"below": 0})[1] == pytest.approx(2 * (1 / 6) ** 2.4)


def test_p_values_give_the_same_verdict_as_the_interval_and_the_right_direction():
    rng = np.random.default_rng(4)
    for _ in range(300):
        values = rng.normal(rng.normal(0, 1), rng.uniform(0.1, 2), rng.integers(3, 15))
        interval = stats.t_interval(values, validation_train_ratio=rng.choice([None, 0.25, 1 / 3]))
        for claimed in ({"above": 0.2}, {"below": -0.3}, {"within": [-0.5, 0.5]}):
            verdict, p = stats.judged(interval, claimed)
            assert verdict == stats._by_ends(interval, claimed)
            assert (p < stats.ALPHA) == (verdict != stats.UNCLEAR)
    ratio = stats.spread_ratio(rng.normal(0, 2, 10), rng.normal(0, 1, 10))
    assert stats.verdict(ratio, {"above": 1}) == stats._by_ends(ratio, {"above": 1})


def test_holm_adjusts_a_family_step_down_and_leaves_rows_without_a_p_value_out():
    adjusted = stats.holm([0.01, np.nan, 0.04, 0.03, 0.005])
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[4, 0, 3, 2]], [0.02, 0.03, 0.06, 0.06])
