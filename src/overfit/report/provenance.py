"""Where the results came from: code version, package versions, data digest, per-job time and memory."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ["overfit", "snakemake", "jax", "jaxlib", "flax", "optax", "numpy", "pandas", "scikit-learn", "seaborn", "matplotlib"]


def code_version(repository: str | Path) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repository,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes" if dirty else "")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def job_benchmarks(paths: list[str | Path], root: str | Path = "results/benchmarks"):
    """One row per job from Snakemake's `benchmark:` files: wall seconds and peak resident memory."""
    import pandas as pd  # here: Snakemake imports this module while it builds the DAG

    rows = []
    for path in paths:
        table = pd.read_csv(path, sep="\t")
        job = str(Path(path).relative_to(root).with_suffix(""))
        rows.append({"job": job, "seconds": float(table.s.iloc[0]), "max_rss_mb": float(pd.to_numeric(table.max_rss, errors="coerce").iloc[0])})
    return pd.DataFrame(rows, columns=["job", "seconds", "max_rss_mb"]).sort_values("job", ignore_index=True)


def protocol_seconds(paths: list[str | Path], shared_by: list[int], root: str | Path = "results/benchmarks") -> dict[str, float]:
    """Training seconds per protocol from the ``benchmark:`` files of training jobs (train/<protocol>/<job>.tsv),
    each job's time divided by ``shared_by`` (how many experiments it trains: a stack's time split evenly, a
    rough share since they share its steps)."""
    jobs = job_benchmarks(paths, root)  # sorted by job: match the shares by name
    shares = dict(zip((str(Path(p).relative_to(root).with_suffix("")) for p in paths), shared_by))
    seconds = jobs.seconds / jobs.job.map(shares)
    return seconds.groupby(jobs.job.str.split("/").str[1]).sum().to_dict()
