from overfit.jobs import run
from overfit.jobs.data import prepare_imdb

run(snakemake, prepare_imdb)  # noqa: F821 (snakemake is the object Snakemake injects)
