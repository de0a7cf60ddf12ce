from overfit.jobs import run
from overfit.jobs.recipe import power

run(snakemake, power)  # noqa: F821 (snakemake is the object Snakemake injects)
