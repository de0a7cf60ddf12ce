"""Where the results came from: code version, package versions, data digest, per-job time and memory."""

from __future__ import annotations

import hashlib
import json
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


# What makes two claims tables comparable (make seed-check): the same code and the same config but for its seed.
COMPARED_ACROSS = ("seed",)
PROVENANCE = "claims_provenance.json"  # beside claims.csv: what made it, section by section and file by file


def _short(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def config_digests(config: dict) -> dict[str, str]:
    """A digest per top-level section of the config, the seed left out (two seeds of one config compare)."""
    return {key: _short(json.dumps(value, sort_keys=True, default=str).encode())
            for key, value in sorted(config.items()) if key not in COMPARED_ACROSS}


def code_digests(package: str | Path | None = None) -> dict[str, str]:
    """A digest per source file of the package (Python and the compiled kernel's C++): the code that ran."""
    if package is None:
        import overfit

        package = Path(overfit.__file__).parent
    package = Path(package)
    return {str(path.relative_to(package.parent)): _short(path.read_bytes())
            for path in sorted(package.rglob("*")) if path.suffix in (".py", ".cc") and "__pycache__" not in path.parts}


def fingerprint(digests: dict[str, str]) -> str:
    """One digest of many: what a claims table's row records (``config_hash``, ``code_hash``)."""
    return _short(json.dumps(digests, sort_keys=True).encode())


def differences(first: dict, second: dict) -> list[str]:
    """The keys (config sections, code files) whose digests differ, or that only one side has."""
    return sorted(key for key in first.keys() | second.keys() if first.get(key) != second.get(key))
