"""The workflow on a real single-node SLURM cluster started by the test (see tests/slurm_cluster.py).

The grouped run is measured: how many SLURM jobs it submits for how many Snakemake jobs, its wall time from the
first submission to the last job's end, the critical path (the longest chain of job run times, from the rules'
`benchmark:` files), and the same run here with the local executor. The numbers are printed (pytest -s not needed).
"""

import math
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, run_snakemake
from slurm_cluster import local_slurm_cluster, unavailable_reason

pytestmark = pytest.mark.slurm
needs_cluster = pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))

PROFILE = REPO / "workflow" / "profiles" / "slurm"
SLURM = [
    "--profile", str(PROFILE),
    # this test cluster has no accounting database: poll with squeue (MinJobAge=600 there)
    "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
    "--seconds-between-status-checks", "2",  # one node, one job at a time: poll often (the default is 10 s)
    "--latency-wait", "5", "--default-resources", "slurm_partition=debug", "slurm_account=root", "mem_mb=1000",
    "runtime=10",
]
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+)")


def targets(settings: dict) -> dict[str, list[str]]:
    """The small run's training tables: narrow stacks (the hold-out, section 4.2's redrawn and grouped hold-outs),
    a sweep's points (one job each), and the wide model's grouped K-fold in parts (wide_models_per_job=2)."""
    from overfit.grid import training_jobs

    jobs = training_jobs({**settings, "wide_models_per_job": 2})
    narrow = [("holdout", "narrow"), ("holdout_small", "narrow"), ("holdout_by_movie", "narrow"),
              *sorted(key for key in jobs if key[0] == "kfold_by_movie" and key[1].startswith("capacity-"))[:2]]
    wide = sorted(key for key in jobs if key[0] == "kfold_by_movie" and key[1].startswith("bigger.part"))
    assert len(narrow) == 5 and len(wide) == 2 and all(key in jobs for key in narrow), sorted(jobs)
    table = "results/metrics/{}/{}.parquet".format
    return {"narrow": [table(*key) for key in narrow], "wide": [table(*key) for key in wide]}


@pytest.fixture(scope="module")
def cluster():
    with local_slurm_cluster(Path(tempfile.mkdtemp(prefix="overfit-slurm-"))) as env:
        yield env


def run_on(cluster_env, workdir, config, *args, mirror):
    saved = dict(os.environ)
    os.environ.update(cluster_env)
    try:
        return run_snakemake(workdir, f"--configfile={config}", *args, mirror=mirror, timeout=900)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def slurm_jobs(env: dict, after: int) -> list[dict]:
    """The SLURM jobs numbered above ``after``: id, comment (the rule or group), state, submit, start and end."""
    lines = subprocess.run(["squeue", "-t", "all", "-h", "-o", "%i|%k|%T|%V|%S|%e"], capture_output=True, text=True,
                           env=env, check=True, timeout=30).stdout.split()
    jobs = []
    for line in lines:
        number, comment, state, *times = line.split("|")
        if int(number) > after:
            submit, start, end = (pd.Timestamp(t) for t in times)
            jobs.append({"id": int(number), "comment": comment, "state": state, "submit": submit, "start": start,
                         "end": end})
    return sorted(jobs, key=lambda job: job["id"])


def last_job(env: dict) -> int:
    return max((job["id"] for job in slurm_jobs(env, 0)), default=0)


def benchmark_seconds(workdir: Path) -> dict[str, float]:
    """Each job's run time, from its benchmark file (the rules' `benchmark:`), by the file's path."""
    return {str(path.relative_to(workdir / "results" / "benchmarks")): float(pd.read_csv(path, sep="\t")["s"].iloc[0])
            for path in (workdir / "results" / "benchmarks").rglob("*.tsv")}


def critical_path(seconds: dict[str, float]) -> tuple[float, list[str]]:
    """The longest chain of job run times in this run's DAG: prepare_imdb, then a protocol's folds, then one of that
    protocol's training jobs (each training job reads the prepared data and its protocol's folds, nothing else)."""
    chains = []
    for name, value in seconds.items():
        match = re.fullmatch(r"train/(\w+)/(.+)\.tsv", name)
        if match:
            chain = ["data/prepare_imdb.tsv", f"data/folds/{match.group(1)}.tsv", name]
            chains.append((sum(seconds[step] for step in chain), chain))
    return max(chains)


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = re.search(r"Model name:\s*(.+)", lscpu)
    return f"{model.group(1).strip() if model else 'unknown CPU'}, {os.cpu_count()} cores"


@needs_cluster
def test_a_grouped_slurm_run_measured_against_a_local_run(cluster, tiny_workflow, capsys):
    """The small jobs go in few SLURM jobs (groups), each wide part in one of its own; the rows are a local run's."""
    runs = targets(tiny_workflow["settings"])
    on_slurm, local = tiny_workflow["dir"] / "slurm", tiny_workflow["dir"] / "local"
    on_slurm.mkdir(), local.mkdir()
    cache = tiny_workflow["dir"] / "shared-jax-cache"  # the profile's `jax_cache`, set here as a user would
    before = last_job(cluster)
    started = time.monotonic()
    result = run_on(cluster, on_slurm, tiny_workflow["config"], *runs["narrow"], *runs["wide"], *SLURM,
                    f"jax_cache='{cache}'", "--config", "wide_models_per_job=2", mirror=tiny_workflow["mirror"])
    slurm_wall = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    jobs = slurm_jobs(cluster, before)
    # every job the plugin says it submitted, and no other, ran on the cluster and completed
    assert sorted(int(n) for n in SUBMITTED.findall(output)) == [job["id"] for job in jobs]
    assert all(job["state"] == "COMPLETED" for job in jobs), jobs

    # the Snakemake jobs that ran on the cluster: one benchmark file each (prepare_imdb, the folds, the training)
    seconds = benchmark_seconds(on_slurm)
    assert len(seconds) == 1 + len({t.split("/")[2] for t in runs["narrow"] + runs["wide"]}) + len(runs["narrow"]) + 2
    # one SLURM job for the data stage, the narrow jobs `small=N` to a SLURM job, one for each wide part
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    per_group = int(next(c for c in profile["group-components"] if c.startswith("small=")).partition("=")[2])
    assert len(jobs) == 1 + math.ceil(len(runs["narrow"]) / per_group) + len(runs["wide"]) < len(seconds)
    for part in runs["wide"]:
        name = Path(part).stem
        assert sum(name in job["comment"] for job in jobs) == 1, (name, jobs)  # a wide part is a job of its own
    # every job found the compilation cache where the profile's resource put it, on the shared file system
    assert len(list(cache.glob("*-cache"))) > 0 and not (on_slurm / ".snakemake" / "jax-cache").exists()

    # the same run on this machine with the local executor; the wide model's K-fold as one job
    whole = "results/metrics/kfold_by_movie/bigger.parquet"
    started = time.monotonic()
    here = run_snakemake(local, "--configfile", str(tiny_workflow["config"]), "--cores", "2", *runs["narrow"], whole,
                         "--config", "wide_models_per_job=0", mirror=tiny_workflow["mirror"])
    local_wall = time.monotonic() - started
    assert here.returncode == 0, here.stderr[-3000:]
    assert "Group job" not in here.stdout + here.stderr  # one machine: no groups, each job on its own
    for table in runs["narrow"]:
        assert pd.read_parquet(on_slurm / table).equals(pd.read_parquet(local / table)), table
    parts = pd.concat([pd.read_parquet(on_slurm / table) for table in runs["wide"]], ignore_index=True)
    assert parts.equals(pd.read_parquet(local / whole))

    path, chain = critical_path(seconds)
    local_seconds = benchmark_seconds(local)
    local_path, local_chain = critical_path(local_seconds)
    # no one job is most of the work: the wide experiment in parts, the longest job under half the job time
    longest = max(seconds, key=seconds.get)
    assert seconds[longest] < 0.5 * sum(seconds.values()), (longest, seconds)
    allocations = [(job["end"] - job["start"]).total_seconds() for job in jobs]
    queue_to_finish = (max(job["end"] for job in jobs) - min(job["submit"] for job in jobs)).total_seconds()
    with capsys.disabled():
        print(f"\n--- SLURM vs local, small config ({machine()}; {time.strftime('%Y-%m-%d %H:%M %Z')}) ---\n"
              f"Snakemake jobs on the cluster: {len(seconds)} ({len(runs['narrow'])} narrow training jobs, "
              f"{len(runs['wide'])} wide parts, the data stage); SLURM jobs submitted: {len(jobs)} "
              f"({', '.join(job['comment'] for job in jobs)})\n"
              f"SLURM: snakemake wall {slurm_wall:.0f} s; first submission to last end {queue_to_finish:.0f} s; "
              f"allocations ran {', '.join(f'{s:.0f}' for s in allocations)} s\n"
              f"job time {sum(seconds.values()):.0f} s; critical path {path:.0f} s "
              f"({' -> '.join(f'{step} {seconds[step]:.1f} s' for step in chain)}); longest job {longest} "
              f"{seconds[longest]:.1f} s; the next: {', '.join(f'{s} {seconds[s]:.1f} s' for s in sorted(seconds, key=seconds.get)[-4:-1][::-1])}\n"
              f"local executor (--cores 2): wall {local_wall:.0f} s; job time {sum(local_seconds.values()):.0f} s; "
              f"critical path {local_path:.0f} s ({' -> '.join(local_chain)})\n")


@needs_cluster
def test_a_job_failing_on_the_cluster_fails_the_run_and_names_its_log(tmp_path, cluster, tiny_workflow):
    settings = tiny_workflow["settings"]
    settings["data"]["imdb"]["reviews_sha256"] = "0" * 64  # prepare_imdb (in a cluster group job) refuses the data
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump(settings))
    work = tmp_path / "work"
    work.mkdir()
    result = run_on(cluster, work, config, "results/metrics/holdout/narrow.parquet", *SLURM,
                    mirror=tiny_workflow["mirror"])
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error in rule prepare_imdb" in output and "logs/prepare_imdb.log" in output, output[-5000:]
    assert not (work / "results" / "data" / "imdb" / "train.npz").exists()


def test_the_whole_small_config_on_slurm_is_a_few_allocations(tiny_workflow, capsys):
    """The SLURM profile's plan for every job of the small config (a dry run: no cluster needed): the small jobs in
    group jobs, each wide training job, wide final fit and image study in an allocation of its own."""
    result = run_snakemake(tiny_workflow["dir"], f"--configfile={tiny_workflow['config']}", "-n", *SLURM, "--config",
                           "wide_models_per_job=2", mirror=tiny_workflow["mirror"], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout
    groups = re.findall(r"Group job (\w+) \(jobs in lexicogr\. order\):", output)
    # top-level (not indented) jobs: alone in an allocation, or those of local rules, run by Snakemake itself
    top = re.findall(r"^(?:local)?rule (\w+):\n((?:    .*\n)+)", output, flags=re.M)
    local_rules = set(re.findall(r"^rule (\w+):\n(?:    .*\n|\n)*?    localrule: True", "\n".join(
        path.read_text() for path in [REPO / "Snakefile", *(REPO / "workflow" / "rules").glob("*.smk")]), flags=re.M))
    assert {"all", "fetch_imdb"} <= local_rules, local_rules
    alone = [(name, block) for name, block in top if name not in local_rules]
    local = [name for name, _ in top if name in local_rules]
    grouped = re.findall(r"^    (?:local)?rule (\w+):", output, flags=re.M)
    on_cluster = len(grouped) + len(alone)
    # the report and the explorer beside it end the run: each in an allocation of its own
    assert {name for name, _ in alone} <= {"train", "final_fit", "image_study", "report", "explorer"}, alone
    for name, block in alone:
        if name in ("train", "final_fit"):
            assert "bigger" in block, block  # only the wide model's jobs are not grouped
    assert {"prepare", "small", "recipe", "tables", "figures"} == set(groups)
    assert "train" in grouped and "folds" in grouped and "figure" in grouped
    allocations = len(groups) + len(alone)
    assert allocations * 4 < on_cluster, (allocations, on_cluster)
    with capsys.disabled():
        print(f"\nthe whole small config on SLURM: {on_cluster} cluster jobs ({len(local)} more run locally) in "
              f"{allocations} allocations: {len(groups)} group jobs, {len(alone)} alone "
              f"({', '.join(sorted(n for n, _ in alone))})")
