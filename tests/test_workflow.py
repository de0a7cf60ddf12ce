"""The workflow as users run it: real Snakemake runs on the tiny data, a dry run, the linter."""

import json

import numpy as np
import pytest

from conftest import REPO, run_snakemake, write_config

DATA_TARGETS = [
    "results/data/imdb/train.npz",
    "results/data/imdb/manifest.json",
    "results/data/fashion_mnist/train.npz",
    "results/data/fashion_mnist/test.npz",
]


@pytest.mark.pipeline
def test_data_rules_prepare_the_tiny_data_sets(tmp_path, base_config, mirror):
    config = write_config(tmp_path / "config.yaml", base_config, data=mirror["data"])
    result = run_snakemake(tmp_path, "--configfile", str(config), "--cores", "2", *DATA_TARGETS, mirror=mirror["folder"])
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "results/data/imdb/manifest.json").read_text())
    assert manifest["splits"]["train"] == {"reviews": 24, "positive": 12, "mean_unique_ids": manifest["splits"]["train"]["mean_unique_ids"]}
    assert manifest["reviews_sha256"] == mirror["data"]["imdb"]["reviews_sha256"]
    with np.load(tmp_path / "results/data/fashion_mnist/train.npz") as train:
        assert train["images"].shape == (60, 28, 28) and train["labels"].shape == (60,)
    # a second run has nothing to do
    again = run_snakemake(tmp_path, "--configfile", str(config), "--cores", "2", *DATA_TARGETS, mirror=mirror["folder"])
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.pipeline
def test_damaged_archive_stops_the_run_before_any_later_job(tmp_path, base_config, mirror):
    config = write_config(tmp_path / "config.yaml", base_config, data=mirror["data"])
    archive = mirror["archive"]
    archive.write_bytes(archive.read_bytes()[:-200])
    result = run_snakemake(tmp_path, "--configfile", str(config), "--cores", "1", *DATA_TARGETS, mirror=mirror["folder"])
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "ERROR: aclImdb_v1.tar.gz: checksum mismatch" in output
    assert not (tmp_path / "resources" / "aclImdb_v1.tar.gz").exists()
    assert not (tmp_path / "results" / "data" / "imdb").exists()
    assert list((tmp_path / "resources").glob("*.part")) == []


@pytest.mark.pipeline
def test_missing_mirror_file_names_the_file_and_the_variable(tmp_path, base_config, mirror):
    config = write_config(tmp_path / "config.yaml", base_config, data=mirror["data"])
    mirror["archive"].unlink()
    result = run_snakemake(tmp_path, "--configfile", str(config), "--cores", "1", DATA_TARGETS[0], mirror=mirror["folder"])
    assert result.returncode != 0
    assert "aclImdb_v1.tar.gz: not found in the mirror folder" in result.stderr + result.stdout


@pytest.mark.pipeline
def test_bad_config_value_is_refused_before_any_job(tmp_path, base_config):
    config = write_config(tmp_path / "config.yaml", base_config, seed=-1)
    result = run_snakemake(tmp_path, "--configfile", str(config), "-n")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Failed validating 'minimum'" in output and "['seed']" in output


@pytest.mark.pipeline
def test_dry_run_of_the_whole_workflow(tmp_path):
    result = run_snakemake(REPO, "-n", "--cores", "2", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.pipeline
def test_lint_has_no_findings():
    result = run_snakemake(REPO, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr
