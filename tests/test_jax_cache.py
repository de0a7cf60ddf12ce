"""The JAX compilation cache the jobs share (overfit.jobs.compilation_cache): many processes write one folder at once.

On a cluster every job of every node reads and writes the same folder. Two processes here compile, at the same
moment, functions both compile and functions only one does; both must get the right numbers, the folder must hold
only whole entries, and a third process must then load every function from it (cache hits, no compilation) and get
the same numbers bit for bit.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO

# A job's process: the cache set up as a job sets it up, then `shared` functions both workers compile and
# `own` functions only this one does, timed to start with the other worker (at the `go` file's appearance).
WORKER = textwrap.dedent("""
    import json, os, sys, time
    from pathlib import Path

    from overfit.jobs import compilation_cache

    compilation_cache()
    import jax
    import jax.numpy as jnp
    from jax._src import lru_cache

    events = {"hits": 0, "misses": 0}

    def listen(event, **kwargs):
        if event == "/jax/compilation_cache/cache_hits":
            events["hits"] += 1
        elif event == "/jax/compilation_cache/cache_misses":
            events["misses"] += 1

    jax.monitoring.register_event_listener(listen)
    names = json.loads(sys.argv[1])
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.01)
    results = {}
    for name in names:
        kind, _, number = name.partition("-")
        n = int(number)
        # a distinct program per name: its shape and its constant
        function = jax.jit(lambda x, n=n: jnp.tanh(x @ x.T * (1.0 + n / 7.0)).sum(axis=0) + n)
        x = jnp.linspace(-1.0, 1.0, (n % 5 + 3) * (n % 3 + 2), dtype=jnp.float32).reshape(n % 5 + 3, n % 3 + 2)
        results[name] = [float(v) for v in function(x)]
    print(json.dumps({"results": results, **events, "atomic": getattr(lru_cache.LRUCache.put, "overfit_atomic", False),
                      "folder": os.environ["JAX_COMPILATION_CACHE_DIR"]}))
""")


def expected(name: str) -> list[float]:
    n = int(name.partition("-")[2])
    x = np.linspace(-1.0, 1.0, (n % 5 + 3) * (n % 3 + 2), dtype=np.float32).reshape(n % 5 + 3, n % 3 + 2)
    return list(np.tanh(x @ x.T * (1.0 + n / 7.0)).sum(axis=0) + n)


def environment(cache: Path | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_") and k != "OVERFIT_JAX_CACHE"}
    env["JAX_PLATFORMS"] = "cpu"
    if cache is not None:
        env["OVERFIT_JAX_CACHE"] = str(cache)
    return env


def start(names: list[str], go: Path, cache: Path | None, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(names), str(go)], cwd=cwd, env=environment(cache),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


SHARED = [f"shared-{n}" for n in range(12)]
OWN = {"a": [f"a-{n}" for n in range(100, 106)], "b": [f"b-{n}" for n in range(200, 206)]}


def test_two_processes_writing_one_cache_at_once_leave_it_whole_and_a_third_reads_it_back(tmp_path):
    cache = tmp_path / "shared" / "jax-cache"
    go = tmp_path / "go"
    # the two workers go through the shared functions in opposite orders: they race for the same entries
    workers = {"a": start(SHARED + OWN["a"], go, cache, tmp_path), "b": start(SHARED[::-1] + OWN["b"], go, cache, tmp_path)}
    time.sleep(3)  # both have imported JAX and wait
    go.touch()
    runs = {name: finish(process) for name, process in workers.items()}
    for name, run in runs.items():
        assert run["atomic"], "compilation_cache() did not make JAX's cache writes atomic"
        assert run["folder"] == str(cache)
        assert set(run["results"]) == set(SHARED + OWN[name])
        for function, values in run["results"].items():
            np.testing.assert_allclose(values, expected(function), rtol=1e-5, atol=1e-5)
        assert run["misses"] >= len(OWN[name])  # its own functions were compiled, not found
    entries = sorted(cache.glob("*-cache"))
    # every distinct program is in the folder once (JAX's jit also caches a few programs of its own)
    assert len(entries) >= len(SHARED) + len(OWN["a"]) + len(OWN["b"])
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")], "temporary files were left behind"
    assert all(p.stat().st_size > 0 for p in entries)

    # a third process: everything from the cache, nothing compiled, the same numbers
    third = finish(start(SHARED + OWN["a"] + OWN["b"], go, cache, tmp_path))
    assert third["misses"] == 0, third
    assert third["hits"] >= len(SHARED) + len(OWN["a"]) + len(OWN["b"])
    for name, run in runs.items():
        for function, values in run["results"].items():
            assert third["results"][function] == values, function  # bit for bit


def test_a_write_that_fails_halfway_leaves_no_entry(tmp_path, monkeypatch):
    from overfit.jobs import write_atomically

    target = tmp_path / "key-cache"

    def fail(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(str(target), b"x" * 100_000)
    assert list(tmp_path.iterdir()) == []  # neither the entry nor the temporary file
    monkeypatch.undo()
    write_atomically(str(target), b"whole")
    write_atomically(str(target), b"again")  # a second writer replaces it whole
    assert target.read_bytes() == b"again"
    assert list(tmp_path.iterdir()) == [target]


def run_setup(cwd: Path, env: dict, job: str = "None") -> str:
    code = f"""
import os, types
from overfit.jobs import compilation_cache
compilation_cache({job})
print(os.environ.get("JAX_COMPILATION_CACHE_DIR", "no cache"))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_the_cache_folder_comes_from_the_environment_then_the_jobs_resource_then_the_working_directory(tmp_path):
    job = "types.SimpleNamespace(resources={'jax_cache': '/shared/jax'})"
    assert run_setup(tmp_path, environment(None)) == str(tmp_path / ".snakemake" / "jax-cache")
    assert run_setup(tmp_path, environment(None), job) == "/shared/jax"
    assert run_setup(tmp_path, environment(tmp_path / "mine"), job) == str(tmp_path / "mine")
    assert run_setup(tmp_path, {**environment(None), "OVERFIT_JAX_CACHE": ""}, job) == "no cache"


def test_a_jax_cache_resource_that_is_not_a_folder_is_refused(tmp_path):
    code = """
import types
from overfit.errors import OverfitError
from overfit.jobs import compilation_cache
try:
    compilation_cache(types.SimpleNamespace(resources={'jax_cache': 5}))
except OverfitError as error:
    print(error)
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment(None), capture_output=True,
                            text=True, timeout=60)
    assert "jax_cache must be a folder" in result.stdout and "default-resources" in result.stdout


def test_the_slurm_profile_gives_every_job_the_cache_folder():
    import yaml

    profile = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["default-resources"]["jax_cache"] == ".snakemake/jax-cache"
