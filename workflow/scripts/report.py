from overfit.jobs import run
from overfit.jobs.report import report

run(snakemake, report)  # noqa: F821 (snakemake is the object Snakemake injects)
