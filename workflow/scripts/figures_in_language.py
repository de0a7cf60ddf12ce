from overfit.jobs import run
from overfit.jobs.report import figures_in_language

run(snakemake, figures_in_language)  # noqa: F821 (snakemake is the object Snakemake injects)
