from overfit.jobs import run
from overfit.jobs.images import clock

run(snakemake, clock)  # noqa: F821 (snakemake is the object Snakemake injects)
