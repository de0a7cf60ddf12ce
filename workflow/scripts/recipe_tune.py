from overfit.jobs import run
from overfit.jobs.recipe import tune

run(snakemake, tune)  # noqa: F821 (snakemake is the object Snakemake injects)
