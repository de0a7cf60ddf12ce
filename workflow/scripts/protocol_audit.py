from overfit.jobs import run
from overfit.jobs.report import protocol_audit

run(snakemake, protocol_audit)  # noqa: F821 (snakemake is the object Snakemake injects)
