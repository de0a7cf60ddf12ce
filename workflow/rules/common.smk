# Targets and small helpers shared by the rules; no logic beyond naming files.
from pathlib import Path

from overfit import resources
from overfit.experiments import experiment as experiment_spec
from overfit.report.catalog import figure_specs
from overfit.report.provenance import code_version

PACKAGE = Path(workflow.basedir) / "src" / "overfit"
FASHION_MNIST_FILES = sorted(config["data"]["fashion_mnist"]["files"])


wildcard_constraints:
    name="|".join(FASHION_MNIST_FILES),
    experiment="|".join(config["experiments"]),
    protocol="|".join(config["protocols"]),
    figure="[a-z0-9_]+",


def package_code(*parts):
    """The package's source files a job depends on, so that editing them reruns it."""
    files = [PACKAGE / name for name in ("__init__.py", "errors.py", "files.py", "jobs/__init__.py")]
    for part in parts:
        path = PACKAGE / part
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [str(f) for f in files]


IMDB_PREPARED = multiext("results/data/imdb/", "train.npz", "test.npz", "vocabulary.tsv", "manifest.json")
FASHION_MNIST_PREPARED = ["results/data/fashion_mnist/train.npz", "results/data/fashion_mnist/test.npz"]


TRAINED = expand("results/metrics/{experiment}/{protocol}.parquet", experiment=config["experiments"], protocol=config["protocols"])
FINAL = [*expand("results/final/{experiment}.parquet", experiment=config["experiments"]), "results/final/book_3_5.parquet"]


CODE_VERSION = code_version(workflow.basedir)
FOLDED_PROTOCOL = config["final"]["choose_epochs_on"]
FIGURES = {spec.name: spec for spec in figure_specs(list(config["experiments"]), list(config["protocols"]), FOLDED_PROTOCOL)}
JOB_BENCHMARKS = [
    "results/benchmarks/data/prepare_imdb.tsv",
    "results/benchmarks/data/prepare_fashion_mnist.tsv",
    *expand("results/benchmarks/train/{experiment}/{protocol}.tsv", experiment=config["experiments"], protocol=config["protocols"]),
    *expand("results/benchmarks/final_fit/{experiment}.tsv", experiment=config["experiments"]),
    "results/benchmarks/final_fit/book_3_5.tsv",
    "results/benchmarks/report/collect.tsv",
    "results/benchmarks/report/claims.tsv",
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
        "final": config["final"],
    }
    sections["protocols"] = {protocol: config["protocols"][protocol]} if protocol else {}
    return sections


def train_mem_mb(experiment):
    return resources.train_mem_mb(config["experiments"][experiment]["hidden"])


def wide_model(experiment):
    return int(resources.is_wide(config["experiments"][experiment]["hidden"]))


def train_runtime_min(experiment, protocol):
    spec = experiment_spec(config, experiment)
    models = resources.models_in(config["protocols"].get(protocol), config["final"]["seeds"])
    return resources.train_runtime_minutes(list(spec.model.hidden), spec.training.epochs, models)
