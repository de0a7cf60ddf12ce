from overfit.jobs import run
from overfit.jobs.recipe import problem

run(snakemake, problem)  # noqa: F821 (snakemake is the object Snakemake injects)
