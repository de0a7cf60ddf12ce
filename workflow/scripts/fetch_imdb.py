from overfit.jobs import run
from overfit.jobs.data import fetch_imdb

run(snakemake, fetch_imdb)  # noqa: F821 (snakemake is the object Snakemake injects)
