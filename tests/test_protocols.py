import copy

import numpy as np
import pytest

from overfit import experiments, protocols
from overfit.checks import check_config
from overfit.errors import ConfigError
from overfit.seeds import stable_seed


def runs_of(config, protocol, n_train, n_test, movies):
    """The protocol's runs on its folds, as a training job gets them (the folds drawn by the folds job)."""
    return experiments.protocol_runs(config, protocol, protocols.protocol_folds(config, protocol, n_train, n_test, movies,
                                                                                  np.arange(n_train) % 2))


def test_book_protocol_validates_on_the_test_set():
    (fold,) = protocols.test_as_validation(25, 10)
    assert fold.validation_split == "test" and len(fold.train_rows) == 25 and len(fold.validation_rows) == 10


def test_holdout_takes_the_first_rows_and_validation_split_the_last():
    (first,) = protocols.holdout_first(25, 10)
    assert first.validation_rows.tolist() == list(range(10)) and first.train_rows.tolist() == list(range(10, 25))
    (last,) = protocols.validation_split_last(25, 0.4)
    assert last.validation_rows.tolist() == list(range(15, 25)) and last.train_rows.tolist() == list(range(15))
    with pytest.raises(ConfigError, match="does not fit"):
        protocols.holdout_first(25, 25)


def test_kfold_partitions_every_repeat_and_reshuffles_after_the_first():
    folds = protocols.kfold_splits(20, folds=4, repeats=3, seed=0)
    assert len(folds) == 12
    for repeat in range(3):
        validation = np.concatenate([f.validation_rows for f in folds if f.repeat == repeat])
        assert sorted(validation.tolist()) == list(range(20))  # each review validated once per repeat
        for f in folds:
            assert not set(f.train_rows) & set(f.validation_rows)
    # repeat 0 is the book's K-fold: consecutive blocks
    assert folds[0].validation_rows.tolist() == list(range(5))
    assert folds[4].validation_rows.tolist() != folds[0].validation_rows.tolist()
    assert [f.validation_rows.tolist() for f in protocols.kfold_splits(20, 4, 3, 0)] == [f.validation_rows.tolist() for f in folds]


def test_grouped_kfold_keeps_each_movie_on_one_side():
    movies = np.repeat(np.arange(10), 3)
    for fold in protocols.grouped_kfold_splits(movies, folds=5, repeats=2, seed=0):
        assert not set(movies[fold.train_rows]) & set(movies[fold.validation_rows])


def test_stable_seeds_depend_on_names_only():
    assert stable_seed(0, "init", "kfold", 1) == stable_seed(0, "init", "kfold", 1)
    assert stable_seed(0, "init", "kfold", 1) != stable_seed(0, "init", "kfold", 2)
    assert 0 <= stable_seed(0, "a") < 2**31


def test_experiment_inherits_training_defaults_and_overrides(base_config):
    config = dict(base_config)
    config["experiments"] = {**base_config["experiments"], "fast": {"hidden": [8], "epochs": 3, "dropout": [0.2]}}
    bigger = experiments.experiment(config, "l1_l2")
    assert bigger.model.l1 == (0.001, 0.001) and bigger.model.l2 == (0.001, 0.001)
    assert bigger.training.epochs == 20 and bigger.training.edition == 1 and bigger.training.clipped_loss
    fast = experiments.experiment(config, "fast")
    assert fast.training.epochs == 3 and fast.model.dropout == (0.2,)
    with pytest.raises(ConfigError, match="no experiment 'nope'"):
        experiments.experiment(config, "nope")


def test_runs_are_paired_across_experiments_and_folds_differ(base_config):
    runs = runs_of(base_config, "kfold", 100, 100, np.zeros(100))
    assert len(runs) == 12
    assert len({r.init_seed for r in runs}) == 12 and len({r.shuffle_seed for r in runs}) == 12
    again = runs_of(base_config, "kfold", 100, 100, np.zeros(100))
    assert [r.shuffle_seed for r in runs] == [r.shuffle_seed for r in again]


def test_book_protocol_seeds_are_independent_runs_on_one_split(base_config):
    runs = runs_of(base_config, "book", 100, 50, np.zeros(100))
    seeds = base_config["protocols"]["book"]["seeds"]
    assert [r.labels["seed"] for r in runs] == list(range(seeds))
    assert len({r.init_seed for r in runs}) == seeds and all(len(r.fold.validation_rows) == 50 for r in runs)
    # seed 0 keeps the seed a one-seed protocol had: adding seeds does not redraw the first run
    one = dict(base_config, protocols={"book": {"kind": "test_as_validation"}})
    assert runs_of(one, "book", 100, 50, np.zeros(100))[0].init_seed == runs[0].init_seed


def test_grouped_folds_keep_every_movie_on_one_side(base_config):
    movies = np.repeat(np.arange(40), 5)
    for run in runs_of(base_config, "kfold_by_movie", 200, 50, movies):
        assert not set(movies[run.fold.train_rows]) & set(movies[run.fold.validation_rows])


def test_check_config_catches_dangling_references(base_config):
    import copy

    config = copy.deepcopy(base_config)
    config["final"]["choose_epochs_on"] = "nope"
    with pytest.raises(ConfigError, match="choose_epochs_on: 'nope' is not a protocol"):
        check_config(config)
    config = copy.deepcopy(base_config)
    config["experiments"]["broken"] = {"hidden": [4, 4], "dropout": [0.5]}
    with pytest.raises(ConfigError, match="experiment 'broken': 1 values for 2 hidden layers"):
        check_config(config)


def test_check_config_refuses_roles_and_protocol_lists_that_name_nothing(base_config):
    import copy

    config = copy.deepcopy(base_config)
    config["experiments"]["reference"] = config["experiments"].pop("original")  # renamed, its role not updated
    config.pop("sweeps")  # (whose bases would name it first)
    for entry in config["protocols"].values():
        if entry.get("experiments") != "search":  # the search's configurations name no experiment
            entry["experiments"] = ["reference" if n == "original" else n for n in entry.get("experiments", config["experiments"])]
    config["final"]["book_3_5"]["experiment"] = "reference"
    with pytest.raises(ConfigError, match="roles.reference: 'original' is not an experiment of the config"):
        check_config(config)
    config = copy.deepcopy(base_config)
    config["roles"]["folded"] = "kfold_by_title"
    with pytest.raises(ConfigError, match="roles.folded: 'kfold_by_title' is not a protocol"):
        check_config(config)
    config = copy.deepcopy(base_config)
    config["roles"]["biggest"] = "bigger_1024"
    with pytest.raises(ConfigError, match="roles.biggest: not a role of the chapter"):
        check_config(config)
    config = copy.deepcopy(base_config)
    config["protocols"]["kfold"]["experiments"].append("huge")
    with pytest.raises(ConfigError, match="protocols.kfold.experiments: 'huge' is not an experiment"):
        check_config(config)
    config = copy.deepcopy(base_config)
    config["final"]["choose_epochs_on"] = "kfold"  # does not run the wide models
    with pytest.raises(ConfigError, match="does not run bigger, bigger_1024"):
        check_config(config)


def test_chapter_rows_are_checked():
    import copy

    from overfit import chapter
    from overfit.report.claims import STATISTICS

    declared = chapter.load("config/chapter.yaml")
    chapter.check_chapter(declared, set(STATISTICS))
    broken = copy.deepcopy(declared)
    broken["claims"][3]["compare"] = ["reference", "tiny"]
    with pytest.raises(ConfigError, match="'tiny' is not an experiment role"):
        chapter.check_chapter(broken, set(STATISTICS))
    broken = copy.deepcopy(declared)
    broken["claims"][3]["statistic"] = "vibes"
    with pytest.raises(ConfigError, match="no statistic 'vibes'"):
        chapter.check_chapter(broken, set(STATISTICS))


def test_more_folds_than_reviews_or_movies_is_a_config_error_not_a_traceback():
    with pytest.raises(ConfigError, match="needs at least 30 movies; the training reviews have 4"):
        protocols.grouped_kfold_splits(np.repeat(np.arange(4), 5), 30, 1, 0)
    with pytest.raises(ConfigError, match="needs at least 30 training reviews; there are 20"):
        protocols.kfold_splits(20, 30, 1, 0)


@pytest.mark.parametrize("per_job", [0, 4, 5])
def test_the_training_jobs_cover_every_run_of_every_experiment_once(base_config, per_job):
    """Stacks, wide parts and sweep points (overfit.grid, read by Snakemake) against the runs the jobs really build."""
    from overfit import sweeps
    from overfit.grid import is_wide, protocol_experiments, training_jobs
    from overfit.sweeps import entries

    config = dict(base_config, wide_models_per_job=per_job)
    points = sweeps.points(config)
    movies = np.repeat(np.arange(500), 50)
    for protocol in config["protocols"]:
        runs = runs_of(config, protocol, 25000, 25000, movies)
        covered = {}
        for (p, _), job in training_jobs(config).items():
            for name in job["experiments"] if p == protocol else []:
                covered.setdefault(name, []).extend(job["runs"])
        swept = {n for n, point in points.items() if point.protocol == protocol}
        assert set(covered) == set(protocol_experiments(config, protocol)) | swept
        for name, indices in covered.items():
            if name in swept:  # a point trains the first repeat's runs (repeats: 1), once each
                assert sorted(indices) == [i for i, run in enumerate(runs) if run.fold.repeat == 0], name
            elif is_wide(config, entries(config)[name]["hidden"]) and "wide_seeds" in config["protocols"][protocol]:
                # a wide experiment trains each fold's first wide_seeds seeds, the runs of the same initial draws
                kept = config["protocols"][protocol]["wide_seeds"]
                assert sorted(indices) == [i for i, run in enumerate(runs) if run.seed < kept], (protocol, name)
                assert kept < config["protocols"][protocol]["seeds"]
            else:
                assert sorted(indices) == list(range(len(runs))), (protocol, name)


def test_folds_written_by_the_folds_job_read_back_the_same(tmp_path):
    folds = protocols.kfold_splits(50, 5, 2, seed=3) + protocols.test_as_validation(50, 20)
    protocols.save_folds(folds, tmp_path / "folds.npz")
    again = protocols.load_folds(tmp_path / "folds.npz", {"train": 50, "test": 20})
    assert [(f.repeat, f.fold, f.validation_split) for f in again] == [(f.repeat, f.fold, f.validation_split) for f in folds]
    for a, b in zip(folds, again):
        assert np.array_equal(a.train_rows, b.train_rows) and np.array_equal(a.validation_rows, b.validation_rows)


def test_shuffled_labels_move_only_the_chosen_training_rows_and_keep_the_balance():
    labels = np.tile([0.0, 1.0], 500)
    train = np.arange(200, 1000)
    noisy = protocols.shuffled_labels(labels, train, 0.5, seed=1)
    assert np.array_equal(noisy[:200], labels[:200])  # rows outside training (validation) keep their labels
    assert noisy[train].sum() == labels[train].sum()  # a permutation: the class balance stays
    changed = np.mean(noisy[train] != labels[train])
    assert 0.15 < changed < 0.35  # half the rows shuffled, of which about half land on the other label
    assert np.array_equal(protocols.shuffled_labels(labels, train, 0.0, seed=1), labels)
    full = protocols.shuffled_labels(labels, train, 1.0, seed=1)
    assert 0.4 < np.mean(full[train] != labels[train]) < 0.6


def test_wide_seeds_above_the_protocols_seeds_are_refused(base_config):
    from overfit.checks.protocols import _check_wide_seeds

    config = copy.deepcopy(base_config)
    config["protocols"]["book"]["wide_seeds"] = config["protocols"]["book"]["seeds"] + 1
    with pytest.raises(ConfigError, match=r"protocols.book.wide_seeds: 21 is more than its seeds \(20\)"):
        _check_wide_seeds("protocols.book", config["protocols"]["book"])
