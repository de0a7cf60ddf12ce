from overfit.jobs import run
from overfit.jobs.recipe import final

run(snakemake, final)  # noqa: F821 (snakemake is the object Snakemake injects)
