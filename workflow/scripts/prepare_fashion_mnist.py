from overfit.jobs import prepare_fashion_mnist, run

run(snakemake, prepare_fashion_mnist)  # noqa: F821 (snakemake is the object Snakemake injects)
