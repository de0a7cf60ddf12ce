from overfit.jobs import run
from overfit.jobs.data import duplicates

run(snakemake, duplicates)  # noqa: F821 (snakemake is the object Snakemake injects)
