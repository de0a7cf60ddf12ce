from overfit.jobs import run
from overfit.jobs.pretraining import figure

run(snakemake, figure)  # noqa: F821 (snakemake is the object Snakemake injects)
