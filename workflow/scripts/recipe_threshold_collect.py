from overfit.jobs import run
from overfit.jobs.recipe import collect_threshold

run(snakemake, collect_threshold)  # noqa: F821 (snakemake is the object Snakemake injects)
