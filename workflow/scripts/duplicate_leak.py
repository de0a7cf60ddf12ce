from overfit.jobs import run
from overfit.jobs.train import duplicate_leak

run(snakemake, duplicate_leak)  # noqa: F821 (snakemake is the object Snakemake injects)
