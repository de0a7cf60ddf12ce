from overfit.jobs import run
from overfit.jobs.data import prepare_fashion_mnist

run(snakemake, prepare_fashion_mnist)  # noqa: F821 (snakemake is the object Snakemake injects)
