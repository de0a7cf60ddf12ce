"""Kill, rerun, two at once: nothing finished is redone, nothing partial is trusted, the numbers are a clean run's.

``resumed_reproduction`` (conftest.py) runs ``make reproduce`` on the tiny grid, starts a second ``make reproduce``
beside it, kills the first with kill -9 while a training job is halfway, leaves in place what a killed writer
could leave, and runs ``make reproduce`` again to the end. The tests here read what each step did; a clean run of
the same training jobs in a folder of its own is the reference.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, TRAIN_LOG, job_outputs, kill_group, run_snakemake, start_in_group, wait_for

# the slow tier (`make test-all`): whole pipelines killed, resumed and run twice at once
pytestmark = pytest.mark.pipeline

PROFILE = str(REPO / "workflow" / "profiles" / "default")  # what make passes: rerun-incomplete
STALE_LOCK = REPO / "workflow" / "stale_lock.py"


def training_tables(run: dict) -> list[str]:
    """The tables compared with a clean run's: the killed job's, and up to two the killed run had finished."""
    finished = sorted(path for path in run["kept"] if path.startswith("results/metrics/"))
    return [run["output"], *finished[:2]]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory, resumed_reproduction) -> Path:
    """The same training jobs, same config and seed, run once from scratch in a folder of their own."""
    work = tmp_path_factory.mktemp("clean")
    config = work / "config.yaml"
    config.write_text((resumed_reproduction["repo"] / "config" / "config.yaml").read_text())
    result = run_snakemake(work, "--configfile", str(config), "--cores", "2", "--workflow-profile", PROFILE,
                           *training_tables(resumed_reproduction), mirror=resumed_reproduction["mirror"])
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return work


def test_a_second_make_reproduce_in_the_folder_is_refused_naming_the_running_snakemake(resumed_reproduction):
    code, output = resumed_reproduction["second"]
    pid = resumed_reproduction["snakemake_pid"]
    assert code != 0, output
    assert "is locked by a snakemake run in progress" in output and f"PID {pid}:" in output, output
    assert f"kill {pid}" in output, output
    assert "Building DAG" not in output  # refused before any snakemake started
    # the running run's lock is untouched, and it went on (it was killed later, halfway through a training job)
    assert resumed_reproduction["locks_after_second"] == resumed_reproduction["locks_before_second"] != {}
    assert TRAIN_LOG.search(resumed_reproduction["log_at_kill"])


def test_make_reproduce_after_a_kill_lifts_the_stale_lock_itself_and_says_so(resumed_reproduction):
    again, repo = resumed_reproduction["again"], resumed_reproduction["repo"]
    assert resumed_reproduction["stale_locks"], "the kill left no lock: nothing was tested"
    lifted = next((line for line in again.splitlines() if line.startswith("Lifted the lock a killed run left")), None)
    assert lifted and f"no snakemake runs in {repo}" in lifted, again[-3000:]
    assert all(name in lifted for name in resumed_reproduction["stale_locks"]), lifted
    assert "cannot be locked" not in again and f"report: {repo}/results/report.html" in again
    assert not list((repo / ".snakemake" / "locks").glob("*.lock"))  # the finished run let go of its own
    # make ran the project's environment as it was (the test marks it installed): still the project's own code
    where = subprocess.run([sys.executable, "-c", "import overfit; print(overfit.__file__)"], capture_output=True,
                           text=True, cwd=resumed_reproduction["root"], timeout=60).stdout
    assert where.startswith(str(REPO / "src")), where


def test_a_killed_run_keeps_every_job_it_finished_and_redoes_the_one_it_killed(resumed_reproduction):
    run, repo = resumed_reproduction, resumed_reproduction["repo"]
    kept = run["kept"]
    # the data stage, the protocol's folds (the killed job had read them) and another training job at least
    protocol = run["job"].split("/")[0]
    assert {"results/data/imdb/train.npz", "results/data/imdb/test.npz"} <= set(kept), sorted(kept)
    assert any(path.startswith(f"results/data/folds/{protocol}") for path in kept), sorted(kept)
    assert len(training_tables(run)) > 1, sorted(kept)
    for path, before in kept.items():
        after = (repo / path).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), f"{path} was rewritten"
    jobs, _ = job_outputs(run["again"])
    redone = {path for outputs in jobs.values() for path in outputs}
    assert not redone & set(kept), sorted(redone & set(kept))
    # the killed job: halfway (an epoch done, no output yet) when killed, run again from its start
    assert TRAIN_LOG.search(run["log_at_kill"]) and not run["output_existed"]
    assert run["output"] in redone


def test_no_partial_file_survives_or_is_trusted(resumed_reproduction):
    repo, again = resumed_reproduction["repo"], resumed_reproduction["again"]
    # the temporary a killed atomic write leaves is removed before the run (the lift says so) ...
    assert "removed 1 temporary file(s) of killed jobs" in again and resumed_reproduction["temporary"] in again
    left = [str(p.relative_to(repo)) for sub in ("results", "resources") for p in (repo / sub).rglob("*.part")]
    assert left == []
    # ... and the killed job's output, cut short in place, was not trusted: it is the whole table again
    table = pd.read_parquet(repo / resumed_reproduction["output"])
    assert len(table) and {"experiment", "epoch", "metric", "value"} <= set(table.columns)


def test_the_resumed_run_gives_a_clean_runs_numbers(resumed_reproduction, clean_run):
    for path in training_tables(resumed_reproduction):
        resumed = pd.read_parquet(resumed_reproduction["repo"] / path)
        clean = pd.read_parquet(clean_run / path)
        assert len(resumed) and resumed.equals(clean), path


def test_a_second_snakemake_in_the_folder_is_refused_and_the_first_gives_a_clean_runs_numbers(
        tiny_workflow, resumed_reproduction, clean_run):
    work, target = tiny_workflow["dir"], resumed_reproduction["output"]
    args = ["--configfile", str(tiny_workflow["config"]), "--cores", "2", "--workflow-profile", PROFILE, target]
    env = {**os.environ, "OVERFIT_DATA_MIRROR": str(tiny_workflow["mirror"])}
    locks = work / ".snakemake" / "locks"
    log = work / "first-run.log"
    first = start_in_group([sys.executable, "-m", "snakemake", "--directory", str(work), *args], log, env=env)
    try:
        wait_for(lambda: list(locks.glob("*.lock")), 120, "the first run to lock the folder")
        held = {path.name: path.read_text() for path in locks.glob("*.lock")}
        os.killpg(first.pid, signal.SIGSTOP)  # held still, so that it holds the lock whatever the machine's speed
        try:
            second = run_snakemake(work, *args, mirror=tiny_workflow["mirror"], timeout=120)
            # the project's check before a run names the process (make runs it; here on its own)
            check = subprocess.run([sys.executable, str(STALE_LOCK), str(work)], capture_output=True, text=True,
                                   timeout=60)
            after = {path.name: path.read_text() for path in locks.glob("*.lock")}
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        first.wait(timeout=300)
    finally:
        kill_group(first)
    output = second.stdout + second.stderr
    assert second.returncode != 0 and "Directory cannot be locked" in output, output[-3000:]
    assert not job_outputs(output)[0], "the refused run started jobs"
    assert check.returncode == 1 and "is locked by a snakemake run in progress" in check.stderr
    assert f"PID {first.pid}:" in check.stderr, check.stderr
    assert after == held  # the refused run left the first run's lock alone
    assert first.returncode == 0, log.read_text()[-3000:]
    assert pd.read_parquet(work / target).equals(pd.read_parquet(clean_run / target))
    assert not list(locks.glob("*.lock"))


STALLING_COMPILER = """\
#!/bin/sh
# a compiler that writes half a library and hangs, as one killed halfway would have left it
for last; do :; done
printf 'half a library' > "$last"
touch "$MARK"
exec sleep 120
"""

MEETING_COMPILER = """\
#!/bin/sh
# the real compiler, once the other build has reached this point too: the two builds overlap for sure
touch "$MEET/$$"
i=0
while [ "$(ls "$MEET" | wc -l)" -lt 2 ]; do
  sleep 0.05; i=$((i + 1)); [ "$i" -lt 1200 ] || { echo "the other build never came" >&2; exit 1; }
done
exec c++ "$@"
"""

LOAD_KERNEL = "from overfit.engine import native; print(native.available(), native.library_path())"


@pytest.mark.skipif(not __import__("shutil").which("c++"), reason="no C++ compiler (c++) to build the kernel with")
def test_two_processes_build_the_compiled_kernel_at_once_and_a_killed_build_is_not_trusted(tmp_path):
    """Runs in different folders share the compiled kernel's folder (OVERFIT_NATIVE_DIR, ~/.cache/overfit/native)."""
    folder = tmp_path / "native"
    compilers = {}
    for name, text in (("stalling", STALLING_COMPILER), ("meeting", MEETING_COMPILER)):
        compilers[name] = tmp_path / f"{name}-c++"
        compilers[name].write_text(textwrap.dedent(text))
        compilers[name].chmod(0o755)
    env = {**os.environ, "OVERFIT_NATIVE_DIR": str(folder), "MARK": str(tmp_path / "compiling"),
           "MEET": str(tmp_path / "meet")}
    (tmp_path / "meet").mkdir()
    killed = start_in_group([sys.executable, "-c", LOAD_KERNEL], tmp_path / "killed.log",
                            env={**env, "CXX": str(compilers["stalling"])})
    try:
        wait_for(lambda: (tmp_path / "compiling").exists(), 120, "the first build to reach its compiler")
    finally:
        kill_group(killed)
    builds = [subprocess.Popen([sys.executable, "-c", LOAD_KERNEL], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**env, "CXX": str(compilers["meeting"])}) for _ in range(2)]
    results = [build.communicate(timeout=300) for build in builds]
    for build, (out, err) in zip(builds, results):
        assert build.returncode == 0 and out.split()[0] == "True", err[-3000:]
    library = Path(results[0][0].split()[1])
    assert {Path(out.split()[1]) for out, _ in results} == {library} and library.parent == folder
    assert len(list((tmp_path / "meet").iterdir())) == 2  # both compiled, at the same time
    # the library both loaded is a whole one; the killed build's half is left in its own scratch folder, which
    # no one reads (a library is only ever loaded from its final name)
    assert library.read_bytes()[:4] == b"\x7fELF"
    assert [p.name for p in folder.iterdir() if p.is_file()] == [library.name]
    halves = [p for p in folder.rglob("*") if p.is_file() and p.read_bytes() == b"half a library"]
    assert halves and all(p.parent != folder for p in halves)


def stale_lock(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(STALE_LOCK), str(folder)], capture_output=True, text=True, timeout=60)


def leave_a_killed_run(folder: Path) -> list[Path]:
    """What a run killed with kill -9 leaves: Snakemake's lock files, and a killed job's temporary."""
    locks = folder / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("results/data/imdb/train.npz\n")
    (locks / "0.output.lock").write_text("results/metrics/book/narrow.parquet\n")
    (folder / "results" / "metrics" / "book").mkdir(parents=True)
    (folder / "results" / "metrics" / "book" / ".narrow.parquet.x1y2.part").write_bytes(b"PAR1 half")
    kept = [folder / "results" / "metrics" / "book" / "bigger.part1.parquet", folder / "results" / "notes.part"]
    for path in kept:  # a wide experiment's part, a file that is no temporary of ours
        path.write_bytes(b"whole")
    return kept


def test_with_no_lock_the_check_says_nothing(tmp_path):
    done = stale_lock(tmp_path)
    assert done.returncode == 0 and done.stdout == done.stderr == ""


def stand_in(folder: Path, argv: list[str], **env) -> subprocess.Popen:
    """A process started as ``argv`` in ``folder``, waiting for its stdin to close (the test's end)."""
    process = subprocess.Popen(argv, cwd=folder, stdin=subprocess.PIPE, env={**os.environ, **env})
    wait_for(lambda: Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")[:len(argv)]
             == [a.encode() for a in argv], 30, "the stand-in to start")
    return process


WAIT = "import sys\nsys.stdin.read()\n"


@pytest.fixture()
def sleeper(tmp_path) -> Path:
    """A program named snakemake (as .venv/bin/snakemake runs: python .../bin/snakemake ...) that only waits."""
    program = tmp_path / "bin" / "snakemake"
    program.parent.mkdir()
    program.write_text(WAIT)
    return program


def test_a_stale_lock_is_lifted_when_only_snakemakes_of_other_folders_run(tmp_path, sleeper):
    folder, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    folder.mkdir(), elsewhere.mkdir()
    kept = leave_a_killed_run(folder)
    other = stand_in(elsewhere, [sys.executable, str(sleeper), "--cores", "1"])
    try:
        done = stale_lock(folder)
    finally:
        other.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Lifted the lock a killed run left (0.input.lock, 0.output.lock in .snakemake/locks)")
    assert "removed 1 temporary file(s) of killed jobs (results/metrics/book/.narrow.parquet.x1y2.part)" in done.stdout
    assert not list((folder / ".snakemake" / "locks").iterdir()) and all(path.exists() for path in kept)
    assert not list(folder.rglob(".*.part"))


@pytest.mark.parametrize("form", ["console script", "python -m", "a job"])
def test_a_lock_held_by_a_running_snakemake_is_refused_naming_its_pid(tmp_path, sleeper, form):
    folder = tmp_path / "run"
    folder.mkdir()
    leave_a_killed_run(folder)
    module = tmp_path / "modules" / "snakemake" / "__main__.py"  # what python -m snakemake runs, here only a wait
    module.parent.mkdir(parents=True)
    module.write_text(WAIT)
    job = folder / ".snakemake" / "scripts" / "tmpa1b2.train.py"  # a job's script, as Snakemake writes it
    job.parent.mkdir(parents=True)
    job.write_text(WAIT)
    before = sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file())
    argv = {"console script": [sys.executable, str(sleeper), "--cores", "all"],
            "python -m": [sys.executable, "-m", "snakemake", "--cores", "all"],
            # a job goes on when Snakemake alone is killed, and writes outputs: the folder is not free
            "a job": [sys.executable, str(job)]}[form]
    holder = stand_in(folder, argv, PYTHONPATH=str(module.parent.parent))
    try:
        done = stale_lock(folder)
    finally:
        holder.communicate(timeout=30)
    assert done.returncode == 1 and done.stdout == ""
    assert f"{folder} is locked by a snakemake run in progress (PID {holder.pid}: {' '.join(argv)})" in done.stderr
    assert f"kill {holder.pid};" in done.stderr
    assert sorted((p.relative_to(folder), p.read_bytes()) for p in folder.rglob("*") if p.is_file()) == before


def test_the_checks_own_parents_do_not_hold_the_lock(tmp_path):
    """make's shell, or a program named snakemake that runs make: the check does not refuse because of them."""
    folder = tmp_path / "run"
    folder.mkdir()
    leave_a_killed_run(folder)
    parent = tmp_path / "bin" / "snakemake"
    parent.parent.mkdir()
    parent.write_text(f"import subprocess, sys\nsys.exit(subprocess.run([sys.executable, {str(STALE_LOCK)!r}, '.']).returncode)\n")
    done = subprocess.run([sys.executable, str(parent)], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("Lifted the lock a killed run left"), done.stderr
