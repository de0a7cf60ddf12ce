from overfit.jobs import run
from overfit.jobs.recipe import protocol

run(snakemake, protocol)  # noqa: F821 (snakemake is the object Snakemake injects)
