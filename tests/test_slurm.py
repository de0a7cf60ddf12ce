"""The workflow on a real single-node SLURM cluster started by the test (see tests/slurm_cluster.py)."""

import tempfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, run_snakemake
from slurm_cluster import local_slurm_cluster, unavailable_reason

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

# the narrow stack of the hold-out, and the wide model's grouped K-fold: in two parts (two cluster jobs) on SLURM
TARGETS = ["results/metrics/holdout/narrow.parquet", "results/metrics/kfold_by_movie/bigger.part1.parquet",
           "results/metrics/kfold_by_movie/bigger.part2.parquet"]
SLURM = [
    "--profile", str(REPO / "workflow" / "profiles" / "slurm"),
    # this test cluster has no accounting database: poll with squeue (MinJobAge=600 there)
    "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
    "--latency-wait", "5", "--default-resources", "slurm_partition=debug", "slurm_account=root", "mem_mb=1000", "runtime=10",
]


@pytest.fixture(scope="module")
def cluster():
    with local_slurm_cluster(Path(tempfile.mkdtemp(prefix="overfit-slurm-"))) as env:
        yield env


def run_on(cluster_env, workdir, config, *args, mirror):
    import os

    saved = dict(os.environ)
    os.environ.update(cluster_env)
    try:
        return run_snakemake(workdir, f"--configfile={config}", *args, mirror=mirror, timeout=900)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_slurm_run_gives_the_same_results_as_a_local_run(tmp_path, cluster, tiny_workflow):
    """On SLURM the wide model's four runs are two jobs of two; here one job of four: the same rows."""
    on_slurm = tiny_workflow["dir"] / "slurm"
    local = tiny_workflow["dir"] / "local"
    on_slurm.mkdir(), local.mkdir()
    result = run_on(cluster, on_slurm, tiny_workflow["config"], *TARGETS, *SLURM, "--config", "wide_models_per_job=2",
                    mirror=tiny_workflow["mirror"])
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    assert "slurm" in (result.stdout + result.stderr).lower()
    whole = "results/metrics/kfold_by_movie/bigger.parquet"
    here = run_snakemake(local, "--configfile", str(tiny_workflow["config"]), "--cores", "2", TARGETS[0], whole,
                         "--config", "wide_models_per_job=0", mirror=tiny_workflow["mirror"])
    assert here.returncode == 0, here.stderr[-3000:]
    assert pd.read_parquet(on_slurm / TARGETS[0]).equals(pd.read_parquet(local / TARGETS[0]))
    parts = pd.concat([pd.read_parquet(on_slurm / target) for target in TARGETS[1:]], ignore_index=True)
    assert parts.equals(pd.read_parquet(local / whole))


def test_a_job_failing_on_the_cluster_fails_the_run_and_names_its_log(tmp_path, cluster, tiny_workflow):
    import yaml

    settings = tiny_workflow["settings"]
    settings["data"]["imdb"]["reviews_sha256"] = "0" * 64  # prepare_imdb (a cluster job) refuses the data
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(settings))
    work = tmp_path / "work"
    work.mkdir()
    result = run_on(cluster, work, config, TARGETS[0], *SLURM, mirror=tiny_workflow["mirror"])
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error in rule prepare_imdb" in output and "logs/prepare_imdb.log" in output
    assert not (work / "results" / "data" / "imdb" / "train.npz").exists()
