from overfit.jobs import run
from overfit.jobs.train import train

run(snakemake, train)  # noqa: F821 (snakemake is the object Snakemake injects)
