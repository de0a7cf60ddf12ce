from overfit.jobs import run
from overfit.jobs.report import tuning_leak

run(snakemake, tuning_leak)  # noqa: F821 (snakemake is the object Snakemake injects)
