"""The software the jobs run with on a cluster: workflow/envs/overfit.yaml (conda), its post-deploy script (the
project itself), and the container recipe, kept in step with pyproject.toml's pins."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import yaml

from conftest import REPO

ENVS = REPO / "workflow" / "envs"
ENV_FILE = ENVS / "overfit.yaml"
POST_DEPLOY = ENVS / "overfit.post-deploy.sh"
RECIPES = [REPO / "workflow" / "envs" / "overfit.def", REPO / "workflow" / "envs" / "Dockerfile"]


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def pins(requirements: list[str]) -> dict[str, str]:
    found = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", requirement.strip())
        assert match, f"{requirement!r} is not pinned (name==version)"
        found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def env_file() -> dict:
    return yaml.safe_load(ENV_FILE.read_text())


def pip_section(env: dict) -> list[str]:
    sections = [item["pip"] for item in env["dependencies"] if isinstance(item, dict) and "pip" in item]
    assert len(sections) == 1, "overfit.yaml must have one pip section"
    return sections[0]


def test_the_environment_pins_exactly_what_pyproject_pins():
    env = env_file()
    assert pins(pip_section(env)) == pins(project()["dependencies"])
    assert "pip" in env["dependencies"]


def test_the_environments_python_is_one_the_project_accepts():
    (python,) = [d for d in env_file()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    version = python.partition("=")[2]
    minimum = project()["requires-python"].removeprefix(">=")
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))
    # the container installs on the same Python
    for recipe in RECIPES:
        assert f"python:{version}" in recipe.read_text() or f"python{version}" in recipe.read_text(), recipe


def test_every_rule_runs_in_that_environment():
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        text = rules.read_text()
        assert text.count("\nrule ") == text.count('conda:\n        "../envs/overfit.yaml"'), rules


def test_the_container_recipes_install_the_pinned_project():
    for recipe in RECIPES:
        text = recipe.read_text()
        # the project with its dependencies, which pyproject.toml pins (checked above): nothing unpinned beside
        assert re.search(r"pip install --no-cache-dir /opt/overfit\b(?!/)", text), recipe
        assert "pyproject.toml" in text and "src" in text, recipe
        assert [line for line in text.splitlines() if "pip install" in line] == \
            [line for line in text.splitlines() if "pip install --no-cache-dir /opt/overfit" in line], recipe


def online(host: str = "pypi.org") -> bool:
    try:
        socket.create_connection((host, 443), timeout=5).close()
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_the_pip_section_resolves_against_the_package_index(tmp_path):
    if not online():
        pytest.skip("pypi.org cannot be reached from here: the resolution cannot be checked")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(pip_section(env_file())) + "\n")
    # the environment's Python is this one's (3.11): resolve for it, everything from the index, nothing installed
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                             "--report", str(tmp_path / "report.json"), "-r", str(requirements)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    installed = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
                 for item in json.loads((tmp_path / "report.json").read_text())["install"]}
    for name, version in pins(pip_section(env_file())).items():
        assert installed[name] == version, name


def site_packages(environment: Path) -> Path:
    (folder,) = (environment / "lib").glob("python3*/site-packages")
    return folder


def run_post_deploy(tmp_path: Path, cwd: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """The post-deploy script as Snakemake runs it: in the new environment (here a virtual environment that sees
    this one's packages, as the conda one has its own), from the folder Snakemake runs in."""
    environment = tmp_path / "env"
    if not environment.exists():
        venv.EnvBuilder(with_pip=True).create(environment)
        # the dependencies: this environment's (overfit.yaml's pins), seen through a .pth file, after its own
        (site_packages(environment) / "zz_dependencies.pth").write_text(
            "\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("OVERFIT_SOURCE", "PYTHONPATH")}
    env["PATH"] = f"{environment / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(environment)
    env.update(extra_env or {})
    return subprocess.run(["bash", str(POST_DEPLOY)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_post_deploy_script_installs_the_project_from_the_workflows_root(tmp_path):
    if not online():
        pytest.skip("pypi.org cannot be reached from here: pip cannot fetch setuptools to build the project")
    result = run_post_deploy(tmp_path, REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    # the project, installed in the environment itself and editable: it imports the workflow's own source
    assert f"overfit {REPO / 'src' / 'overfit' / '__init__.py'}" in result.stdout
    installed = [p.name for p in site_packages(tmp_path / "env").iterdir() if "overfit" in p.name]
    assert any(name.startswith("__editable__") for name in installed), installed
    assert any(name.startswith("overfit-0.1.0") and name.endswith(".dist-info") for name in installed), installed


def test_the_post_deploy_script_refuses_a_folder_that_is_not_the_project(tmp_path):
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    result = run_post_deploy(tmp_path, elsewhere)
    assert result.returncode != 0
    assert "is not the overfit project" in result.stderr and "OVERFIT_SOURCE" in result.stderr
