from overfit.jobs import run
from overfit.jobs.data import prepare_clock

run(snakemake, prepare_clock)  # noqa: F821 (snakemake is the object Snakemake injects)
