"""Fixtures: a tiny aclImdb-shaped archive and Fashion-MNIST files, made by the tests themselves."""

from __future__ import annotations

import copy
import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

# A test of one of these kinds is in the slow tier (`make test-all`), out of `make test`'s (-m "not slow").
SLOW_KINDS = ("oracle", "slurm", "browser", "pipeline")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)

# Two reviews per (split, label) would do for the tokenizer; the training
# tests need enough to learn something, so the words carry the sentiment.
POSITIVE = ["great", "wonderful", "loved", "excellent", "brilliant", "fun"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "waste", "dull"]
NEUTRAL = ["the", "movie", "film", "plot", "actor", "scene", "story", "it", "was", "and"]


def make_reviews(per_folder: int, seed: int = 0) -> dict[str, bytes]:
    """Relative path -> bytes, in the layout of aclImdb (review files and urls files)."""
    rng = np.random.default_rng(seed)
    files = {"aclImdb/README": b"tiny test copy\n", "aclImdb/imdb.vocab": b"the\n"}
    for split in ("train", "test"):
        for label, words in (("pos", POSITIVE), ("neg", NEGATIVE)):
            urls = []
            for review_id in range(per_folder):
                rating = int(rng.integers(7, 11) if label == "pos" else rng.integers(1, 5))
                n = int(rng.integers(8, 30))
                tokens = list(rng.choice(NEUTRAL, n)) + list(rng.choice(words, 3))
                rng.shuffle(tokens)
                text = " ".join(tokens).capitalize() + ".<br /><br />The END!"
                files[f"aclImdb/{split}/{label}/{review_id}_{rating}.txt"] = text.encode()
                movie = 1000 * (split == "test") + review_id // 3  # three reviews per movie
                urls.append(f"http://www.imdb.com/title/tt{movie:07d}/usercomments")
            files[f"aclImdb/{split}/urls_{label}.txt"] = ("\n".join(urls) + "\n").encode()
    return files


def write_archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    return path


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_fashion_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> dict[str, str]:
    """Four .gz IDX files; returns their content sha256 by name."""
    import hashlib

    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, array in (
            ("images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28))),
            ("labels-idx1-ubyte", np.arange(n) % 10),
        ):
            content = idx_bytes(array)
            name = f"{prefix}-{kind}"
            (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
            digests[name] = hashlib.sha256(content).hexdigest()
    return digests


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def base_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture()
def mirror(tmp_path) -> dict:
    """A mirror folder with a tiny IMDB archive and Fashion-MNIST, and a config that expects them."""
    return build_mirror(tmp_path / "mirror")


def build_mirror(folder: Path) -> dict:
    from overfit.data.imdb import reviews_digest

    folder.mkdir()
    files = make_reviews(per_folder=12)
    archive = write_archive(folder / "aclImdb_v1.tar.gz", files)
    fashion = write_fashion_mnist(folder / "fashion-mnist")
    reviews = {k.removeprefix("aclImdb/"): v for k, v in files.items() if k.endswith(".txt") and "urls" not in k}
    data = {
        "imdb": {
            "url": "http://127.0.0.1:9/aclImdb_v1.tar.gz",
            "mirror_names": ["aclImdb_v1.tar.gz"],
            "accept": [{"size": archive.stat().st_size, "sha256": file_sha256(archive)}],
            "reviews_sha256": reviews_digest(reviews),
            "num_words": 30,
            "start_char": 1,
            "oov_char": 2,
            "index_from": 3,
            "order_seed": 113,
        },
        "fashion_mnist": {
            "base_url": "http://127.0.0.1:9/",
            "mirror_folders": ["fashion-mnist"],
            "files": {name: {"content_sha256": digest} for name, digest in fashion.items()},
        },
    }
    return {"folder": folder, "archive": archive, "data": data, "files": files}


def write_config(path: Path, base: dict, **overrides) -> Path:
    config = copy.deepcopy(base)
    config.update(overrides)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_snakemake(workdir: Path, *args: str, mirror: Path | None = None, timeout: int = 600,
                  snakefile: Path = REPO / "Snakefile") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OVERFIT_DATA_MIRROR", None)
    if mirror is not None:
        env["OVERFIT_DATA_MIRROR"] = str(mirror)
    return subprocess.run(
        [*SNAKEMAKE, "--snakefile", str(snakefile), "--directory", str(workdir), *args],
        capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
    )


@pytest.fixture()
def tiny_workflow(tmp_path, mirror) -> dict:
    """A work folder with the .test config (small grid) on the tiny data."""
    config = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    config["data"] = mirror["data"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return {"dir": tmp_path, "config": path, "mirror": mirror["folder"], "settings": config}


# ---------------------------------------------------------------------------------------------------------------
# A reproduction killed with kill -9 halfway through a training job and run again, as a user would, with the
# project's own commands (tests/test_resume.py checks what it kept and redid; tests/test_browser.py opens its
# report). The pipeline runs once for both.

import re
import shutil
import signal
import time

TRAIN_LOG = re.compile(r"epoch \d+/\d+")  # a training job's progress line: at least one epoch of a model done


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def process_group(pgid: int) -> list[tuple[int, list[str]]]:
    """(PID, argv) of the live processes of a process group (a make or snakemake started in a session of its own)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append((int(entry.name), [a.decode(errors="replace") for a in argv]))
    return found


def process_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"


def start_in_group(command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """Start ``command`` as the leader of a process group of its own, its output to ``log``."""
    with log.open("w") as stream:
        return subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, **kwargs)


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """kill -9 to a whole process group (make, snakemake, every job), as a crash or a lost terminal would."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait()


def run_in_group(command: list[str], log: Path, timeout: float, **kwargs) -> tuple[int, str]:
    """Run ``command`` to its end (in a group of its own: on a timeout, nothing of it is left running)."""
    process = start_in_group(command, log, **kwargs)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise AssertionError(f"{' '.join(command)} took over {timeout} s:\n{log.read_text()[-3000:]}") from None
    return process.returncode, log.read_text()


def job_outputs(output: str) -> tuple[dict[int, list[str]], set[int]]:
    """From Snakemake's output: each job's outputs by job id, and the ids of the jobs it reported finished."""
    jobs = {}
    # (a job of a group, the rules' `group:`, is printed indented under its group job)
    for block in re.split(r"\n(?=\s*\[[^\]]+\]\n\s*(?:local)?rule \w+:)", output):
        outputs = re.search(r"^\s+output: (.*)$", block, re.MULTILINE)
        jobid = re.search(r"^\s+jobid: (\d+)$", block, re.MULTILINE)
        if re.search(r"^\s*(?:local)?rule \w+:", block, re.MULTILINE) and outputs and jobid:
            jobs[int(jobid.group(1))] = outputs.group(1).split(", ")
    return jobs, {int(n) for n in re.findall(r"^Finished jobid: (\d+)", output, re.MULTILINE)}


def copy_project(repo: Path, settings: dict) -> Path:
    """The project's Makefile, workflow and sources in ``repo``, with ``settings`` as config/config.yaml.

    The jobs still import the installed package (the project's own sources).
    """
    repo.mkdir()
    for name in ("Snakefile", "workflow", "config", "Makefile", "pyproject.toml"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, repo / name)
    shutil.copytree(REPO / "src" / "overfit", repo / "src" / "overfit", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "config" / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return repo


def make_command(repo: Path, stamp: Path, target: str = "reproduce") -> list[str]:
    """``make reproduce`` in ``repo`` with the project's environment, marked as installed: make must not
    (re)install the package from the copy, which would point the shared .venv's editable install there."""
    return ["make", "-C", str(repo), target, f"VENV={REPO / '.venv'}", f"STAMP={stamp}"]


def stop_a_training_job_halfway(pgid: int, work: Path, timeout: float, output: Path) -> tuple[int, str]:
    """SIGSTOP a training job that has finished an epoch, once another training job has finished: (PID, job).

    "Finished" as Snakemake reports it in its ``output`` (the run's log), not as a table on disk: Snakemake says so a
    moment after the file appears, and what it had not said before the kill it does not count as kept. A job is
    stopped to look at its log, and let go on while that holds no epoch line yet, so that it is held after an epoch
    of training whatever the machine's speed (the kill that follows finds it halfway).
    """
    logs = work / "logs" / "train"

    def a_training_job_finished() -> bool:
        jobs, finished = job_outputs(output.read_text(errors="replace"))
        return any(path.startswith("results/metrics/") for n in finished for path in jobs.get(n, []))

    def stopped_halfway():
        if not a_training_job_finished():
            return None
        for pid, argv in process_group(pgid):
            if not (argv and os.path.basename(argv[0]).startswith("python") and argv[-1].endswith(".train.py")):
                continue
            try:
                log = next(Path(name) for fd in Path(f"/proc/{pid}/fd").iterdir()
                           if (name := os.readlink(fd)).startswith(f"{logs}/") and name.endswith(".log"))
            except (OSError, StopIteration):
                continue
            job = str(log.relative_to(logs).with_suffix(""))
            os.kill(pid, signal.SIGSTOP)
            wait_for(lambda: process_state(pid) in ("T", "t", "gone"), 10, f"job {pid} to stop", interval=0.005)
            if process_state(pid) == "gone":
                continue
            if TRAIN_LOG.search(log.read_text()) and not (work / "results" / "metrics" / f"{job}.parquet").exists():
                return pid, job
            os.kill(pid, signal.SIGCONT)
        return None

    return wait_for(stopped_halfway, timeout, "a training job to run an epoch after another finished", interval=0.02)


@pytest.fixture(scope="session")
def resumed_reproduction(tmp_path_factory) -> dict:
    """``make reproduce`` on the tiny grid; a second one started meanwhile; kill -9 halfway through a training job;
    ``make reproduce`` again to the end. What each step printed, and what the folder held at the kill."""
    root = tmp_path_factory.mktemp("resumed")
    mirror = build_mirror(root / "mirror")
    settings = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    settings["data"] = mirror["data"]
    repo = copy_project(root / "repo", settings)
    stamp = root / "installed"
    stamp.touch()
    env = {**os.environ, "OVERFIT_DATA_MIRROR": str(mirror["folder"])}
    locks = repo / ".snakemake" / "locks"
    killed = {}

    first = start_in_group(make_command(repo, stamp), root / "first.log", env=env)
    try:
        wait_for(lambda: list(locks.glob("*.lock")), 180, "the first run to lock the folder")
        snakemake = wait_for(lambda: [pid for pid, argv in process_group(first.pid)
                                      if any(os.path.basename(a) == "snakemake" for a in argv[:2])],
                             30, "the first run's snakemake process")
        killed["snakemake_pid"] = snakemake[0]
        # a second `make reproduce` in the same folder, while the first is held still (so that it holds the lock
        # whatever the machine's speed)
        held = {path.name: path.read_text() for path in locks.glob("*.lock")}
        os.killpg(first.pid, signal.SIGSTOP)
        try:
            killed["second"] = run_in_group(make_command(repo, stamp), root / "second.log", 120, env=env)
            killed["locks_after_second"] = {path.name: path.read_text() for path in locks.glob("*.lock")}
            killed["locks_before_second"] = held
        finally:
            os.killpg(first.pid, signal.SIGCONT)
        killed["pid"], killed["job"] = stop_a_training_job_halfway(first.pid, repo, 600, root / "first.log")
        killed["output"] = f"results/metrics/{killed['job']}.parquet"
        killed["log_at_kill"] = (repo / "logs" / "train" / f"{killed['job']}.log").read_text()
    finally:
        kill_group(first)
    first_output = (root / "first.log").read_text()
    killed["first"] = first_output
    jobs, finished = job_outputs(first_output)
    kept = sorted({path for n in finished for path in jobs[n]})
    killed["kept"] = {path: (repo / path).stat() for path in kept}  # what the first run said it finished
    killed["output_existed"] = (repo / killed["output"]).exists()
    killed["stale_locks"] = sorted(path.name for path in locks.glob("*.lock"))
    # What a writer killed halfway would leave if it wrote in place, and what overfit.files.atomic_path leaves when
    # killed between writing its temporary and moving it into place: neither may be trusted.
    output = repo / killed["output"]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(b"PAR1\x15\x04 cut short")
    temporary = output.with_name(f".{output.name}.k1ll3d.part")
    temporary.write_bytes(b"PAR1 half a table")
    killed["temporary"] = str(temporary.relative_to(repo))

    code, again = run_in_group(make_command(repo, stamp), root / "again.log", 900, env=env)
    assert code == 0, again[-5000:]
    return {"repo": repo, "root": root, "env": env, "stamp": stamp, "settings": settings, "mirror": mirror["folder"],
            "again": again, **killed}


def data_sizes(mirror: dict) -> dict:
    """The sizes of a mirror's tiny data sets as a config's ``data`` section gives them to overfit.checks
    (``data.imdb.train_reviews_per_movie`` …, ``data.fashion_mnist.train_images``), counted from its files: merged
    into a tiny config, a size mistake is refused against the tiny data, not IMDB's."""
    import re
    from collections import Counter

    files = mirror["files"]
    review = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+)_\d+\.txt$")
    reviews, positive, movies = Counter(), Counter(), Counter()
    for name in files:
        match = review.match(name)
        if match:
            split, label, review_id = match.groups()
            reviews[split] += 1
            positive[split] += label == "pos"
            if split == "train":
                url = files[f"aclImdb/train/urls_{label}.txt"].decode().splitlines()[int(review_id)]
                movies[int(re.search(r"/title/tt(\d+)", url).group(1))] += 1
    header = gzip.decompress((mirror["folder"] / "fashion-mnist" / "train-images-idx3-ubyte.gz").read_bytes())[:8]
    return {
        "imdb": {"train_reviews_per_movie": [movies[title] for title in sorted(movies)], "test_reviews": reviews["test"],
                 "train_positive": positive["train"], "test_positive": positive["test"]},
        "fashion_mnist": {"train_images": int.from_bytes(header[4:8], "big")},
    }
