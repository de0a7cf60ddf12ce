"""The universal workflow (section 4.5): each step's decision, the chain of steps, the test set kept for the last,
the measures of success, and the last-layer table's losses."""

from __future__ import annotations

import re
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO, make_reviews, run_snakemake, write_archive

from overfit import measures
from overfit.data import imdb
from overfit.engine import dense
from overfit.jobs import recipe as jobs
from overfit.recipe import candidates, decide, tasks
from overfit.recipe import last_layer
from overfit.recipe.heads import PROBLEMS, Pairing, targets


def test_the_measure_of_success_follows_the_class_balance_as_the_book_says():
    balanced = tasks.problem("t", np.array([0, 1] * 50), 0.35)
    rare = tasks.problem("t", np.array([1] * 10 + [0] * 90), 0.35)
    assert tasks.primary_metric(balanced) == "acc" and tasks.chosen(balanced).candidate == "accuracy and ROC AUC"
    assert tasks.primary_metric(rare) == "f1" and tasks.chosen(rare).candidate == "precision and recall"
    assert "10.0%" in tasks.chosen(rare).reason and "imbalanced" in tasks.chosen(rare).reason
    with pytest.raises(Exception, match="not binary"):
        tasks.problem("t", np.array([0, 1, 2]), 0.35)


def test_the_imbalanced_task_keeps_every_negative_and_draws_positives_to_its_share():
    labels = np.array([0] * 900 + [1] * 1000)
    rows = tasks.task_rows(labels, 0.1, 0, "t", "train")
    assert (labels[rows] == 0).sum() == 900 and (labels[rows] == 1).sum() == 100
    assert np.array_equal(rows, tasks.task_rows(labels, 0.1, 0, "t", "train"))  # deterministic
    assert not np.array_equal(rows, tasks.task_rows(labels, 0.1, 0, "t", "test"))  # each split its own draw
    assert np.array_equal(tasks.task_rows(labels, None, 0, "t", "train"), np.arange(len(labels)))
    with pytest.raises(Exception, match="positive_share"):
        tasks.task_rows(np.array([0] * 10 + [1]), 0.4, 0, "t", "train")


def test_the_protocol_is_a_grouped_kfold_of_the_task_rows_when_reviews_share_movies():
    rows = np.arange(100, 160)
    movies = np.repeat(np.arange(20), 3)
    table, folds = tasks.protocol("t", rows, movies, holdout_from=1000, folds=4, seed=0)
    assert tasks.chosen(table).candidate == "grouped K-fold" and len(folds) == 4
    validation = np.concatenate([f.validation_rows for f in folds])
    assert np.array_equal(np.sort(validation), rows)  # every task row validated once, no other row
    for fold in folds:
        assert not set(movies[fold.train_rows - 100]) & set(movies[fold.validation_rows - 100])
    table, _ = tasks.protocol("t", rows, np.arange(60), holdout_from=1000, folds=4, seed=0)
    assert tasks.chosen(table).candidate == "K-fold"  # no movie shared: a plain K-fold
    table, folds = tasks.protocol("t", rows, movies, holdout_from=50, folds=4, seed=0)
    assert tasks.chosen(table).candidate == "hold-out" and len(folds) == 1


def curves(values: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """Tidy engine rows from name -> {"<split> <metric>": (folds, epochs) array}."""
    rows = []
    for name, series in values.items():
        for key, array in series.items():
            split, metric = key.split()
            for fold, curve in enumerate(array):
                rows += [{"experiment": name, "fold": fold, "seed": 0, "epoch": e + 1, "split": split, "metric": metric,
                          "value": v} for e, v in enumerate(curve)]
    return pd.DataFrame(rows)


def scored(loss, acc):
    """A candidate's validation curves over 4 folds: its loss, and its accuracy (precision and recall follow it)."""
    return {"validation loss": loss, "validation acc": acc, "validation auc": acc, "validation precision": acc,
            "validation recall": acc}


def test_power_chooses_the_smallest_candidate_that_beats_the_best_baseline_beyond_its_interval():
    loss = np.tile([0.5, 0.4, 0.45], (4, 1))  # lowest at epoch 2 on every fold
    baseline_acc = np.array([0.80, 0.82, 0.81, 0.83])
    noisy = np.tile([0.0, 0.81, 0.0], (4, 1)) + np.array([[0, 0.05, 0], [0, -0.05, 0], [0, 0.04, 0], [0, -0.04, 0]])
    clear = np.tile([0.0, 0.0, 0.0], (4, 1)) + (baseline_acc + 0.05)[:, None]
    bigger = clear + 0.01
    table = curves({"a": scored(loss, noisy), "b": scored(loss, clear), "c": scored(loss, bigger)})
    baselines = pd.DataFrame({"candidate": ["lr"] * 4 + ["chance"] * 4, "fold": [0, 1, 2, 3] * 2,
                              "acc": [*baseline_acc, 0.5, 0.5, 0.5, 0.5]})
    baselines = decide.best_baseline(baselines, "acc")
    assert set(baselines[baselines.chosen].candidate) == {"lr"}
    out = decide.power("t", table, baselines, ["a", "b", "c"], "acc", 1 / 3, {"a": 1, "b": 2, "c": 3})
    assert list(out.beats) == [False, True, True]  # a is better on average but within its interval
    assert out.epoch.tolist() == [2, 2, 2] and tasks.chosen(out).candidate == "b"
    assert out.difference[1] == pytest.approx(0.05)


def test_scale_up_chooses_the_first_rung_whose_validation_loss_rises_while_training_loss_falls():
    falling = np.tile(np.linspace(0.6, 0.2, 6), (4, 1))
    still_learning = falling + 0.05
    overfitting = np.tile([0.5, 0.35, 0.3, 0.34, 0.4, 0.5], (4, 1)) + np.arange(4)[:, None] * 0.01
    table = curves({"small": {"validation loss": still_learning, "train loss": falling},
                    "wide": {"validation loss": overfitting, "train loss": falling},
                    "wider": {"validation loss": overfitting + 0.1, "train loss": falling}})
    for metric in ("acc", "auc", "precision", "recall"):  # every split carries the engine's metrics
        table = pd.concat([table, table[table.metric == "loss"].assign(metric=metric, value=0.5)])
    parameters = {"small": 1, "wide": 2, "wider": 3}
    out = decide.scale_up("t", table, ["small", "wide", "wider"], 1 / 3, parameters)
    assert list(out.overfits) == [False, True, True]
    assert tasks.chosen(out).candidate == "wide" and out.epoch[1] == 3
    assert "rises" in tasks.chosen(out).reason and "overfitting starts at rung wide" in tasks.chosen(out).reason
    # step 4's model is the floor: a rung that overfits but is smaller than it is shown, not kept
    out = decide.scale_up("t", table, ["small", "wide", "wider"], 1 / 3, parameters, powered="wider")
    assert tasks.chosen(out).candidate == "wider" and "starts at rung wide" in tasks.chosen(out).reason
    # and where nothing overfits, the largest carries on, and the reason says no rung did
    calm = table[table.experiment == "small"]
    out = decide.scale_up("t", calm, ["small"], 1 / 3, parameters)
    assert tasks.chosen(out).candidate == "small" and "no rung of the ladder overfits" in tasks.chosen(out).reason
    rise, best, last = decide.rises(table, "wide")
    assert (best, last) == (3, 6) and rise.mean() == pytest.approx(0.2)


def test_candidates_grow_from_the_previous_decision():
    recipe = {"power": [[1], [16, 16]],
              "scale_up": {"from": [2], "rungs": [{"widen": 1}, {"widen": 8}, {"widen": 32}, {"widen": 32, "deepen": 1}]},
              "tune": {"configs": 3, "space": {"dropout": [0, 0.5], "l2": [0, 0.001], "widen": [0.5]}}}
    assert list(candidates.power(recipe)) == ["1", "16-16"]
    assert list(candidates.scale_up(recipe)) == ["2", "16", "64", "64-64"]  # from a model too small to overfit
    tuned = candidates.tune(recipe, [64, 64], seed=0, task="t")
    assert len(tuned) == 3 and all(entry["hidden"] == [32, 32] for entry in tuned.values())
    assert tuned == candidates.tune(recipe, [64, 64], seed=0, task="t")
    entry = {"hidden": [8], "dropout": 0.5, "regularizer": {"l2": 0.001}}
    assert candidates.decode(candidates.encode(entry)) == entry and candidates.describe(entry) == "8, dropout 0.5, l2 0.001"


def job(step: str, folder, config: dict, task: str, **inputs) -> SimpleNamespace:
    """A job as Snakemake gives it: named inputs (only those the step's rule names) and outputs."""
    outputs = {"table": folder / f"{step}.csv", "curves": folder / f"{step}.parquet", "folds": folder / "folds.npz"}
    named = type("Files", (SimpleNamespace,), {"__getitem__": lambda self, i: list(vars(self).values())[i]})
    return SimpleNamespace(input=named(**{k: str(v) for k, v in inputs.items()}),
                           output=named(**{k: str(v) for k, v in outputs.items()}),
                           params=SimpleNamespace(config=config), wildcards=SimpleNamespace(task=task), log=None)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imdb")
    archive = write_archive(folder / "a.tar.gz", make_reviews(per_folder=12))
    imdb.prepare(archive, folder / "out", None, imdb.Encoding(num_words=30), order_seed=113)
    config = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    config["data"] = {"imdb": {"num_words": 30}}
    return folder / "out", config


@pytest.mark.pipeline
def test_each_step_reads_the_decision_before_it_and_only_the_final_step_is_given_the_test_set(prepared, tmp_path):
    out, config = prepared
    train, test = out / "train.npz", out / "test.npz"
    task = "imdb_imbalanced"
    # steps 1 to 6 get no test split: a step that reached for it would fail here
    jobs.problem(job("problem", tmp_path, config, task, train=train))
    jobs.protocol(job("protocol", tmp_path, config, task, train=train, problem=tmp_path / "problem.csv"))
    common = {"train": train, "problem": tmp_path / "problem.csv", "folds": tmp_path / "folds.npz"}
    jobs.baselines(job("baselines", tmp_path, config, task, protocol=tmp_path / "protocol.csv", **common))
    jobs.power(job("power", tmp_path, config, task, baselines=tmp_path / "baselines.csv", **common))
    jobs.scale_up(job("scale_up", tmp_path, config, task, power=tmp_path / "power.csv", **common))
    jobs.tune(job("tune", tmp_path, config, task, scale_up=tmp_path / "scale_up.csv", **common))
    power, scale_up, tune = (pd.read_csv(tmp_path / f"{s}.csv") for s in ("power", "scale_up", "tune"))
    # each step grew from the decision before it
    first_rung = candidates.decode(scale_up.entry.iloc[0])["hidden"]
    assert first_rung == config["recipe"]["scale_up"]["from"]  # the ladder starts below any model that overfits
    assert tasks.chosen(scale_up).parameters >= tasks.chosen(power).parameters  # kept: at least step 4's model
    base = candidates.decode(tasks.chosen(scale_up).entry)["hidden"]
    assert all(candidates.decode(e)["hidden"] == base for e in tune.entry)  # widen 1: the tuning space's only width
    curves_read = pd.concat([pd.read_parquet(tmp_path / f"{s}.parquet") for s in ("power", "scale_up", "tune")])
    assert set(curves_read.split) == {"train", "validation"}  # no test row before the last step
    assert tasks.primary_metric(pd.read_csv(tmp_path / "problem.csv")) == "f1"
    jobs.final(job("final", tmp_path, config, task, train=train, test=test, problem=tmp_path / "problem.csv",
                   tune=tmp_path / "tune.csv"))
    final = pd.read_csv(tmp_path / "final.csv")
    assert tasks.chosen(final).candidate == f"tuned ({tasks.chosen(tune).candidate})"
    models = final[final.candidate.isin([tasks.chosen(final).candidate, "the book's"])]
    assert len(models) == 2 and (models.seeds == config["recipe"]["seeds"]).all()
    # the baselines refitted on every training row stand beside them, on the same test rows
    assert set(final.candidate) - set(models.candidate) == {"chance", "majority class", "logistic regression"}
    assert final.acc.between(0, 1).all()
    rows = pd.read_parquet(tmp_path / "final.parquet")
    assert set(rows.split) == {"train", "test"}
    tested = rows[rows.split == "test"].groupby(["experiment", "seed"]).epoch
    assert (tested.nunique() == 1).all()  # each model scored on the test set once, after its last epoch
    assert (tested.max() == rows.groupby(["experiment", "seed"]).epoch.max()).all()


@pytest.mark.pipeline
def test_no_rule_before_the_final_step_names_the_test_split(tiny_workflow):
    done = run_snakemake(tiny_workflow["dir"], "--configfile", str(tiny_workflow["config"]), "-n", "--forceall",
                         "results/recipe.csv", mirror=tiny_workflow["mirror"])
    assert done.returncode == 0, done.stderr
    # a job of a group (the `group:` of the rules) is printed indented under its group job
    blocks = re.split(r"\n(?=\s*(?:local)?rule )", done.stdout)
    steps = {}
    for block in blocks:
        name = re.match(r"\s*(?:local)?rule (\w+):", block)
        if name and name.group(1).startswith("recipe_"):
            inputs = re.search(r"input: (.*)", block)
            steps.setdefault(name.group(1), []).append(inputs.group(1) if inputs else "")
    assert set(steps) >= {"recipe_problem", "recipe_protocol", "recipe_baselines", "recipe_power", "recipe_scale_up",
                          "recipe_tune", "recipe_final"}
    for rule, inputs in steps.items():
        names_test = any("imdb/test.npz" in line for line in inputs)
        assert names_test == (rule == "recipe_final"), rule


def test_majority_class_is_accurate_on_imbalanced_data_and_finds_nothing():
    labels = np.array([1] * 10 + [0] * 90)
    majority = measures.scores(np.zeros(100), labels)
    assert majority["acc"] == 0.9 and majority["recall"] == 0.0 and majority["precision"] == 0.0
    assert majority["auc"] == pytest.approx(0.5) and majority["f1"] == 0.0
    rng = np.random.default_rng(0)
    p = np.clip(labels * 0.3 + rng.random(100) * 0.7, 0, 1)
    from sklearn.metrics import roc_auc_score

    assert measures.keras_auc(p, labels) == pytest.approx(roc_auc_score(labels, p), abs=0.01)


def test_last_layer_losses_have_keras_semantics():
    y = jnp.array([[0.0, 1.0, 0.0]])
    scores = jnp.array([[0.2, 0.5, 0.3]])
    assert float(last_layer.loss(scores, y, "categorical_crossentropy")[0]) == pytest.approx(-np.log(0.5), rel=1e-6)
    # Keras rescales scores to sum to 1 before the categorical crossentropy
    assert float(last_layer.loss(scores * 2, y, "categorical_crossentropy")[0]) == pytest.approx(-np.log(0.5), rel=1e-6)
    p = jnp.array([[0.9, 0.2]])
    expected = -np.mean([np.log(0.9), np.log(0.8)])
    assert float(last_layer.loss(p, jnp.array([[1.0, 0.0]]), "binary_crossentropy")[0]) == pytest.approx(expected, rel=1e-6)
    assert float(last_layer.loss(jnp.array([[3.0]]), jnp.array([[1.0]]), "mse")[0]) == pytest.approx(4.0)


def test_a_softmax_of_one_unit_outputs_one_and_learns_nothing():
    pairing = PROBLEMS["binary"][3]
    assert pairing == Pairing("softmax", "categorical_crossentropy")
    params = dense.init(dense.DenseSpec((4,), 1), 5, seed=0)  # the network the last-layer table trains
    x = jnp.asarray(np.random.default_rng(0).random((8, 5)), jnp.float32)
    assert np.allclose(last_layer.output(last_layer.forward(params, x), "softmax"), 1.0)
    grads = jax.grad(lambda p: jnp.mean(last_layer.loss(last_layer.output(last_layer.forward(p, x), "softmax"),
                                                        jnp.ones((8, 1)), "categorical_crossentropy")))(params)
    assert all(float(jnp.abs(g).max()) == 0.0 for layer in grads for g in layer)


@pytest.mark.slow
def test_the_last_layer_targets_and_a_short_run_of_each_problem(prepared):
    labels, ratings = np.array([0, 1, 1]), np.array([2, 9, 7])
    assert targets("multi-label", labels, ratings).tolist() == [[1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0],
                                                               [1, 1, 1, 1, 0, 0, 0]]
    assert targets("regression", labels, ratings)[:, 0].tolist() == [2, 9, 7]
    out, config = prepared
    reviews = imdb.load_split(out / "train.npz")
    rng = np.random.default_rng(0)
    images = {"images": rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), "labels": rng.integers(0, 10, 40).astype(np.uint8)}
    settings = config["recipe"]["last_layer"]
    for problem in PROBLEMS:
        data = last_layer.problem_data(problem, reviews, images, settings["validation_size"], 30, settings["batch_size"])
        table = last_layer.run(problem, data, settings, 0)
        assert set(table.pairing) == {"recommended", "wrong"} and table.seed.nunique() == settings["seeds"]
        assert np.isfinite(table.value).all()
        if problem == "binary":  # the one-unit softmax says "positive" to every held-out review
            wrong = table[(table.pairing == "wrong") & (table.measure == "acc")].value
            held = reviews.label[:settings["validation_size"]["imdb"]]
            assert np.allclose(wrong, held.mean())


def test_a_tuning_budget_larger_than_its_space_is_refused_before_any_job(base_config):
    import copy

    from overfit.checks import check_config
    from overfit.errors import ConfigError

    config = copy.deepcopy(base_config)
    config["recipe"]["tune"] = {"configs": 5, "space": {"dropout": [0, 0.5], "l2": [0, 0.001]}}
    with pytest.raises(ConfigError, match="recipe.tune.configs: 5 .* space of 4"):
        check_config(config)
