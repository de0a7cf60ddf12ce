"""Section 4.2 measured: the new split builders, the search, the audit's and the tuning leak's statistics."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from overfit import grid, protocols, search, stats
from overfit.checks import check_config
from overfit.errors import ConfigError
from overfit.report import audit, tuning

MOVIES = np.repeat(np.arange(100, 160), 5)  # 60 movies, five reviews each: 300 reviews


def test_shuffled_holdout_redraws_a_fresh_split_of_the_size_each_repeat_and_repeats_itself():
    folds = protocols.shuffled_holdout(300, 40, 4, seed=0)
    assert [len(f.validation_rows) for f in folds] == [40] * 4
    assert all(len(f.train_rows) == 260 and not np.intersect1d(f.train_rows, f.validation_rows).size for f in folds)
    assert len({tuple(f.validation_rows) for f in folds}) == 4  # each repeat is a new draw
    again = protocols.shuffled_holdout(300, 40, 4, seed=0)
    assert all(np.array_equal(a.validation_rows, b.validation_rows) for a, b in zip(folds, again))
    assert not np.array_equal(protocols.shuffled_holdout(300, 40, 1, seed=1)[0].validation_rows, folds[0].validation_rows)


def test_a_holdout_grouped_by_movie_holds_out_whole_movies_up_to_the_size():
    for fold in protocols.shuffled_holdout(300, 42, 3, seed=0, groups=MOVIES):
        assert 42 <= len(fold.validation_rows) < 42 + 5  # whole movies until the size is reached
        assert not np.intersect1d(MOVIES[fold.train_rows], MOVIES[fold.validation_rows]).size
        assert len(fold.train_rows) + len(fold.validation_rows) == 300


def test_a_sorted_split_validates_on_one_class_only():
    labels = np.random.default_rng(0).integers(0, 2, 300)
    (fold,) = protocols.sorted_holdout(labels, 100)
    assert set(labels[fold.validation_rows]) == {1}
    assert len(fold.validation_rows) == 100 and labels[fold.train_rows].mean() < labels.mean()


def test_the_time_split_holds_out_the_newest_titles_whole():
    shuffled = np.random.default_rng(0).permutation(MOVIES)
    (fold,) = protocols.time_holdout(shuffled, 52)
    newest, oldest = shuffled[fold.validation_rows], shuffled[fold.train_rows]
    assert newest.min() > oldest.max()  # every held-out title is newer than every training title
    assert 52 <= len(fold.validation_rows) < 57


def test_nested_kfold_tunes_inside_each_outer_training_set_only():
    outer = protocols.grouped_kfold_splits(MOVIES, 3, 1, seed=0)
    inner = protocols.nested_kfold_splits(MOVIES, 3, 2, seed=0)
    assert len(inner) == 3 * 2
    for fold in inner:
        parent = outer[fold.repeat]  # the repeat names the outer fold
        both = np.concatenate([fold.train_rows, fold.validation_rows])
        assert np.array_equal(np.sort(both), np.sort(parent.train_rows))  # never an outer validation row
        assert not np.intersect1d(MOVIES[fold.train_rows], MOVIES[fold.validation_rows]).size


def test_the_builder_of_each_new_kind_is_reached_from_a_protocol_entry():
    labels = np.arange(300) % 2
    kinds = {"shuffled_holdout": {"validation_size": 30, "repeats": 2}, "sorted_holdout": {"validation_size": 30},
             "time_holdout": {"validation_size": 30}, "nested_kfold": {"folds": 2, "inner_folds": 3}}
    counts = {kind: len(protocols.build_folds({"kind": kind, **settings}, 300, 10, MOVIES, 0, labels))
              for kind, settings in kinds.items()}
    assert counts == {"shuffled_holdout": 2, "sorted_holdout": 1, "time_holdout": 1, "nested_kfold": 6}


def test_the_search_draws_distinct_configurations_reproducibly(base_config):
    drawn = search.configs(base_config)
    assert len(drawn) == base_config["search"]["configs"] and list(drawn)[0] == "search-01"
    assert len({repr(sorted(e.items())) for e in drawn.values()}) == len(drawn)
    assert drawn == search.configs(base_config)
    space = base_config["search"]["space"]
    assert all(e["hidden"][0] in space["width"] and e.get("dropout", 0) in space["dropout"] for e in drawn.values())
    tuned = [p for p, e in base_config["protocols"].items() if e.get("experiments") == "search"]
    # each trains the whole search, or its first `configs`
    assert tuned and all(grid.protocol_experiments(base_config, p)
                         == list(drawn)[:base_config["protocols"][p].get("configs")] for p in tuned)
    assert {len(grid.protocol_experiments(base_config, p)) for p in tuned} == {len(drawn), 8}
    other = dict(base_config, seed=1)
    assert search.configs(other) != drawn


def test_search_settings_that_cannot_work_are_config_errors(base_config):
    config = dict(base_config, search={"configs": 5, "space": {"width": [2, 4], "dropout": [0, 0.5]}})
    with pytest.raises(ConfigError, match="cannot be drawn without repeats from a space of 4"):
        check_config(config)
    config = {k: v for k, v in base_config.items() if k != "search"}
    with pytest.raises(ConfigError, match="has no search block"):
        check_config(config)
    config = dict(base_config, protocols={**base_config["protocols"], "x": {"kind": "sorted_holdout",
                                                                             "validation_size": 10, "folds": 3}})
    with pytest.raises(ConfigError, match="folds does not apply to kind 'sorted_holdout'"):
        check_config(config)
    limited = {**base_config["protocols"]["tuning_kfold"], "configs": 65}
    config = dict(base_config, protocols={**base_config["protocols"], "tuning_kfold": limited})
    with pytest.raises(ConfigError, match="tuning_kfold.configs: 65 is more than the search draws .search.configs: 64"):
        check_config(config)
    config = dict(base_config, protocols={**base_config["protocols"], "kfold": {**base_config["protocols"]["kfold"],
                                                                              "configs": 2}})
    with pytest.raises(ConfigError, match="kfold.configs: .* does not train the search"):
        check_config(config)


def test_a_nested_kfold_job_trains_every_inner_fold(base_config):
    entry = base_config["protocols"]["tuning_nested"]
    assert grid.protocol_models(base_config, "tuning_nested") == entry["folds"] * entry["inner_folds"]


def test_welch_difference_matches_scipy():
    a, b = np.array([0.30, 0.32, 0.35, 0.31, 0.29]), np.array([0.36, 0.33, 0.40, 0.38])
    ours = stats.difference_interval(a, b)
    theirs = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert ours.value == pytest.approx(a.mean() - b.mean())
    assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high))


def test_spread_ratio_is_the_sd_ratio_with_the_f_interval():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 3, 10), rng.normal(0, 1, 8)
    ratio = stats.spread_ratio(a, b)
    assert ratio.value == pytest.approx(a.std(ddof=1) / b.std(ddof=1))
    f = a.var(ddof=1) / b.var(ddof=1)
    assert ratio.low == pytest.approx(np.sqrt(f / scipy_stats.f.ppf(0.975, 9, 7)))
    assert ratio.high == pytest.approx(np.sqrt(f / scipy_stats.f.ppf(0.025, 9, 7)))
    # an estimate that is the mean of 4 of b's: its spread is sd(b) / 2
    assert stats.spread_ratio(a, b, 4).value == pytest.approx(2 * ratio.value)
    assert np.isnan(stats.spread_ratio(a[:1], b).low)


def metric_rows(protocol, curves_by_run, split="validation", metric="loss", experiment="original"):
    """Tidy metric rows: ``curves_by_run`` maps (repeat, fold, seed) to the curve's values by epoch (from 1)."""
    return [dict(experiment=experiment, protocol=protocol, repeat=r, fold=f, seed=s, epoch=e + 1, split=split,
                 metric=metric, value=v, diverged=False, train_size=90, validation_size=10)
            for (r, f, s), values in curves_by_run.items() for e, v in enumerate(values)]


def test_an_estimate_is_the_mean_curves_lowest_loss_judged_at_its_epoch_against_the_test_curve():
    rows = metric_rows("book", {(0, 0, 0): [0.50, 0.40, 0.45], (0, 0, 1): [0.52, 0.42, 0.47]})
    rows += metric_rows("book", {(0, 0, 0): [0.80, 0.85, 0.84], (0, 0, 1): [0.80, 0.87, 0.86]}, metric="acc")
    # a 2-fold protocol redrawn twice: repeat 0's mean curve is lowest at epoch 3, repeat 1's at epoch 1
    rows += metric_rows("k2", {(0, 0, 0): [0.5, 0.4, 0.3], (0, 1, 0): [0.5, 0.4, 0.4],
                               (1, 0, 0): [0.3, 0.4, 0.5], (1, 1, 0): [0.3, 0.5, 0.5]})
    rows += metric_rows("k2", {(0, 0, 0): [0.7, 0.8, 0.9], (0, 1, 0): [0.7, 0.8, 0.8],
                               (1, 0, 0): [0.9, 0.8, 0.7], (1, 1, 0): [0.8, 0.8, 0.8]}, metric="acc")
    metrics = pd.DataFrame(rows)
    test = audit.truth(*audit.validation_curves(metrics, "original", "book"))
    assert test.loss.tolist() == pytest.approx([0.51, 0.41, 0.46])
    table = audit.estimates(*audit.validation_curves(metrics, "original", "k2"), test)
    assert table.epoch.tolist() == [3, 1]
    assert table.loss.tolist() == pytest.approx([0.35, 0.30])
    assert table.error_loss.tolist() == pytest.approx([0.35 - 0.46, 0.30 - 0.51])
    assert table.error_acc.tolist() == pytest.approx([0.85 - 0.85, 0.85 - 0.80])
    assert table.at_last_epoch.tolist() == [True, False]  # the audit flags a minimum on the last epoch
    config = {"roles": {"reference": "original", "book_4_4": "book", "audited": ["k2"]},
              "protocols": {"book": {"kind": "test_as_validation"}, "k2": {"kind": "kfold", "folds": 2, "repeats": 2}}}
    out = audit.audit_table(metrics, config, {"k2": 8.0})  # seconds of its job(s)
    single, iterated = out.iloc[0], out.iloc[1]
    assert single.estimates == 2 and single.model_epochs == 6 and single.seconds == pytest.approx(4.0)
    assert single.bias_loss == pytest.approx(np.mean([0.35 - 0.46, 0.30 - 0.51]))
    assert single.spread_loss == pytest.approx(np.std([0.35, 0.30], ddof=1))
    assert iterated.estimate == "iterated ×2" and iterated.spread_derived and iterated.models == 4
    assert iterated.chosen_epoch == 1  # the mean of all four runs: 0.40, 0.425, 0.425
    assert iterated.spread_loss == pytest.approx(single.spread_loss / np.sqrt(2))


def tuning_table():
    """Two redraws (units) of three configurations: c is lucky on validation in unit 0, a in unit 1."""
    return pd.DataFrame({
        "unit": [0, 0, 0, 1, 1, 1], "config": ["a", "b", "c"] * 2, "epoch": [2] * 6,
        "loss": [0.40, 0.41, 0.30, 0.33, 0.42, 0.40], "acc": [0.80, 0.80, 0.90, 0.88, 0.80, 0.81],
        "test_loss": [0.40, 0.40, 0.40, 0.40, 0.40, 0.40], "test_acc": [0.81, 0.81, 0.81, 0.81, 0.81, 0.81]})


def test_the_tuner_keeps_the_best_on_validation_and_its_optimism_grows_with_n():
    curve = tuning.optimism_curve(tuning_table(), "p", seed=0)
    one, three = curve.iloc[0], curve.iloc[-1]
    # N = 1: every configuration alone, in both units
    assert one.optimism_loss == pytest.approx(np.mean([0.0, -0.01, 0.10, 0.07, -0.02, 0.0]))
    # N = 3: c in unit 0 (0.40 − 0.30), a in unit 1 (0.40 − 0.33)
    assert three.optimism_loss == pytest.approx(np.mean([0.10, 0.07]))
    assert three.optimism_acc == pytest.approx(np.mean([0.09, 0.07]))
    assert curve.optimism_loss.is_monotonic_increasing
    gain = tuning.selection_gain(tuning_table())
    assert gain.tolist() == pytest.approx([0.10 - np.mean([0, -0.01, 0.10]), 0.07 - np.mean([0.07, -0.02, 0.0])])


def test_nested_scores_choose_on_the_inner_folds_and_report_the_outer_fold():
    rows = []
    # inner folds (repeat = outer fold 0): a looks best inside
    rows += metric_rows("nested", {(0, 0, 0): [0.5, 0.3], (0, 1, 0): [0.5, 0.3]}, experiment="a")
    rows += metric_rows("nested", {(0, 0, 0): [0.4, 0.45], (0, 1, 0): [0.4, 0.45]}, experiment="b")
    for name, val, test in (("a", [0.6, 0.35], [0.6, 0.37]), ("b", [0.3, 0.32], [0.45, 0.5])):
        rows += metric_rows("outer", {(0, 0, 0): val}, experiment=name)
        rows += metric_rows("outer", {(0, 0, 0): test}, split="test", experiment=name)
        rows += metric_rows("outer", {(0, 0, 0): [0.8, 0.8]}, metric="acc", experiment=name)
        rows += metric_rows("outer", {(0, 0, 0): [0.8, 0.8]}, metric="acc", split="test", experiment=name)
    rows += metric_rows("nested", {(0, 0, 0): [0.8, 0.8], (0, 1, 0): [0.8, 0.8]}, metric="acc", experiment="a")
    rows += metric_rows("nested", {(0, 0, 0): [0.8, 0.8], (0, 1, 0): [0.8, 0.8]}, metric="acc", experiment="b")
    table = tuning.nested_scores(pd.DataFrame(rows), ["a", "b"], "nested", "outer")
    chosen = table.loc[table.inner_loss.idxmin()]
    assert chosen.config == "a" and chosen.epoch == 2  # chosen inside, although b looks better on the outer fold
    assert chosen.loss == pytest.approx(0.35) and chosen.test_loss == pytest.approx(0.37)


def reviews_of(word_sets):
    from overfit.data.imdb import SparseReviews

    rows = [np.array(sorted(s), np.uint16) for s in word_sets]
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    n = len(rows)
    return SparseReviews(np.concatenate(rows), offsets, np.zeros(n, np.uint8), np.zeros(n, np.uint8),
                         np.arange(n, dtype=np.int32), np.arange(n, dtype=np.int64), "test")


def test_duplicates_and_near_duplicates_are_found_within_and_across_splits():
    from overfit.data.duplicates import find_pairs, summary

    rng = np.random.default_rng(0)
    base = [set(rng.choice(np.arange(200, 5000), 60, replace=False).tolist()) | {1, 4, 9} for _ in range(40)]
    near = set(base[3]) - set(sorted(base[3])[-3:]) | {4999}  # 3 of 63 words swapped out: Jaccard 0.91
    train = reviews_of([*base[:20], base[0]])  # row 20 repeats row 0
    test = reviews_of([*base[20:], base[5], near])  # test row 20 repeats train row 5, row 21 is near train row 3
    pairs = find_pairs(train, test, 5000)
    found = {(a, ra, b, rb, bool(i)) for a, ra, b, rb, i in
             pairs[["split_a", "row_a", "split_b", "row_b", "identical"]].itertuples(index=False)}
    assert found == {("train", 0, "train", 20, True), ("train", 5, "test", 20, True), ("train", 3, "test", 21, False)}
    table = summary(pairs, len(train), len(test)).set_index(["kind", "where"])
    assert table.loc[("identical", "within train"), "pairs"] == 1
    assert table.loc[("identical", "train × test"), "reviews"] == 2
    assert table.pairs.sum() == 2 + 3  # identical pairs count among the near ones too


def test_a_protocols_seconds_split_a_stacks_job_time_among_its_experiments(tmp_path):
    from overfit.report.provenance import protocol_seconds

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    paths = []
    for protocol, job, seconds in (("kfold", "narrow", 70.0), ("kfold", "bigger", 30.0), ("holdout_1000", "narrow", 9.0)):
        path = tmp_path / "train" / protocol / f"{job}.tsv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + f"{seconds}\t0:00:01\t100\t0\t0\t0\t0\t0\t0\t1\n")
        paths.append(str(path))
    assert protocol_seconds(paths, [7, 1, 1], tmp_path) == pytest.approx({"kfold": 70 / 7 + 30, "holdout_1000": 9.0})


def _pairs(rows):
    return pd.DataFrame(rows, columns=["split_a", "row_a", "split_b", "row_b", "jaccard", "identical"])


def test_the_duplicate_study_trains_without_the_training_partners_and_scores_the_test_partners():
    from overfit.studies import duplicates

    pairs = _pairs([("train", 3, "train", 9, 1.0, True),  # within a split: not a partner across it
                    ("train", 5, "test", 2, 1.0, True), ("test", 7, "train", 8, 0.85, False),
                    ("train", 5, "test", 4, 0.9, False)])  # one training review, two test partners
    train, test = duplicates.partners(pairs)
    assert list(train) == [5, 8] and list(test) == [2, 4, 7]
    arms = duplicates.folds(12, pairs)
    assert list(arms["all"].train_rows) == list(range(12))
    assert list(arms["deduplicated"].train_rows) == [0, 1, 2, 3, 4, 6, 7, 9, 10, 11]
    assert all(list(f.validation_rows) == [2, 4, 7] and f.validation_split == "test" for f in arms.values())
    assert duplicates.folds(12, pairs[pairs.split_a == pairs.split_b]) == {}  # nothing across: nothing to train
    table = pd.DataFrame([{"arm": arm, "seed": s, "epoch": 4, "scored": "duplicated", "loss": 0.3,
                           "acc": 0.9 + 0.01 * s if arm == "all" else 0.8, "rows": 3}
                          for arm in duplicates.ARMS for s in range(3)])
    assert list(duplicates.lift(table, "duplicated", 4).round(6)) == [0.1, 0.11, 0.12]
    with pytest.raises(KeyError, match="epoch 20"):
        duplicates.lift(table, "duplicated", 20)


@pytest.mark.slow
def test_a_model_that_memorizes_scores_the_test_twins_of_its_training_reviews():
    """Words and labels at random, so that only memorizing a review tells its label: trained with the training
    twins of 16 test reviews, the model scores those near perfectly; trained without them, at chance."""
    from overfit.data.imdb import SparseReviews
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import TrainingSpec, train_models
    from overfit.jobs.train import duplicate_runs
    from overfit.studies import duplicates

    rng = np.random.default_rng(3)
    vocabulary, n_train, n_test, twins = 2000, 160, 48, 16
    words = [np.sort(rng.choice(np.arange(4, vocabulary), 40, replace=False)) for _ in range(n_train + n_test)]
    labels = rng.integers(0, 2, n_train + n_test).astype(np.uint8)
    for k in range(twins):  # test review k is training review k again, label and all
        words[n_train + k], labels[n_train + k] = words[k], labels[k]

    def split(rows):
        ids = [words[r] for r in rows]
        offsets = np.concatenate([[0], np.cumsum([len(i) for i in ids])]).astype(np.int64)
        n = len(rows)
        return SparseReviews(np.concatenate(ids).astype(np.uint16), offsets, labels[rows], np.zeros(n, np.uint8),
                             np.arange(n, dtype=np.int32), np.arange(n, dtype=np.int64), "test")

    splits = {"train": split(np.arange(n_train)), "test": split(np.arange(n_train, n_train + n_test))}
    pairs = _pairs([("train", k, "test", k, 1.0, True) for k in range(twins)])
    spec = ModelSpec.build([16, 16], input_dim=vocabulary)
    training = TrainingSpec(epochs=15, batch_size=16, learning_rate=0.01)
    arms = duplicates.folds(n_train, pairs)
    runs = duplicate_runs(arms, 2, 0, "original")  # the job's own runs
    table = duplicates.tidy(train_models(spec, runs, training, splits), arms, n_test)
    assert list(table.columns) == duplicates.COLUMNS and set(table.arm) == set(duplicates.ARMS)
    assert set(table.scored) == {"duplicated", "test"} and table.epoch.max() == 15
    assert set(table[table.scored == "duplicated"].rows) == {twins} and set(table[table.scored == "test"].rows) == {n_test}
    at_end = table[(table.epoch == 15) & (table.scored == "duplicated")].groupby("arm").acc.mean()
    assert at_end["all"] >= 0.9 and at_end["deduplicated"] <= 0.75
    assert (duplicates.lift(table, "duplicated", 15) > 0.15).all()
