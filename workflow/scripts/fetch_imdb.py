from overfit.jobs import fetch_imdb, run

run(snakemake, fetch_imdb)  # noqa: F821 (snakemake is the object Snakemake injects)
