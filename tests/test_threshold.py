"""Section 4.5 on imbalanced data (overfit.recipe.threshold): class weights, thresholds cross-fitted on the other
folds, average precision and the precision-recall curve, against scikit-learn and hand counts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score

from overfit.recipe import threshold
from overfit.recipe import threshold_tasks


def test_balanced_class_weights_are_scikit_learns():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 90 + [1] * 10)
    assert threshold.balanced_weights(labels) == pytest.approx(compute_class_weight("balanced", classes=np.array([0, 1]),
                                                                                    y=labels))
    assert threshold.balanced_weights(labels) == pytest.approx((100 / 180, 100 / 20))
    with pytest.raises(ValueError, match="both classes"):
        threshold.balanced_weights(np.zeros(5))


def test_scores_at_a_threshold_are_counted_as_scikit_learn_does():
    rng = np.random.default_rng(0)
    labels, p = rng.integers(0, 2, 200), rng.random(200)
    for t in (0.2, 0.5, 0.9):
        got = threshold.at_threshold(p, labels, t)
        assert got["f1"] == pytest.approx(f1_score(labels, p >= t))
    # nothing predicted positive: every score 0, not a division by zero
    assert threshold.at_threshold(np.full(4, 0.1), np.array([0, 1, 0, 1]), 0.5) == {"precision": 0.0, "recall": 0.0,
                                                                                   "f1": 0.0}


def test_the_best_threshold_is_the_f1_best_of_every_cut():
    rng = np.random.default_rng(1)
    labels = (rng.random(300) < 0.2).astype(int)
    p = 1 / (1 + np.exp(-(2.0 * labels - 2.5 + rng.normal(0, 1, 300))))  # underconfident: positives mostly below 0.5
    best = threshold.best_threshold(p, labels)
    every = {t: f1_score(labels, p >= t) for t in np.unique(p)}
    assert every[best] == pytest.approx(max(every.values()))
    assert best < 0.5 and every[best] > f1_score(labels, p >= 0.5)


def predictions(folds: int = 4, seeds: int = 2, rows: int = 400, shift: float = -2.0, seed: int = 0) -> pd.DataFrame:
    """Out-of-fold predictions of a net whose scores separate the classes, offset by ``shift`` on the logit scale
    (negative: it says "positive" too rarely at 0.5, as a plain loss on a rare class does)."""
    rng = np.random.default_rng(seed)
    tables = []
    for s in range(seeds):
        for fold in range(folds):
            labels = (rng.random(rows) < 0.1).astype(np.int8)
            logits = 3.0 * labels - 1.5 + rng.normal(0, 1, rows) + shift
            tables.append(pd.DataFrame({"task": "t", "model": "net", "loss": "plain", "fold": fold, "seed": s,
                                        "row": np.arange(rows) + fold * rows, "label": labels,
                                        "p": 1 / (1 + np.exp(-logits))}))
    return pd.concat(tables, ignore_index=True)


def test_a_runs_threshold_is_tuned_on_the_other_folds_only():
    table = predictions()
    scores = threshold.run_scores(table).set_index(["fold", "seed"])
    assert len(scores) == 8 and set(scores.columns) >= set(threshold.SCORES)
    for (fold, seed), run in scores.iterrows():
        others = table[(table.seed == seed) & (table.fold != fold)]
        mine = table[(table.seed == seed) & (table.fold == fold)]
        assert run.threshold == threshold.best_threshold(others.p.to_numpy(), others.label.to_numpy())
        assert run.f1_tuned == pytest.approx(f1_score(mine.label, mine.p >= run.threshold))
        assert run.f1_default == pytest.approx(f1_score(mine.label, mine.p >= 0.5))
        assert run.average_precision == pytest.approx(average_precision_score(mine.label, mine.p))
    # the shifted net: a tuned threshold well below 0.5, and a gain in every run
    assert (scores.threshold < 0.4).all() and (scores.f1_tuned > scores.f1_default).all()


def test_a_tuned_threshold_can_lose_to_the_default():
    """Cross-fitting is what lets the gain come out negative: a fold whose scores sit lower than the other folds'
    gets a threshold too high for it."""
    table = predictions(shift=0.0, seed=3)
    low = table.fold == 0
    table.loc[low, "p"] = table.loc[low, "p"] * 0.55  # fold 0's scores squeezed down: the others' threshold misses it
    scores = threshold.run_scores(table)
    fold0 = scores[scores.fold == 0]
    assert (fold0.f1_tuned < fold0.f1_default).all()


def test_cross_fitting_needs_two_folds():
    with pytest.raises(ValueError, match="two folds"):
        threshold.run_scores(predictions(folds=1))


def test_the_precision_recall_curve_is_its_upper_envelope_over_recall():
    table = predictions(seeds=1)
    curve = threshold.curve(table, points=11)
    assert list(curve.recall) == pytest.approx(np.linspace(0, 1, 11))
    assert (np.diff(curve.precision) <= 1e-12).all()  # the envelope never rises with recall
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(table.label, table.p)
    for r, p in zip(curve.recall, curve.precision):
        assert p == pytest.approx(precision[recall >= r].max())


def test_only_imbalanced_tasks_tune_a_threshold_and_only_when_asked():
    config = {"recipe": {"tasks": {"imdb": {}, "rare": {"positive_share": 0.1}}, "threshold": {"seeds": 2}}}
    assert threshold_tasks(config) == ["rare"]
    del config["recipe"]["threshold"]
    assert threshold_tasks(config) == []
    assert threshold_tasks({}) == []


def linear_and_net(net_shift: float, net_offset: float = 0.0) -> pd.DataFrame:
    """Run scores of the net (two losses, 2 seeds) and of logistic regression (one seed), the net's scores
    separating the classes better (``net_shift`` > 0) or worse than the linear model's; ``net_offset``: the net's
    logits moved (below 0: it says "positive" too rarely at 0.5, ranking the same)."""
    tables = []
    for model, seeds, strength, offset in (("net", 2, 3.0 + net_shift, net_offset), ("logistic regression", 1, 3.0, 0)):
        for loss in threshold.LOSSES:
            table = predictions(seeds=seeds, shift=0.0, seed=7)
            rng = np.random.default_rng(11)
            logits = strength * table.label - 1.5 + offset + rng.normal(0, 1, len(table))
            tables.append(table.assign(model=model, loss=loss, p=1 / (1 + np.exp(-logits))))
    return threshold.run_scores(pd.concat(tables, ignore_index=True))


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_report_says_whether_the_net_beats_logistic_regression_and_shows_every_model(language):
    from conftest import REPO
    from overfit import chapter
    from overfit.report import html

    claims = pd.DataFrame(columns=["id", "protocol", "statistic"])
    words = html.ChapterWords(chapter.load(REPO / "config" / "chapter.yaml"), language)
    section = html.environment(language).get_template("macros.html.j2").module.threshold_section
    behind = str(section(html._threshold(linear_and_net(-1.5), claims, words)))
    ahead = str(section(html._threshold(linear_and_net(+1.5), claims, words)))
    if language == "en":
        assert "does not beat logistic regression here" in behind and "positive reviews to learn" in behind
        assert "ranks the rare reviews better than logistic regression" in ahead and "does not beat" not in ahead
        assert "the fixed threshold, not the model" not in ahead
        # a net that ranks better but is underconfident at 0.5: logistic regression leads there only
        shy = str(section(html._threshold(linear_and_net(+1.5, net_offset=-3.0), claims, words)))
        assert "ranks the rare reviews better" in shy and "the fixed threshold, not the model" in shy
        for model, loss in (("net", "plain"), ("net", "class-weighted"), ("logistic regression", "plain"),
                            ("logistic regression", "class-weighted")):
            assert f"<td>{model}</td><td>{loss}</td>" in behind
    else:  # the Korean page's words, not the English ones
        assert "이기지 못합니다" in behind and "순위를 로지스틱 회귀보다 잘 매기고" in ahead and "does not beat" not in behind
