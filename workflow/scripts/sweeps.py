from overfit.jobs import run
from overfit.jobs.report import sweeps

run(snakemake, sweeps)  # noqa: F821 (snakemake is the object Snakemake injects)
