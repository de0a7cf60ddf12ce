"""What verifying a prepared file costs a job: each loader (digest, then the checks) against a bare np.load.

    make reproduce   # or only its data stage, then:
    .venv/bin/python benchmarks/verified_load.py [results]

Times, for every prepared file of a finished run (results/data), the bare read of its arrays (the baseline, run
alongside), the digest alone, and the verifying loader the jobs call; prints seconds and the ratio to the
baseline, median of 5 rounds. Writes nothing.
"""

import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from overfit.data import clock, fashion_mnist, imdb, prepared
from overfit.protocols import load_folds


def timed(call, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare(path: Path) -> None:
    with np.load(path) as data:
        for name in data.files:
            data[name]


def main(results: Path) -> None:
    data = results / "data"
    train = imdb.load_split(data / "imdb" / "train.npz")
    sizes = {"train": len(train), "test": len(imdb.load_split(data / "imdb" / "test.npz"))}
    loaders = {data / "imdb" / "train.npz": imdb.load_split, data / "imdb" / "test.npz": imdb.load_split,
               data / "fashion_mnist" / "train.npz": fashion_mnist.load, data / "fashion_mnist" / "test.npz": fashion_mnist.load,
               data / "clock" / "faces.npz": lambda p: clock.load(p, "train")}
    loaders.update({path: lambda p: load_folds(p, sizes) for path in sorted(data.glob("folds/*/folds.npz"))[:3]})
    print(f"{platform.processor() or platform.machine()}; median of 5 rounds")
    print(f"{'file':45s} {'MB':>6s} {'bare read':>10s} {'digest':>8s} {'verified load':>14s} {'ratio':>6s}")
    for path, load in loaders.items():
        if not path.exists():
            continue
        base, digest, verified = timed(lambda: bare(path)), timed(lambda: prepared.digest(path)), timed(lambda: load(path))
        print(f"{str(path.relative_to(results)):45s} {path.stat().st_size / 2**20:6.1f} {base:9.3f}s {digest:7.3f}s "
              f"{verified:13.3f}s {verified / base:5.1f}×")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results"))
