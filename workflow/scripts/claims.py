from overfit.jobs import run
from overfit.jobs.report import claims

run(snakemake, claims)  # noqa: F821 (snakemake is the object Snakemake injects)
