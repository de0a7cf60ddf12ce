from overfit.jobs import prepare_imdb, run

run(snakemake, prepare_imdb)  # noqa: F821 (snakemake is the object Snakemake injects)
