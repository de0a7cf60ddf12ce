"""The whole workflow on tiny data with the small .test grid: every rule, the report, reruns."""

import re

import pandas as pd
import yaml

from conftest import run_snakemake


def dry_run_jobs(workflow) -> list[str]:
    result = run_snakemake(workflow["dir"], "--configfile", str(workflow["config"]), "-n", "--cores", "2", mirror=workflow["mirror"])
    assert result.returncode == 0, result.stderr[-3000:]
    return re.findall(r"rule (\w+):\n(?:.*\n)*?\s+wildcards: ([^\n]*)|localrule (\w+):", result.stdout)


def test_the_whole_pipeline_runs_on_tiny_data_and_reruns_only_what_changed(tiny_workflow):
    work = tiny_workflow["dir"]
    result = run_snakemake(work, "--configfile", str(tiny_workflow["config"]), "--cores", "2", mirror=tiny_workflow["mirror"])
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]

    metrics = pd.read_parquet(work / "results" / "metrics.parquet")
    assert list(metrics.columns) == ["experiment", "protocol", "repeat", "fold", "seed", "epoch", "split", "metric", "value", "diverged"]
    kfold = metrics[(metrics.protocol == "kfold") & (metrics.experiment == "l2")]
    assert kfold.groupby(["repeat", "fold"]).ngroups == 4 and kfold.epoch.max() == 4
    scores = pd.read_csv(work / "results" / "test_scores.csv")
    assert len(scores) == 5 * 2 + 2 and set(scores.fit) == {"final", "book_3_5"}
    assert scores.test_acc.between(0, 1).all() and (scores[scores.fit == "book_3_5"].epochs == 2).all()
    claims = pd.read_csv(work / "results" / "claims.csv")
    assert {"1a", "1b", "2a", "3b", "5", "6a"} <= set(claims.id)
    assert set(claims.verdict) <= {"holds", "does not hold", "unclear", "not run"}
    page = (work / "results" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(list((work / "results" / "figures").glob("*.png"))) >= 10
    assert "Claims of the chapter" in page and "<script" not in page

    # the same config and seed give the same numbers: retrain one job and compare
    before = pd.read_parquet(work / "results" / "metrics" / "original" / "kfold.parquet")
    again = run_snakemake(work, "--configfile", str(tiny_workflow["config"]), "--cores", "2", "--forcerun", "train",
                          "--until", "results/metrics/original/kfold.parquet", "results/metrics/original/kfold.parquet",
                          mirror=tiny_workflow["mirror"])
    assert again.returncode == 0, again.stderr[-3000:]
    assert before.equals(pd.read_parquet(work / "results" / "metrics" / "original" / "kfold.parquet"))

    # editing one experiment's settings reruns its jobs and the report, nothing else
    settings = tiny_workflow["settings"]
    settings["experiments"]["l2"]["regularizer"]["l2"] = 0.01
    tiny_workflow["config"].write_text(yaml.safe_dump(settings, sort_keys=False))
    result = run_snakemake(work, "--configfile", str(tiny_workflow["config"]), "-n", "--cores", "2", "--quiet", "rules",
                           mirror=tiny_workflow["mirror"])
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.MULTILINE))
    assert counts.get("train") == "3" and counts.get("final_fit") == "1", result.stdout
    assert "prepare_imdb" not in counts and "book_3_5_check" not in counts
