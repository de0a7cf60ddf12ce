from overfit.jobs import run
from overfit.jobs.data import folds

run(snakemake, folds)  # noqa: F821 (snakemake is the object Snakemake injects)
