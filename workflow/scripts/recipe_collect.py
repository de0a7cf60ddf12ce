from overfit.jobs import run
from overfit.jobs.recipe import collect

run(snakemake, collect)  # noqa: F821 (snakemake is the object Snakemake injects)
