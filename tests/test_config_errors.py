"""Config mistakes are refused before any job, with the key, the bad value and what is allowed.

Each mistake goes through the user's own entry points: ``python -m overfit.checks FILE`` (what ``make reproduce``
runs before the pipeline) for every case, and ``snakemake -n`` for a few (the Snakefile calls the same checks).
"""

import copy
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO, build_mirror, data_sizes, run_snakemake, write_config
from overfit.checks import check_config, check_file
from overfit.checks.sizes import (Sizes, kfold_side, largest_fraction, largest_validation, most_folds,
                                  training_side)
from overfit.protocols import build_folds

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory) -> dict:
    """The .test config on the tests' tiny data, with the tiny data's sizes: checked against 24 reviews, not 25,000."""
    mirror = build_mirror(tmp_path_factory.mktemp("tiny") / "mirror")
    config = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    config["data"] = mirror["data"]
    for name, sizes in data_sizes(mirror).items():
        config["data"][name].update(sizes)
    return config


def _set(path: str, value):
    """An edit that sets the value at a dotted key path (creating mappings on the way)."""
    def edit(config):
        *parents, last = path.split(".")
        for key in parents:
            config = config.setdefault(key, {})
        config[last] = value
    return edit


def _clock_study(config):
    config["images"]["studies"]["hours"] = {"input": "clock", "rows": 20000, "arms": {"plain": {}}}


def _small_study(config):
    config["images"]["studies"]["shuffled_labels"]["rows"] = 10
    config["images"]["validation_split"] = 0.95


# case -> (the config it edits, the edit, what the refusal says: the key, the value and the bound)
CASES = {
    # the schema
    "one fold": ("real", _set("protocols.kfold.folds", 1), ["protocols.kfold.folds", "1 is less than the minimum of 2"]),
    "unknown kind": ("real", _set("protocols.kfold.kind", "kfolds"),
                     ["protocols.kfold.kind", "'kfolds' is not one of", "'grouped_kfold'", "'holdout'"]),
    "hold-out without its size": ("real", lambda c: c["protocols"]["holdout"].pop("validation_size"),
                                  ["protocols.holdout", "'validation_size' is a required property"]),
    "a sweep's axis misspelt": ("real", _set("sweeps.l2_strength.grid.l3", [0.1]),
                                ["sweeps.l2_strength.grid", "'l3' was unexpected"]),
    "a sweep's values not a list": ("real", _set("sweeps.l2_strength.grid.l2", 0.1),
                                    ["sweeps.l2_strength.grid.l2", "0.1 is not of type 'array'"]),
    # references and settings
    "a setting of another kind": ("real", _set("protocols.holdout.folds", 4),
                                  ["protocols.holdout: folds does not apply to kind 'holdout'", "validation_size"]),
    "a role naming nothing": ("real", _set("roles.reference", "orignal"),
                              ["roles.reference: 'orignal' is not an experiment", "original"]),
    "a sweep on a protocol that is not there": ("real", _set("sweeps.l2_strength.protocol", "kfold_by_film"),
                                                ["sweeps.l2_strength.protocol: 'kfold_by_film' is not a protocol"]),
    "a sweep role naming nothing": ("real", _set("roles.capacity_map", "capacty"),
                                    ["roles.capacity_map: 'capacty' is not a sweep", "capacity"]),
    # sizes against the data (IMDB's 25,000 training reviews of 3,456 movies, at most 30 a movie)
    "hold-out as large as the data": (
        "real", _set("protocols.holdout.validation_size", 25000),
        ["protocols.holdout.validation_size: 25000 can leave no training reviews", "has 25000", "at most 24999"]),
    "hold-out larger than the data": ("real", _set("protocols.holdout.validation_size", 30000),
                                      ["protocols.holdout.validation_size: 30000", "at most 24999"]),
    "a grouped hold-out that can take every movie": (
        "real", _set("protocols.holdout_5000_by_movie.validation_size", 24990),
        ["protocols.holdout_5000_by_movie.validation_size: 24990", "whole movies", "at most 24970"]),
    "a time hold-out that can take every movie": ("real", _set("protocols.newest_movies.validation_size", 24980),
                                                  ["protocols.newest_movies.validation_size: 24980", "at most 24970"]),
    "a validation share that leaves nothing": (
        "real", _set("protocols.last_share", {"kind": "validation_split", "fraction": 0.99999,
                                              "experiments": ["original"]}),
        ["protocols.last_share.fraction: 0.99999", "25000 training reviews", "at most 0.9999"]),
    "more folds than reviews": ("real", _set("protocols.kfold.folds", 30000),
                                ["protocols.kfold.folds: 30000", "at most 12500"]),
    "more grouped folds than movies": ("real", _set("protocols.kfold_by_movie.folds", 4000),
                                       ["protocols.kfold_by_movie.folds: 4000", "3456 movies", "at most 3456"]),
    "more inner folds than an outer fold's movies": (
        "real", _set("protocols.tuning_nested.inner_folds", 3000),
        ["protocols.tuning_nested.inner_folds: 3000", "2592 movies", "at most 2592"]),
    "an experiment's subset larger than a hold-out leaves": (
        "real", _set("experiments.original.train_size", 20000),
        ["experiments.original.train_size: 20000", "protocols.holdout", "at most 15000"]),
    "a learning curve's point larger than a fold": (
        "real", _set("sweeps.data_size.grid.train_size", [500, 19000]),
        ["sweeps.data_size.grid.train_size: 19000", "data_size-train_size_19000", "protocols.kfold_by_movie",
         "at most 18425"]),
    "a sweep's shared subset larger than a fold": (
        "real", _set("sweeps.memorization.set.train_size", 20000),
        ["sweeps.memorization.set.train_size: 20000", "at most 18425"]),
    "a sweep's repeats beyond its protocol's": (
        "real", _set("sweeps.l2_strength.repeats", 5),
        ["sweeps.l2_strength.repeats: 5", "protocols.kfold_by_movie", "at most 3"]),
    "a nested K-fold whose outer folds are not the tuning K-fold's": (
        "real", _set("protocols.tuning_nested.folds", 5),
        ["protocols.tuning_nested.folds: 5", "tuning_kfold", "has 4", "use 4"]),
    "a search of one configuration": ("real", _set("search.configs", 1), ["search.configs: 1", "use at least 2"]),
    "a positive share that draws no review": (
        "real", _set("recipe.tasks.imdb_imbalanced.positive_share", 0.00001),
        ["recipe.tasks.imdb_imbalanced.positive_share: 1e-05 draws no positive review", "above 4e-05"]),
    "more recipe folds than a drawn task's movies": (
        "real", _set("recipe.folds", 500),
        ["recipe.folds: 500", "imdb_imbalanced's 13889 training reviews", "463 movies", "at most 463"]),
    "a last-layer hold-out of every review": ("real", _set("recipe.last_layer.validation_size.imdb", 25000),
                                              ["recipe.last_layer.validation_size.imdb: 25000", "at most 24999"]),
    "a last-layer hold-out of every image": (
        "real", _set("recipe.last_layer.validation_size.fashion_mnist", 60000),
        ["recipe.last_layer.validation_size.fashion_mnist: 60000", "at most 59999"]),
    "an image study's rows beyond Fashion-MNIST": (
        "real", _set("images.studies.shuffled_labels.rows", 70000),
        ["images.studies.shuffled_labels.rows: 70000", "60000 images of fashion_mnist", "at most 60000"]),
    "a validation share that leaves a study no image": (
        "real", _small_study,
        ["images.validation_split: 0.95", "none of the 10 images of images.studies.shuffled_labels.rows",
         "at most 0.8999"]),
    "a clock study's rows beyond its faces": ("real", _clock_study,
                                              ["images.studies.hours.rows: 20000", "at most 10000"]),
    "more clock faces than generated": ("real", _set("clock.train_sizes", [100, 20000]),
                                        ["clock.train_sizes: 20000", "clock.faces.train", "at most 10000"]),
    "a marker past the vocabulary": ("real", _set("data.imdb.oov_char", 10000),
                                     ["data.imdb.oov_char: 10000", "num_words (10000)", "at most 9999"]),
    "a vocabulary that keeps no word": ("real", _set("data.imdb.num_words", 4),
                                        ["data.imdb.num_words: 4 keeps no word", "at least 5"]),
    "sizes of two data sets": ("real", _set("data.imdb.train_reviews", 24),
                               ["data.imdb.train_reviews: 24", "train_reviews_per_movie adds up to 25000",
                                "give every size of data.imdb"]),
    # the tiny data's own sizes (24 training reviews of 4 movies): what a tiny run is checked against
    "a learning curve's point larger than a tiny fold": (
        "tiny", _set("sweeps.data_size.grid.train_size", [4, 16]),
        ["sweeps.data_size.grid.train_size: 16", "protocols.kfold_by_movie", "at most 12"]),
    "more grouped folds than the tiny data's movies": ("tiny", _set("protocols.kfold_by_movie.folds", 5),
                                                        ["protocols.kfold_by_movie.folds: 5", "4 movies", "at most 4"]),
}
# the cases also run through `snakemake -n`: protocols, sweeps on the tiny data's own sizes, image studies
THROUGH_SNAKEMAKE = ["hold-out larger than the data", "a learning curve's point larger than a tiny fold",
                     "an image study's rows beyond Fashion-MNIST"]


def edited(case: str, base_config: dict, tiny_config: dict) -> dict:
    base, edit, _ = CASES[case]
    config = copy.deepcopy(base_config if base == "real" else tiny_config)
    edit(config)
    return config


def assert_refused(output: str, case: str) -> None:
    for part in CASES[case][2]:
        assert part in output, output


@pytest.mark.parametrize("case", CASES)
def test_config_mistake_is_refused_by_the_check_command_with_key_value_and_what_is_allowed(tmp_path, base_config,
                                                                                           tiny_config, case):
    write_config(tmp_path / "config.yaml", edited(case, base_config, tiny_config))
    result = subprocess.run([sys.executable, "-m", "overfit.checks", "config.yaml"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("ERROR: ") and "Traceback" not in result.stderr, result.stderr
    assert_refused(result.stderr, case)
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]  # nothing written


@pytest.mark.parametrize("case", THROUGH_SNAKEMAKE)
def test_config_mistake_stops_snakemake_before_any_job(tmp_path, base_config, tiny_config, case):
    path = write_config(tmp_path / "config.yaml", edited(case, base_config, tiny_config))
    result = run_snakemake(tmp_path, "--configfile", str(path), "-n")
    assert result.returncode != 0
    assert_refused(result.stdout + result.stderr, case)
    assert not any((tmp_path / name).exists() for name in ("results", "resources", "logs"))


def test_the_shipped_configs_pass_the_checks(tiny_config):
    result = subprocess.run([sys.executable, "-m", "overfit.checks", "config/config.yaml", "config/full.yaml"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "config/config.yaml + config/full.yaml: valid" in result.stdout, result.stderr
    check_file(REPO / "config" / "config.yaml", SCHEMA)
    check_config(tiny_config)  # the .test config against the tiny data's own sizes


def test_fold_sizes_known_up_front_are_those_of_the_split_builders():
    """The checks see a movie as its place in title order and its number of reviews (overfit.checks.imdb_movies):
    the folds drawn so have the sizes of folds drawn on the movies themselves, whatever their rows and title
    numbers; and at every limit the checks allow, the builders leave each fold training reviews."""
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 9, 60)  # 60 movies of 1 to 8 reviews, with title numbers far apart, rows shuffled
    titles = np.sort(rng.choice(10**7, 60, replace=False))
    order = rng.permutation(counts.sum())
    movies, labels = np.repeat(titles, counts)[order], rng.integers(0, 2, counts.sum())
    sizes = Sizes(tuple(int(c) for c in counts), test_reviews=50, train_positive=int(labels.sum()), test_positive=25,
                  train_images=60, clock_faces=None)
    n = sizes.train_reviews
    grouped = {"kind": "shuffled_holdout", "group_by_movie": True, "repeats": 20}
    kinds = [{"kind": "grouped_kfold", "folds": 4, "repeats": 3}, {"kind": "nested_kfold", "folds": 3, "inner_folds": 2},
             {**grouped, "validation_size": n // 3}, {"kind": "time_holdout", "validation_size": n // 4},
             # the limits
             {"kind": "grouped_kfold", "folds": most_folds(n, 60)}, {"kind": "kfold", "folds": most_folds(n)},
             {"kind": "validation_split", "fraction": largest_fraction(n)},
             {"kind": "nested_kfold", "folds": 3, "inner_folds": kfold_side(60, 3)}]
    for kind in ("holdout", "sorted_holdout", "time_holdout"):
        kinds.append({"kind": kind, "validation_size": largest_validation({"kind": kind}, sizes)})
    kinds.append({**grouped, "validation_size": largest_validation(grouped, sizes)})
    for entry in kinds:
        real = [len(f.train_rows) for f in build_folds(entry, n, 50, movies, 0, labels)]
        assumed = [len(f.train_rows) for f in build_folds(entry, n, 50, sizes.movie_ids(), 0, labels)]
        assert real == assumed and training_side(entry, sizes, 0) == min(real) >= 1, entry


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "config.yaml"
    text = (REPO / "config" / "config.yaml").read_text().replace("seed: 0", "seed: 0: 1", 1)
    path.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("seed: 0: 1"))
    result = subprocess.run([sys.executable, "-m", "overfit.checks", str(path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{path}, line {line}, column 8: not valid YAML: mapping values are not allowed here" in result.stderr

