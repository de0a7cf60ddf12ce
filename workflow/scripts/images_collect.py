from overfit.jobs import run
from overfit.jobs.images import collect

run(snakemake, collect)  # noqa: F821 (snakemake is the object Snakemake injects)
