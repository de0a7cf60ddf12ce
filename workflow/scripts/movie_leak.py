from overfit.jobs import run
from overfit.jobs.report import movie_leak

run(snakemake, movie_leak)  # noqa: F821 (snakemake is the object Snakemake injects)
