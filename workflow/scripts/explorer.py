from overfit.jobs import run
from overfit.jobs.explorer import explorer

run(snakemake, explorer)  # noqa: F821 (snakemake is the object Snakemake injects)
