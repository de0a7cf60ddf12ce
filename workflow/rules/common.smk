# Targets and small helpers shared by the rules; no logic beyond naming files.
from pathlib import Path

from overfit import resources
from overfit.experiments import experiment as experiment_spec
from overfit.grid import protocol_experiments
from overfit.imports import job_code
from overfit.report.catalog import figure_specs
from overfit.report.provenance import code_version

SOURCES = Path(workflow.basedir) / "src"
PACKAGE = SOURCES / "overfit"
FASHION_MNIST_FILES = sorted(config["data"]["fashion_mnist"]["files"])


wildcard_constraints:
    name="|".join(FASHION_MNIST_FILES),
    experiment="|".join(config["experiments"]),
    protocol="|".join(config["protocols"]),
    figure="[a-z0-9_]+",


def code(entry, *data):
    """The package files job ``entry`` ("overfit.jobs.train:train") imports, read from its real imports
    (overfit.imports), plus package data files it reads: editing any of them reruns the job."""
    return [*job_code(entry, SOURCES), *(str(PACKAGE / name) for name in data)]


BOOK_HISTORIES = "reference/dlwp1_notebook_histories.csv"
IMDB_PREPARED = multiext("results/data/imdb/", "train.npz", "test.npz", "vocabulary.tsv", "manifest.json")
FASHION_MNIST_PREPARED = ["results/data/fashion_mnist/train.npz", "results/data/fashion_mnist/test.npz"]

# (experiment, protocol) pairs that train: each protocol runs only the experiments it lists
TRAINING_JOBS = [(e, p) for p in config["protocols"] for e in protocol_experiments(config, p)]
TRAINED = [f"results/metrics/{e}/{p}.parquet" for e, p in TRAINING_JOBS]
FINAL = [*expand("results/final/{experiment}.parquet", experiment=config["experiments"]), "results/final/book_3_5.parquet"]


CODE_VERSION = code_version(workflow.basedir)
FIGURES = {spec.name: spec for spec in figure_specs(config, CHAPTER)}
JOB_BENCHMARKS = [
    "results/benchmarks/data/prepare_imdb.tsv",
    "results/benchmarks/data/prepare_fashion_mnist.tsv",
    *(f"results/benchmarks/train/{e}/{p}.tsv" for e, p in TRAINING_JOBS),
    *expand("results/benchmarks/final_fit/{experiment}.tsv", experiment=config["experiments"]),
    "results/benchmarks/final_fit/book_3_5.tsv",
    "results/benchmarks/report/collect.tsv",
    "results/benchmarks/report/claims.tsv",
    "results/benchmarks/report/movie_leak.tsv",
    *expand("results/benchmarks/report/figure/{figure}.tsv", figure=FIGURES),
]


def all_targets():
    return [*IMDB_PREPARED, *FASHION_MNIST_PREPARED, "results/metrics.parquet", "results/claims.csv", "results/report.html"]


def job_config(experiment, protocol):
    """The part of the config a training job depends on, passed as its params (a change reruns it)."""
    sections = {
        "seed": config["seed"],
        "data": {"imdb": {"num_words": config["data"]["imdb"]["num_words"]}},
        "training": config["training"],
        "experiments": {experiment: config["experiments"][experiment]},
    }
    if protocol:
        sections["protocols"] = {protocol: config["protocols"][protocol]}
    else:  # a final fit
        sections["final"] = config["final"]
    return sections


def report_config():
    """What the claims and the report read of the config: roles, protocols, experiments, training defaults."""
    return {key: config[key] for key in ("seed", "data", "training", "experiments", "protocols", "roles", "final") if key in config}


def train_mem_mb(experiment):
    return resources.train_mem_mb(config["experiments"][experiment]["hidden"])


def wide_model(experiment):
    return int(resources.is_wide(config["experiments"][experiment]["hidden"]))


def train_runtime_min(experiment, protocol):
    spec = experiment_spec(config, experiment)
    models = resources.models_in(config["protocols"].get(protocol), config["final"]["seeds"])
    return resources.train_runtime_minutes(list(spec.model.hidden), spec.training.epochs, models)
