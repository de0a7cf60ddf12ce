from overfit.jobs import run
from overfit.jobs.recipe import last_layer

run(snakemake, last_layer)  # noqa: F821 (snakemake is the object Snakemake injects)
