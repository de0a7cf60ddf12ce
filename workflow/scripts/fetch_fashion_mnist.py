from overfit.jobs import run
from overfit.jobs.data import fetch_fashion_mnist

run(snakemake, fetch_fashion_mnist)  # noqa: F821 (snakemake is the object Snakemake injects)
