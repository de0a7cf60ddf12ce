"""Sweeps: a grid in the config becomes experiments, one job each; subsets nest; decay is decoupled; curves order."""

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from overfit import grid, sweeps
from overfit.engine.optim import keras_rmsprop, with_weight_decay
from overfit.errors import ConfigError
from overfit.experiments import experiment
from overfit.protocols import Fold, nested_subset
from overfit.report.sweeps import ordered, sweep_table


@pytest.fixture
def config(base_config):
    config = copy.deepcopy(base_config)
    config["sweeps"] = {
        "cap": {"base": "original", "protocol": "kfold_by_movie", "repeats": 1,
                "grid": [{"width": [2, 64], "depth": [1]}, {"width": [8], "depth": [3]}], "include": ["smaller", "original"]},
        "reg": {"base": "original", "protocol": "kfold_by_movie", "grid": {"l2": [0.01], "dropout": [0.0, 0.3]}},
        "lc": {"base": "original", "protocol": "kfold_by_movie", "repeats": 1,
               "grid": {"experiment": ["l2", "dropout"], "train_size": [500]}},
        "decay": {"base": "l2", "protocol": "kfold_by_movie", "repeats": 1, "grid": {"weight_decay": [0.002], "l2": [0]}},
    }
    return config


def test_a_grid_expands_into_named_experiment_entries(config):
    points = sweeps.points(config)
    assert list(points)[:3] == ["cap-width_2-depth_1", "cap-width_64-depth_1", "cap-width_8-depth_3"]  # a union of grids
    assert points["cap-width_8-depth_3"].entry == {"hidden": [8, 8, 8]}
    assert points["cap-width_64-depth_1"].entry == {"hidden": [64]}
    assert points["reg-l2_0.01-dropout_0.3"].entry == {"hidden": [16, 16], "regularizer": {"l2": 0.01}, "dropout": 0.3}
    # the experiment axis takes another experiment's entry; train_size and decay are the entry's own keys
    assert points["lc-experiment_dropout-train_size_500"].entry == {"hidden": [16, 16], "dropout": 0.5, "train_size": 500}
    assert points["decay-l2_0-weight_decay_0.002"].entry == {"hidden": [16, 16], "weight_decay": 0.002}
    assert "smaller" not in points and "original" not in points  # included experiments are not points
    spec = experiment(config, "decay-l2_0-weight_decay_0.002", points["decay-l2_0-weight_decay_0.002"].entry)
    assert spec.training.weight_decay == 0.002 and spec.model.l2 == (0.0, 0.0)


def test_each_point_is_a_job_of_its_own_on_the_first_repeat(config):
    jobs = grid.training_jobs(config)
    assert jobs["kfold_by_movie", "cap-width_8-depth_3"] == {"experiments": ["cap-width_8-depth_3"], "runs": [0, 1, 2, 3]}
    assert jobs["kfold_by_movie", "reg-l2_0.01-dropout_0"]["runs"] == list(range(12))  # no repeats given: all of them
    # the written experiments' jobs are what they were without sweeps
    without = copy.deepcopy(config)
    del without["sweeps"]
    assert {k: v for k, v in jobs.items() if k in grid.training_jobs(without)} == grid.training_jobs(without)


def test_a_curve_is_ordered_by_parameters_then_by_its_axes(config):
    assert ordered(config, "cap") == ["cap-width_2-depth_1", "smaller", "cap-width_8-depth_3", "original",
                                      "cap-width_64-depth_1"]
    assert ordered(config, "reg") == ["reg-l2_0.01-dropout_0", "reg-l2_0.01-dropout_0.3"]


@pytest.mark.parametrize("edit, words", [
    (lambda s: s["cap"]["grid"][0].update(widht=[4]), "sweeps.cap.grid[0].widht: not an axis"),
    (lambda s: s["cap"].update(base="orignal"), "sweeps.cap.base: 'orignal' is not an experiment"),
    (lambda s: s["cap"].update(protocol="kfold_by_film"), "sweeps.cap.protocol: 'kfold_by_film' is not a protocol"),
    (lambda s: s["reg"]["grid"].update(l2=[]), "sweeps.reg.grid.l2: give a non-empty list"),
    (lambda s: s["cap"]["grid"].append({"width": [2], "depth": [1]}), "the point 'cap-width_2-depth_1' appears twice"),
    (lambda s: s["lc"]["grid"].update(experiment=["l3"]), "sweeps.lc.grid.experiment: 'l3' is not an experiment"),
])
def test_a_malformed_sweep_is_refused_naming_the_key(config, edit, words):
    edit(config["sweeps"])
    with pytest.raises(ConfigError, match=None) as error:
        sweeps.points(config)
    assert words in str(error.value)


def test_training_subsets_nest_and_keep_the_validation_rows():
    fold = Fold(0, 1, np.arange(100, 300), "train", np.arange(0, 100))
    small, large = nested_subset(fold, 20, seed=5), nested_subset(fold, 80, seed=5)
    assert len(small.train_rows) == 20 and len(large.train_rows) == 80
    assert set(small.train_rows) < set(large.train_rows) < set(fold.train_rows)
    assert np.array_equal(small.validation_rows, fold.validation_rows) and np.all(np.diff(large.train_rows) > 0)
    assert not np.array_equal(nested_subset(fold, 20, seed=6).train_rows, small.train_rows)
    with pytest.raises(ConfigError, match="train_size 201 does not fit a fold of 200"):
        nested_subset(fold, 201, seed=5)


def test_decoupled_decay_shrinks_the_hidden_kernels_only():
    params = ({"kernels": [jnp.ones((3, 2)), jnp.ones((2, 2, 2)), jnp.ones((2, 2, 1))],
               "biases": [jnp.ones(2), jnp.ones((2, 2)), jnp.ones((2, 1))]},)
    grads = jax.tree.map(jnp.zeros_like, params)  # no data gradient: only the decay moves the weights
    plain = keras_rmsprop(1e-3)
    assert with_weight_decay(plain, 0.0) is plain
    decayed = with_weight_decay(plain, 1e-3 * 0.5)
    updates, _ = decayed.update(grads, decayed.init(params), params)
    kernels, biases = updates[0]["kernels"], updates[0]["biases"]
    np.testing.assert_allclose(kernels[0], -5e-4)
    np.testing.assert_allclose(kernels[1], -5e-4)
    assert not np.any(kernels[2]) and not any(np.any(b) for b in biases)
    # with a gradient, the decay is added to RMSprop's step, not divided by its running size as an L2 gradient is
    grads = jax.tree.map(lambda p: jnp.full_like(p, 0.1), params)
    step, _ = plain.update(grads, plain.init(params), params)
    both, _ = decayed.update(grads, decayed.init(params), params)
    np.testing.assert_allclose(both[0]["kernels"][0], step[0]["kernels"][0] - 5e-4, rtol=1e-6)


def _rows(experiment, repeat, fold, best, last, size=750):
    """A synthetic run: validation data loss falling to ``best`` at epoch 2 and rising to ``last``; train half of it."""
    rows = []
    for epoch, value in ((1, best + 0.1), (2, best), (3, last)):
        for split, scale in (("validation", 1.0), ("train", 0.5)):
            for metric, extra in (("data_loss", 0.0), ("loss", 0.01)):
                rows.append(dict(experiment=experiment, protocol="kfold_by_movie", repeat=repeat, fold=fold, seed=0,
                                 epoch=epoch, split=split, metric=metric, value=value * scale + extra, diverged=False,
                                 train_size=size, validation_size=250))
    return rows


def test_the_sweep_table_measures_every_point_on_the_runs_all_of_them_have(config):
    config["sweeps"] = {"cap": {"base": "original", "protocol": "kfold_by_movie", "repeats": 1,
                                "grid": {"width": [2], "depth": [1]}, "include": ["original"]}}
    rows = []
    for fold in range(4):
        rows += _rows("cap-width_2-depth_1", 0, fold, best=0.4 + 0.01 * fold, last=0.5)
        for repeat in range(3):  # the included experiment has every repeat; only the first is on the curve
            rows += _rows("original", repeat, fold, best=0.3 if repeat == 0 else 9.0, last=0.6)
    table = sweep_table(pd.DataFrame(rows), config).set_index("experiment")
    assert list(table.index) == ["cap-width_2-depth_1", "original"] and table.loc["original", "included"]
    assert table.loc["original", "runs"] == 4 and table.loc["original", "best_loss"] == pytest.approx(0.3)
    point = table.loc["cap-width_2-depth_1"]
    assert point.best_loss == pytest.approx(0.415) and point.best_epoch == 2 and point.width == 2
    assert point.rise_after_best == pytest.approx(0.5 - 0.415)
    assert point.gap_at_last_epoch == pytest.approx(0.25) and point.penalty_at_last_epoch == pytest.approx(0.01)
    assert point.best_low < 0.415 < point.best_high  # the interval over its four folds
    assert point.parameters == grid.parameter_count([2], 10000)


def test_the_full_switch_is_a_valid_config_whose_grids_contain_the_default_points():
    from conftest import REPO
    from overfit.checks import check_file

    schema = REPO / "workflow" / "schemas" / "config.schema.yaml"
    default = check_file(REPO / "config" / "config.yaml", schema)
    full = check_file(REPO / "config" / "config.yaml", schema, REPO / "config" / "full.yaml")
    default_points, full_points = sweeps.points(default), sweeps.points(full)
    # after `make reproduce`, `make reproduce-full` only adds points: the default ones keep their names and entries
    assert set(default_points) < set(full_points)
    assert all(full_points[n].entry == p.entry for n, p in default_points.items())
    assert full["experiments"] == default["experiments"] and full["protocols"] == default["protocols"]
