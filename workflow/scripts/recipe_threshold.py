from overfit.jobs import run
from overfit.jobs.recipe import threshold

run(snakemake, threshold)  # noqa: F821 (snakemake is the object Snakemake injects)
