"""Config mistakes are refused before any job, with the key, the bad value and what is allowed."""

import copy
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml

from conftest import REPO, build_mirror, run_snakemake, write_config
from overfit.checks import check_file
from overfit.errors import ConfigError

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def refused(tmp_path, base_config, edit) -> str:
    """The message check_file gives for the config with ``edit`` applied."""
    config = copy.deepcopy(base_config)
    edit(config)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        check_file(path, SCHEMA)
    return str(error.value)


CASES = {
    "one fold": (lambda c: c["protocols"]["kfold"].update(folds=1),
                 ["protocols.kfold.folds", "1 is less than the minimum of 2"]),
    "unknown kind": (lambda c: c["protocols"]["kfold"].update(kind="kfolds"),
                     ["protocols.kfold.kind", "'kfolds' is not one of", "'grouped_kfold'", "'holdout'"]),
    "hold-out as large as the data": (lambda c: c["protocols"]["holdout"].update(validation_size=25000),
                                      ["protocols.holdout.validation_size: 25000", "has 25000", "at most 24999"]),
    "hold-out larger than the data": (lambda c: c["protocols"]["holdout"].update(validation_size=30000),
                                      ["protocols.holdout.validation_size: 30000", "at most 24999"]),
    "more folds than reviews": (lambda c: c["protocols"]["kfold"].update(folds=30000),
                                ["protocols.kfold.folds: 30000", "at most 12500"]),
    "a setting of another kind": (lambda c: c["protocols"]["holdout"].update(folds=4),
                                  ["protocols.holdout: folds does not apply to kind 'holdout'", "validation_size"]),
    "hold-out without its size": (lambda c: c["protocols"]["holdout"].pop("validation_size"),
                                  ["protocols.holdout", "'validation_size' is a required property"]),
    "a role naming nothing": (lambda c: c["roles"].update(reference="orignal"),
                              ["roles.reference: 'orignal' is not an experiment", "original"]),
    "a sweep's axis misspelt": (lambda c: c["sweeps"]["l2_strength"]["grid"].update(l3=[0.1]),
                                ["sweeps.l2_strength.grid", "'l3' was unexpected"]),
    "a sweep's values not a list": (lambda c: c["sweeps"]["l2_strength"]["grid"].update(l2=0.1),
                                    ["sweeps.l2_strength.grid.l2", "0.1 is not of type 'array'"]),
    "a sweep on a protocol that is not there": (lambda c: c["sweeps"]["l2_strength"].update(protocol="kfold_by_film"),
                                                ["sweeps.l2_strength.protocol: 'kfold_by_film' is not a protocol"]),
    "a sweep role naming nothing": (lambda c: c["roles"].update(capacity_map="capacty"),
                                    ["roles.capacity_map: 'capacty' is not a sweep", "capacity"]),
}


@pytest.mark.parametrize("case", CASES)
def test_config_mistake_is_refused_with_key_value_and_what_is_allowed(tmp_path, base_config, case):
    edit, expected = CASES[case]
    message = refused(tmp_path, base_config, edit)
    for part in expected:
        assert part in message, message


def test_yaml_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "config.yaml"
    text = (REPO / "config" / "config.yaml").read_text().replace("seed: 0", "seed: 0: 1", 1)
    path.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("seed: 0: 1"))
    result = subprocess.run([sys.executable, "-m", "overfit.checks", str(path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{path}, line {line}, column 8: not valid YAML: mapping values are not allowed here" in result.stderr


def test_a_size_mistake_stops_snakemake_before_any_job(tmp_path, base_config):
    config = copy.deepcopy(base_config)
    config["protocols"]["holdout"]["validation_size"] = 30000
    path = write_config(tmp_path / "config.yaml", config)
    result = run_snakemake(tmp_path, "--configfile", str(path), "-n")
    assert result.returncode != 0 and "protocols.holdout.validation_size: 30000" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()


def test_a_killed_run_leaves_a_lock_and_make_reproduce_says_how_to_lift_it(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Snakefile", "workflow", "config", "Makefile", "pyproject.toml"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, repo / name)
    shutil.copytree(REPO / "src" / "overfit", repo / "src" / "overfit", ignore=shutil.ignore_patterns("__pycache__"))
    mirror = build_mirror(tmp_path / "mirror")
    settings = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    settings["data"] = mirror["data"]
    (repo / "config" / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    env = {**os.environ, "OVERFIT_DATA_MIRROR": str(mirror["folder"])}
    venv = REPO / ".venv"
    log = (tmp_path / "first-run.log").open("w")
    run = subprocess.Popen([str(venv / "bin" / "snakemake"), "--cores", "1"], cwd=repo, env=env, start_new_session=True,
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not list((repo / ".snakemake" / "locks").glob("*.lock")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert list((repo / ".snakemake" / "locks").glob("*.lock")), (tmp_path / "first-run.log").read_text()[-3000:]
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # kill -9, as a user's crash would
        run.wait()
    # The project's own environment, marked as installed: make must not (re)install the package from this copy,
    # which would point the shared .venv's editable install here.
    installed = tmp_path / "installed"
    installed.touch()
    result = subprocess.run(["make", "-C", str(repo), "reproduce", f"VENV={venv}", f"STAMP={installed}"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "snakemake --unlock && make reproduce" in result.stdout, result.stdout + result.stderr
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import overfit; print(overfit.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path).stdout
    assert where.startswith(str(REPO / "src")), where  # the environment still runs the project's code
