"""The whole workflow on tiny data with the small .test grid: every rule, the report, reruns.

The workflow runs from a copy of the project's Snakefile, rules and sources
(the jobs still import the installed package), so that a test can edit a
source file and ask Snakemake what it would rerun without touching the
project itself.
"""

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, build_mirror, run_snakemake
from overfit import stats
from overfit.imports import module_files

# the slow tier (`make test-all`): each test runs the whole pipeline on tiny data
pytestmark = pytest.mark.pipeline


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("pipeline")
    mirror = build_mirror(root / "mirror")
    repo = root / "repo"
    repo.mkdir()
    for name in ("Snakefile", "workflow", "config"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, repo / name)
    shutil.copytree(REPO / "src" / "overfit", repo / "src" / "overfit", ignore=shutil.ignore_patterns("__pycache__"))
    settings = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    settings["data"] = mirror["data"]
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    work = root / "work"
    work.mkdir()
    workflow = {"dir": work, "repo": repo, "config": config, "mirror": mirror["folder"], "settings": settings}
    result = snakemake(workflow, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return workflow


def snakemake(workflow, *args):
    return run_snakemake(workflow["dir"], "--configfile", str(workflow["config"]), *args, mirror=workflow["mirror"],
                         snakefile=workflow["repo"] / "Snakefile")


def test_the_whole_pipeline_runs_on_tiny_data(finished):
    results = finished["dir"] / "results"
    metrics = pd.read_parquet(results / "metrics.parquet")
    assert list(metrics.columns) == ["experiment", "protocol", "repeat", "fold", "seed", "epoch", "split", "metric", "value",
                                     "diverged", "train_size", "validation_size"]
    grouped = metrics[(metrics.protocol == "kfold_by_movie") & (metrics.experiment == "l2")]
    assert grouped.groupby(["repeat", "fold"]).ngroups == 4 and grouped.epoch.max() == 4
    book = metrics[(metrics.protocol == "book") & (metrics.experiment == "smaller")]
    assert sorted(book.seed.unique()) == [0, 1]
    assert set(metrics[metrics.protocol == "holdout"].experiment) == {"original"}  # the protocol's experiments only
    assert "bigger" not in set(metrics[metrics.protocol == "kfold"].experiment)
    scores = pd.read_csv(results / "test_scores.csv")
    assert len(scores) == 8 * 2 + 2 and set(scores.fit) == {"final", "book_3_5"}
    trained = scores[scores.experiment != "runaway"]
    assert trained.test_acc.between(0, 1).all() and (scores[scores.fit == "book_3_5"].epochs == 2).all()
    # the runaway experiment (learning rate 1e30): every run it chooses epochs on diverged, so its final fit was
    # never trained, and the pipeline went on to the report
    runaway = metrics[(metrics.experiment == "runaway") & (metrics.protocol == "kfold_by_movie")]
    assert runaway.groupby(["repeat", "fold", "seed"]).diverged.any().all()
    assert scores[scores.experiment == "runaway"].diverged.all() and scores[scores.experiment == "runaway"].test_acc.isna().all()
    assert not trained.diverged.any()

    claims = pd.read_csv(results / "claims.csv")
    chapter = yaml.safe_load((REPO / "config" / "chapter.yaml").read_text())
    assert set(claims.id) == {row["id"] for row in chapter["claims"]}
    for column in ("method", "low", "high", "naive_low", "naive_high", "claimed", "words", "verdict", "steps_per_epoch"):
        assert column in claims.columns
    assert set(claims.verdict) <= set(stats.VERDICTS) and set(claims.verdict_adjusted) <= set(stats.VERDICTS)
    assert claims.history.str.len().gt(10).all() and claims.config_hash.nunique() == claims.code_hash.nunique() == 1
    assert (results / "claims_provenance.json").exists()
    ran = claims.dropna(subset=["low"])
    assert len(ran) >= 10 and ((ran.low <= ran.value) & (ran.value <= ran.high)).all()
    assert {"holdout", "book", "kfold_by_movie"} <= set(claims.protocol)
    assert set(pd.read_csv(results / "movie_leak.csv").experiment) == {"original", "smaller", "l2", "dropout"}

    # the sweeps: each point trained on the first repeat's two folds; included experiments on the same runs
    table = pd.read_csv(results / "sweeps.csv")
    capacity = table[table.sweep == "capacity"]
    assert list(capacity.experiment) == ["capacity-width_2-depth_1", "capacity-width_8-depth_1", "capacity-width_8-depth_3",
                                         "smaller", "original"]
    assert (table.runs == 2).all() and list(capacity.included) == [False] * 3 + [True] * 2
    sizes = table[table.sweep == "data_size"].set_index("experiment").train_reviews
    assert sizes["data_size-train_size_4"] == 4 and sizes["data_size-train_size_8"] == 8 and sizes["original"] > 8
    points = metrics[metrics.experiment == "capacity-width_8-depth_3"]
    assert set(points.protocol) == {"kfold_by_movie"} and set(points["repeat"]) == {0}
    for claim in ("4d", "5e", "5g"):  # a sweep's trend, L2 and decay under SGD (new experiments), and under RMSprop
        assert claims.set_index("id").loc[claim, "verdict"] != "not run", claim

    # section 4.2 measured: the audit's rows (an iterated K-fold among them), the leak curves, the duplicates
    audit = pd.read_csv(results / "protocol_audit.csv")
    assert set(audit.protocol) == set(finished["settings"]["roles"]["audited"])
    assert {"iterated ×2"} <= set(audit.estimate) and audit.spread_derived.any()
    assert (audit[audit.estimate == "single"].estimates >= 1).all() and audit.seconds.gt(0).all()
    tuned = metrics[metrics.protocol == "tuning_holdout"]
    assert set(tuned.split) == {"train", "validation", "test"} and tuned.experiment.str.startswith("search-").all()
    assert tuned.epoch.max() == 3  # the protocol's own epochs
    nested = metrics[metrics.protocol == "tuning_nested"]
    assert "test" not in set(nested.split) and nested.groupby(["repeat", "fold"]).ngroups == 4
    leak = pd.read_csv(results / "tuning_leak.csv")
    assert set(leak.protocol) == {"tuning_holdout", "tuning_kfold", "tuning_nested"} and leak.configs.max() == 3
    assert set(pd.read_csv(results / "duplicates.csv").kind) == {"identical", "near (Jaccard ≥ 0.8)"}
    # the tiny reviews have no duplicate across the split: the duplicates' lift has nothing to train, and says so
    # (tests/test_evaluation_protocols.py trains it where there are some)
    lift = pd.read_csv(results / "duplicate_leak.csv")
    assert lift.empty and list(lift.columns) == ["arm", "seed", "epoch", "scored", "loss", "acc", "rows"]
    assert claims.set_index("id").loc["10l", "detail"].startswith("no test review has a duplicate")
    by_id = claims.set_index("id")
    assert {"10a", "10b", "10c", "10d", "10e", "10f", "10g"} <= set(by_id.index)
    assert by_id.loc["10d", "verdict"] != "not run" and by_id.loc["10e", "verdict"] != "not run"

    # the experiments on images and the clock: every arm and seed; the saved predictions give the table's last values
    studies = pd.read_csv(results / "images.csv")
    assert set(studies.study) == {"noise_channels", "missing_values"} and set(studies.seed) == {0, 1}
    assert set(studies[studies.study == "missing_values"].split) == {"train", "validation", "validation_missing"}
    with np.load(results / "images" / "missing_values_predictions.npz") as saved:
        scores, y = saved["augmented/1/validation_missing"], saved["augmented/1/validation_missing/labels"]
    last = studies[(studies.arm == "augmented") & (studies.seed == 1) & (studies.epoch == 2)
                   & (studies.split == "validation_missing")].set_index("metric").value
    assert last["acc"] == pytest.approx((scores.argmax(1) == y).mean(), rel=1e-5)  # the table keeps 6 digits
    assert last["loss"] == pytest.approx(-np.log(np.clip(scores[np.arange(len(y)), y], 1e-7, 1)).mean(), rel=1e-4)
    readings = pd.read_csv(results / "clock.csv")
    # 2 sizes × 2 seeds per learned representation; the convnet at its own one size; the rule once
    assert readings.groupby("representation").size().to_dict() == {"angles": 4, "pixels": 4, "tips": 4, "turns": 4,
                                                                    "convnet": 2, "rule": 1}
    assert by_id.loc["11a", "verdict"] != "not run" and by_id.loc["12d", "verdict"] != "not run"
    assert by_id.loc["12f", "verdict"] != "not run" and by_id.loc["11b", "verdict"] == "not run"  # not in the tiny grid

    page = (results / "report.html").read_text()
    assert "Preparing the data" in page and "The clock" in page
    assert "Evaluation protocols, measured" in page and "The information leak" in page and "sorted_split" in page
    assert "Sweeps: curves, not points" in page and "capacity-width_8-depth_3" in page
    assert page.count("data:image/png;base64,") == len(list((results / "figures").glob("*.png"))) >= 10
    assert "Claims of the chapter" in page and "The movie leak" in page and "seed by seed" in page
    runs = re.search(r"<tr><td>runaway</td><td>kfold_by_movie</td><td class=num>(\d+)</td><td class=num>(\d+)</td>", page)
    assert runs and runs.group(1) == runs.group(2) == "4"  # the report counts the diverged runs
    assert "<script" not in page


def test_the_same_config_and_seed_give_the_same_numbers(finished):
    target = "results/metrics/kfold_by_movie/narrow.parquet"  # the stack of the narrow experiments
    before = pd.read_parquet(finished["dir"] / target)
    again = snakemake(finished, "--cores", "2", "--forcerun", "train", "--until", target, target)
    assert again.returncode == 0, again.stderr[-3000:]
    assert before.equals(pd.read_parquet(finished["dir"] / target))
    # the same numbers, so what was built from them stands: mark it up to date for the tests that follow
    assert snakemake(finished, "--touch", "--cores", "1").returncode == 0


def dry_run(workflow) -> str:
    result = snakemake(workflow, "-n", "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_editing_one_experiment_reruns_only_its_jobs(finished):
    settings = yaml.safe_load(finished["config"].read_text())
    edited = finished["dir"].parent / "edited.yaml"
    settings["experiments"]["l2"]["regularizer"]["l2"] = 0.01
    edited.write_text(yaml.safe_dump(settings, sort_keys=False))
    result = run_snakemake(finished["dir"], "--configfile", str(edited), "-n", "--cores", "2", "--quiet", "rules",
                           mirror=finished["mirror"], snakefile=finished["repo"] / "Snakefile")
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, re.MULTILINE))
    # the narrow stack it trains in under book, kfold_by_movie and kfold; not the wide bigger's parts, not the
    # runaway (a stack of its own: another learning rate); the final fits of the stacks' members, whose tables
    # are rewritten (with the same numbers for the others)
    assert counts.get("train") == "3" and counts.get("final_fit") == "4", result.stdout
    assert "prepare_imdb" not in counts and "book_3_5_check" not in counts


def test_editing_one_sweep_value_trains_only_the_point_it_makes(finished):
    settings = yaml.safe_load(finished["config"].read_text())
    edited = finished["dir"].parent / "edited_sweep.yaml"
    settings["sweeps"]["capacity"]["grid"][0]["width"] = [2, 4]  # 8 → 4
    edited.write_text(yaml.safe_dump(settings, sort_keys=False))
    result = run_snakemake(finished["dir"], "--configfile", str(edited), "-n", "--cores", "2",
                           mirror=finished["mirror"], snakefile=finished["repo"] / "Snakefile")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_blocks(result.stdout)
    assert [log for log, job in jobs.items() if job["rule"] == "train"] == ["logs/train/kfold_by_movie/capacity-width_4-depth_1.log"]
    assert not any(job["rule"] == "final_fit" for job in jobs.values())  # a point has no final fit


def job_blocks(output: str) -> dict[str, dict]:
    """Each job a dry run lists, by its log file: its rule, its inputs and the reason it would run."""
    jobs = {}
    # (a job of a group, the rules' `group:`, is printed indented under its group job)
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", output):
        rule = re.match(r"(?:local)?rule (\w+):", block.strip())
        log = re.search(r"^\s+log: (\S+)", block, re.MULTILINE)
        if not (rule and log):
            continue
        inputs = re.search(r"^\s+input: (.*)$", block, re.MULTILINE)
        reason = re.search(r"^\s+reason: (.*)$", block, re.MULTILINE)
        jobs[log.group(1)] = {"rule": rule.group(1), "inputs": set(inputs.group(1).split(", ")) if inputs else set(),
                              "reason": reason.group(1) if reason else ""}
    return jobs


def modules_loaded(log: Path) -> set[str]:
    line = next(line for line in log.read_text().splitlines() if "package modules loaded:" in line)
    return set(line.split("package modules loaded:")[1].split())


def test_every_jobs_code_inputs_are_exactly_the_modules_it_imported(finished):
    """A job's code inputs (what Snakemake compares with its outputs) against what the job really imported.

    Snakemake reruns a job when one of its inputs is newer than its outputs,
    so these being equal, job by job, is what makes editing a module rerun
    exactly the jobs that import it (and what they feed). What a job
    imported is recorded in its log as it ran.
    """
    result = snakemake(finished, "-n", "--forceall", "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = job_blocks(result.stdout)
    files = module_files(finished["repo"] / "src")
    logs = sorted((finished["dir"] / "logs").rglob("*.log"))
    assert len(logs) >= 40 and set(jobs) == {str(log.relative_to(finished["dir"])) for log in logs}
    for log in logs:
        job = jobs[str(log.relative_to(finished["dir"]))]
        declared = {name for name in job["inputs"] if name.endswith(".py")}
        imported = {str(files[name]) for name in modules_loaded(log)}
        assert declared == imported, (log, sorted(declared ^ imported))
    # every module is some job's code, but those the workflow runs to check the config and plan the jobs, and the
    # command that compares two runs' claims (make seed-check)
    unused = {name for name, path in files.items() if not any(str(path) in job["inputs"] for job in jobs.values())}
    assert {n for n in unused if not n.startswith("overfit.checks.")} == {
        "overfit.checks", "overfit.imports", "overfit.resources", "overfit.report.compare"}


def rerun_after_editing(workflow, module: str) -> dict[str, dict]:
    path = workflow["repo"] / "src" / Path(*module.split(".")).with_suffix(".py")
    text, stat = path.read_text(), path.stat()
    try:
        path.write_text(text + "\n# edited\n")
        result = snakemake(workflow, "-n", "--cores", "2")
    finally:
        path.write_text(text)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert result.returncode == 0, result.stderr[-3000:]
    return job_blocks(result.stdout)


@pytest.mark.parametrize("module, rules", [
    ("overfit.report.leak", {"movie_leak", "report"}),  # its job, and the page that shows its table
    # the last-layer table trains on Fashion-MNIST (its table and figure); the report shows the job's time
    # and the image studies (their table, its figures and the claims it feeds); the explorer shows the images' runs
    ("overfit.data.fashion_mnist", {"prepare_fashion_mnist", "recipe_last_layer", "image_study", "images", "claims",
                                    "figure", "report", "explorer"}),
    # every IMDB training job, the 4.1 study (it trains the reference model) and all that reads their curves
    ("overfit.engine.train", {"train", "final_fit", "book_3_5_check", "collect", "claims", "movie_leak", "sweeps", "figure",
                              "protocol_audit", "tuning_leak", "recipe_power", "recipe_scale_up", "recipe_tune",
                              "recipe_final", "recipe", "recipe_threshold", "recipe_threshold_collect", "report",
                              "explorer", "pretraining", "pretraining_figure", "duplicate_leak"}),
    # the folds are drawn once per protocol; every training job of it reads them, the recipe draws its own and the
    # image studies take Keras' validation_split from it
    ("overfit.protocols", {"folds", "train", "final_fit", "book_3_5_check", "collect", "claims", "movie_leak", "sweeps",
                           "figure", "protocol_audit", "tuning_leak", "image_study", "images", "recipe_problem",
                           "recipe_protocol",
                           "recipe_baselines", "recipe_power", "recipe_scale_up", "recipe_tune", "recipe_final", "recipe",
                           "recipe_threshold", "recipe_threshold_collect", "report", "explorer", "pretraining",
                           "pretraining_figure", "duplicate_leak"}),
])
def test_editing_a_module_reruns_the_jobs_that_import_it_and_what_they_feed(finished, module, rules):
    jobs = rerun_after_editing(finished, module)
    assert {job["rule"] for job in jobs.values()} == rules
    direct = {log for log, job in jobs.items() if "Updated input files" in job["reason"]}
    assert direct and all(module in modules_loaded(finished["dir"] / log) for log in direct)
    assert "Nothing to be done" in snakemake(finished, "-n", "--cores", "2").stdout
