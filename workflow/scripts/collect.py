from overfit.jobs import run
from overfit.jobs.report import collect

run(snakemake, collect)  # noqa: F821 (snakemake is the object Snakemake injects)
