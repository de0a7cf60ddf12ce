"""Seconds per model-epoch of the engine (sparse input) against the dense baseline, and peak memory.

    .venv/bin/python benchmarks/engine.py [--widths 4 16 512 1024] [--epochs 3] [--rounds 2]

Both train the same model with the same optimizer on the 3.5 hold-out
(15,000 training, 10,000 validation reviews), one epoch = all training
batches + the validation pass. The dense baseline feeds the multi-hot
matrix the way the book's Keras code does (a 10,000-wide matmul per layer
one). Runs alternate (sparse, dense, sparse, dense, ...) so that both see
the same machine state; compilation is excluded (a warm-up epoch first).
Peak memory is the high-water mark of the resident set (VmHWM) of a fresh
child process that trains N models of one width (``--memory-models``);
getrusage's ru_maxrss would carry over the parent's peak through fork.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "results" / "data" / "imdb"


def load():
    from overfit.data import imdb

    return {"train": imdb.load_split(DATA / "train.npz"), "test": imdb.load_split(DATA / "test.npz")}


def holdout_runs(n_models: int):
    from overfit.engine.train import Run

    return [Run({"protocol": "holdout", "repeat": 0, "fold": 0, "seed": i}, np.arange(10000, 25000),
                "train", np.arange(10000), init_seed=i, shuffle_seed=100 + i) for i in range(n_models)]


def seconds_per_model_epoch(width, mode, epochs, splits, trainers, vectorize=False, n_models=1):
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import Trainer, TrainingSpec, train_models

    spec = ModelSpec.build([width, width])
    training = TrainingSpec(epochs=epochs, input_mode=mode, vectorize=vectorize)
    key = (width, mode, epochs, vectorize)
    if key not in trainers:  # warm-up: compile outside the timing
        trainers[key] = Trainer(spec, training)
        train_models(spec, holdout_runs(n_models), training, splits, trainer=trainers[key])
    start = time.perf_counter()
    train_models(spec, holdout_runs(n_models), training, splits, trainer=trainers[key])
    return (time.perf_counter() - start) / (epochs * n_models)


def memory_child(width: int, n_models: int, epochs: int) -> None:
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import TrainingSpec, train_models

    splits = load()
    train_models(ModelSpec.build([width, width]), holdout_runs(n_models), TrainingSpec(epochs=epochs), splits)
    status = Path("/proc/self/status").read_text()
    peak_kib = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    print(json.dumps({"peak_rss_gib": peak_kib / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 16, 512, 1024])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--vmap-models", type=int, default=4, help="models for the loop-vs-vmap comparison (0: skip)")
    parser.add_argument("--memory-models", type=int, default=4)
    parser.add_argument("--memory-child", type=int, nargs=3, metavar=("WIDTH", "MODELS", "EPOCHS"))
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(*args.memory_child)

    splits, trainers = load(), {}
    print(f"seconds per model-epoch (15,000 train + 10,000 validation reviews), median of {args.rounds} interleaved rounds")
    print(f"{'width':>6} {'dense baseline':>15} {'sparse engine':>14} {'speed-up':>9}")
    for width in args.widths:
        times = {"dense": [], "sparse": []}
        for _ in range(args.rounds):
            for mode in ("sparse", "dense"):
                times[mode].append(seconds_per_model_epoch(width, mode, args.epochs, splits, trainers))
        dense, sparse = np.median(times["dense"]), np.median(times["sparse"])
        print(f"{width:>6} {dense:>15.3f} {sparse:>14.3f} {dense / sparse:>8.1f}x", flush=True)

    if args.vmap_models:
        print(f"\nloop vs vmap over {args.vmap_models} models (sparse), seconds per model-epoch")
        for width in args.widths:
            loop = [], []
            for _ in range(args.rounds):
                for i, vectorize in enumerate((False, True)):
                    loop[i].append(seconds_per_model_epoch(width, "sparse", args.epochs, splits, trainers, vectorize, args.vmap_models))
            a, b = np.median(loop[0]), np.median(loop[1])
            print(f"{width:>6} loop {a:.3f}  vmap {b:.3f}  vmap/loop {b / a:.2f}", flush=True)

    if args.memory_models:
        print(f"\npeak memory, {args.memory_models} models trained in one call (sparse, 2 epochs)")
        for width in args.widths:
            out = subprocess.run([sys.executable, __file__, "--memory-child", str(width), str(args.memory_models), "2"],
                                 capture_output=True, text=True, check=True).stdout
            print(f"{width:>6} {json.loads(out.strip().splitlines()[-1])['peak_rss_gib']:.2f} GiB", flush=True)


if __name__ == "__main__":
    main()
