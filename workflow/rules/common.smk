# Targets and small helpers shared by the rules; no logic beyond naming files.
import os
from pathlib import Path

from overfit import resources
from overfit.experiments import experiment as experiment_spec
from overfit.grid import is_wide, metric_sources, training_jobs
from overfit.sweeps import entries
from overfit.imports import job_code
from overfit.report.catalog import TABLES, figure_specs
from overfit.report.provenance import code_version
from overfit.recipe import threshold_tasks
from overfit.recipe.tasks import STEPS as RECIPE_STEPS
from overfit.data.catalog import IMAGE_INPUTS, study_inputs
from overfit.report import i18n

SOURCES = Path(workflow.basedir) / "src"
PACKAGE = SOURCES / "overfit"
FASHION_MNIST_FILES = sorted(config["data"]["fashion_mnist"]["files"])
# the report's languages (config report.language; overfit.report.i18n): a page each, its figures in its words
REPORT_LANGUAGES = i18n.report_languages(config)
TRANSLATED = [language for language in REPORT_LANGUAGES if language != i18n.SOURCE]


wildcard_constraints:
    name="|".join(FASHION_MNIST_FILES),
    experiment="|".join(config["experiments"]),
    protocol="|".join(config["protocols"]),
    figure="[a-z0-9_]+",
    job=r"[A-Za-z0-9_.\-]+",


def code(entry, *data):
    """The package files job ``entry`` ("overfit.jobs.train:train") imports, read from its real imports
    (overfit.imports), plus package data files it reads: editing any of them reruns the job."""
    return [*job_code(entry, SOURCES), *(str(PACKAGE / name) for name in data)]


BOOK_HISTORIES = "reference/dlwp1_notebook_histories.csv"
SEED_1_CLAIMS = "runs/seed-1/results/claims.csv"  # written by `make seed-check` (Makefile)
IMDB_PREPARED = multiext("results/data/imdb/", "train.npz", "test.npz", "vocabulary.tsv", "manifest.json")
FASHION_MNIST_PREPARED = ["results/data/fashion_mnist/train.npz", "results/data/fashion_mnist/test.npz"]

# The training jobs: for each protocol, a stack of its narrow experiments, and each wide experiment
# (in parts on a cluster). Each protocol runs only the experiments it lists.
TRAINING = training_jobs(config)
# every experiment entry, written or a sweep's point (overfit.sweeps)
ENTRIES = entries(config)
TRAINED = [f"results/metrics/{p}/{job}.parquet" for p, job in TRAINING]
FINAL = [*expand("results/final/{experiment}.parquet", experiment=config["experiments"]), "results/final/book_3_5.parquet"]


CODE_VERSION = code_version(workflow.basedir)
FIGURES = {spec.name: spec for spec in figure_specs(config, CHAPTER)}
JOB_BENCHMARKS = [
    "results/benchmarks/data/prepare_imdb.tsv",
    "results/benchmarks/data/prepare_fashion_mnist.tsv",
    *(f"results/benchmarks/data/folds/{p}.tsv" for p in sorted({p for p, _ in TRAINING})),
    *(f"results/benchmarks/train/{p}/{job}.tsv" for p, job in TRAINING),
    *expand("results/benchmarks/final_fit/{experiment}.tsv", experiment=config["experiments"]),
    "results/benchmarks/final_fit/book_3_5.tsv",
    "results/benchmarks/report/collect.tsv",
    "results/benchmarks/report/claims.tsv",
    "results/benchmarks/report/movie_leak.tsv",
    "results/benchmarks/report/sweeps.tsv",
    "results/benchmarks/report/protocol_audit.tsv",
    "results/benchmarks/report/tuning_leak.tsv",
    "results/benchmarks/data/duplicates.tsv",
    *(f"results/benchmarks/recipe/{task}/{step}.tsv" for task in config.get("recipe", {}).get("tasks", {})
      for step in RECIPE_STEPS),
    *(["results/benchmarks/recipe/last_layer.tsv"] if "recipe" in config else []),
    *(f"results/benchmarks/recipe/{task}/threshold.tsv" for task in threshold_tasks(config)),
    *(f"results/benchmarks/images/{study}.tsv" for study in config.get("images", {}).get("studies", {})),
    *(["results/benchmarks/data/prepare_clock.tsv", "results/benchmarks/clock.tsv"] if "clock" in config else []),
    *expand("results/benchmarks/report/figure/{figure}.tsv", figure=FIGURES),
    *(["results/benchmarks/pretraining.tsv", "results/benchmarks/report/figure/pretraining.tsv"]
      if "pretraining" in config else []),
    *(["results/benchmarks/duplicate_leak.tsv"] if "duplicate_leak" in config else []),
    "results/benchmarks/report/explorer.tsv",
]


# the training jobs that train the reference model under the protocols the audit compares (their seconds
# are its cost column), and how many experiments share each (a stack's time is split evenly among them)
AUDIT_JOBS = {f"results/benchmarks/train/{p}/{job}.tsv": len(spec["experiments"]) for (p, job), spec in TRAINING.items()
              if p in config.get("roles", {}).get("audited", [])
              and config.get("roles", {}).get("reference") in spec["experiments"]}


def all_targets():
    return [*IMDB_PREPARED, *FASHION_MNIST_PREPARED, "results/metrics.parquet", "results/claims.csv", "results/sweeps.csv",
            "results/protocol_audit.csv", "results/tuning_leak.csv", "results/duplicates.csv", *(["results/recipe.csv", "results/last_layer.csv"] if "recipe" in config else []),
            *(["results/images.csv"] if "images" in config else []), *(["results/clock.csv"] if "clock" in config else []),
            *(["results/pretraining.csv", "results/figures/pretraining.png"] if "pretraining" in config else []),
            *(["results/duplicate_leak.csv"] if "duplicate_leak" in config else []),
            *(["results/recipe_threshold.parquet", "results/recipe_threshold.csv"] if THRESHOLD_TASKS else []),
            "results/report.html",
            "results/explorer.html"]


def curves_of(experiment):
    """The training tables that hold an experiment's curves under the protocol its final fit chooses epochs on."""
    protocol = config["final"]["choose_epochs_on"]
    return [f"results/metrics/{protocol}/{job}.parquet" for job in metric_sources(TRAINING, experiment, protocol)]


def job_config(experiments, protocol):
    """The part of the config a training job depends on, passed as its params (a change reruns it)."""
    sections = {
        "seed": config["seed"],
        "data": {"imdb": {"num_words": config["data"]["imdb"]["num_words"]}},
        "editions": config["editions"],
        "training": config["training"],
        "experiments": {name: ENTRIES[name] for name in experiments},
    }
    if protocol:
        sections["protocols"] = {protocol: config["protocols"][protocol]}
    else:  # a final fit
        sections["final"] = config["final"]
    return sections


def report_config():
    """What the claims and the report read of the config: roles, protocols, experiments, training defaults, and the
    recipe (the claims of its step 5 read its ladder)."""
    keys = ("seed", "data", "training", "experiments", "sweeps", "search", "protocols", "roles", "final", "recipe")
    return {key: config[key] for key in keys if key in config}


def train_mem_mb(experiment):
    return resources.train_mem_mb(ENTRIES[experiment]["hidden"])


# A wide model's step is dense matmul work, which XLA spreads over every core it finds: on our
# 2-core machine the width-1024 K-fold took 317 s alone and 587 s beside narrow jobs (README).
# Two threads keep the machine to it; on a cluster they are its --cpus-per-task.
WIDE_THREADS = 2


def wide_model(experiment):
    return int(is_wide(config, ENTRIES[experiment]["hidden"]))


def training_mem_mb(protocol, job):
    """A stack holds all its models' first layers at once: as one model of their summed width."""
    width = sum(ENTRIES[e]["hidden"][0] for e in TRAINING[protocol, job]["experiments"])
    return resources.train_mem_mb([width])


def training_is_wide(protocol, job):
    return max(wide_model(e) for e in TRAINING[protocol, job]["experiments"])


# The data stage's jobs take seconds and every long job waits on one of them: they go first (Snakemake's
# priorities do not pass to a job's inputs, so a long K-fold job otherwise waits for its folds behind short jobs).
UNBLOCKS = 10000


def training_runtime_min(protocol, job):
    spec = TRAINING[protocol, job]
    models = len(spec["runs"])
    # a stack's step costs about what its widest model's does alone, plus a little per model (README)
    widest = max(spec["experiments"], key=lambda e: ENTRIES[e]["hidden"][0])
    epochs = experiment_spec(config, widest, ENTRIES[widest], protocol).training.epochs
    return resources.train_runtime_minutes(ENTRIES[widest]["hidden"], epochs, models)


def final_runtime_min(experiment):
    spec = experiment_spec(config, experiment, ENTRIES[experiment])
    return resources.train_runtime_minutes(list(spec.model.hidden), spec.training.epochs, config["final"]["seeds"])


# The universal workflow (workflow/rules/recipe.smk): its tasks, and each step's table

RECIPE_TASKS = list(config.get("recipe", {}).get("tasks", {}))
RECIPE = "results/recipe/{task}/"
# what each step's table is called, in order (overfit.recipe.tasks.STEPS)
RECIPE_TABLES = {step: f"{RECIPE}{i + 1}_{step}.csv" for i, step in enumerate(RECIPE_STEPS)}
# the imbalanced tasks whose threshold is tuned (overfit.recipe.threshold)
THRESHOLD_TASKS = threshold_tasks(config)


def recipe_config():
    """The part of the config the recipe reads: editing `recipe:` reruns it, and nothing else does."""
    return {"seed": config["seed"], "data": {"imdb": {"num_words": config["data"]["imdb"]["num_words"]}},
            "editions": config["editions"], "training": config["training"], "recipe": config["recipe"]}


# Experiments on images and the clock (workflow/rules/images.smk)

IMAGE_STUDIES = list(config.get("images", {}).get("studies", {}))


def image_study_config(wildcards):
    """What one study reads: editing a study of `images:` reruns that study only."""
    images = config["images"]
    return {"seed": config["seed"], "editions": config["editions"], "images": {"validation_split": images["validation_split"], "seeds": images["seeds"],
                                               "studies": {wildcards.study: images["studies"][wildcards.study]}}}


def image_study_input(wildcards):
    """The prepared file a study trains on (Fashion-MNIST unless it names the clock)."""
    (name,) = study_inputs(config["images"]["studies"][wildcards.study])
    return IMAGE_INPUTS[name]


def clock_config(faces_only=False):
    """What the clock's jobs read; the faces depend on the seed and their numbers only."""
    settings = config["clock"]
    return {"seed": config["seed"], "clock": {"faces": settings["faces"]} if faces_only else settings}


def claims_studies(wildcards):
    """The tables of the image studies, the clock, the pretraining study and the duplicates' lift, and the recipe's
    step 5 curves and imbalanced tasks' run scores, where the config has them: their claims read them."""
    tables = {name: f"results/{name}.csv" for name in ("images", "clock", "pretraining", "duplicate_leak") if name in config}
    if "recipe" in config:
        tables["recipe"] = [f"results/recipe/{task}/5_scale_up.parquet" for task in config["recipe"]["tasks"]]
    if THRESHOLD_TASKS:
        tables["threshold"] = "results/recipe_threshold.csv"
    return tables


# ---------------------------------------------------------------------------------------------------------------
# Job groups (SLURM): the `group:` of the rules. On a cluster each group job is one allocation that runs its jobs
# with Snakemake on the node; workflow/profiles/slurm/config.yaml's `group-components` says how many unconnected
# jobs of a group share one. A run on one machine (the local executor) ignores groups: its jobs and results are the
# same with or without them. Wide training jobs, wide final fits and the image studies (minutes each) are in no
# group: each is its own allocation, so that they run side by side on as many nodes. Jobs of one group that depend
# on each other (directly) are always in one group job; a group must never wait for a job outside it that waits
# for the group, hence the report (it waits for the figures, which wait for the tables) is in none.
GROUP_PREPARE = "prepare"  # data preparation, the folds, the duplicate search
GROUP_SMALL = "small"  # narrow training: stacks, sweep points, section 4.2's protocols, narrow final fits, the clock
GROUP_RECIPE = "recipe"  # the universal workflow's steps (one task's steps form a chain) and the last-layer table
GROUP_TABLES = "tables"  # collecting the metrics, the claims and the tables the report reads
GROUP_FIGURES = "figures"  # the figures, each independent of the others


def training_group(wildcards):
    """A training job's group: none for a (part of a) wide experiment, the small jobs' group otherwise."""
    return None if training_is_wide(wildcards.protocol, wildcards.job) else GROUP_SMALL


def final_fit_group(wildcards):
    return None if wide_model(wildcards.experiment) else GROUP_SMALL


def pretraining_config():
    """What the study reads: its block, the reference model and the book's training settings (editing any reruns it)."""
    reference = config["roles"]["reference"]
    return {"seed": config["seed"], "data": {"imdb": {"num_words": config["data"]["imdb"]["num_words"]}},
            "editions": config["editions"], "training": config["training"], "roles": {"reference": reference},
            "experiments": {reference: config["experiments"][reference]}, "pretraining": config["pretraining"]}
