from overfit.jobs import run
from overfit.jobs.pretraining import study

run(snakemake, study)  # noqa: F821 (snakemake is the object Snakemake injects)
