from overfit.jobs import fetch_fashion_mnist, run

run(snakemake, fetch_fashion_mnist)  # noqa: F821 (snakemake is the object Snakemake injects)
