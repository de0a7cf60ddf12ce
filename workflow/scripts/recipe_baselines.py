from overfit.jobs import run
from overfit.jobs.recipe import baselines

run(snakemake, baselines)  # noqa: F821 (snakemake is the object Snakemake injects)
