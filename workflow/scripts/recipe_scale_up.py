from overfit.jobs import run
from overfit.jobs.recipe import scale_up

run(snakemake, scale_up)  # noqa: F821 (snakemake is the object Snakemake injects)
