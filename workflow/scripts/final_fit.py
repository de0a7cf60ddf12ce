from overfit.jobs import run
from overfit.jobs.train import final_fit

run(snakemake, final_fit)  # noqa: F821 (snakemake is the object Snakemake injects)
