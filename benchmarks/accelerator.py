"""The engine on the JAX backend present (a CUDA GPU where there is one): seconds per model-epoch per width and kernel.

    .venv/bin/python benchmarks/accelerator.py [--widths 4 16 512 1024] [--epochs 5] [--rounds 2]

The work of benchmarks/engine.py: the 3.5 hold-out of the prepared IMDB training split (15,000 training and
10,000 validation reviews, results/data/imdb from make reproduce's data stage); one model-epoch = 30 training
steps of 512 reviews and the validation pass. Compilation is excluded (a warm-up run first); the kernels take
turns, and each row is the median of the rounds. The kernels timed are those the backend can run
(engine.choice.candidates: XLA's CSR and segment kernels on a GPU; the compiled kernel and XLA's CSR on a CPU),
and the table says which one `auto` chose there (engine.choice measures it on first use).

It also checks, on this backend, what a result needs: the kernels give the same validation losses (to float32
rounding: segment sums in another order), a second run of the same seed gives the same numbers bit for bit, and
the accelerator agrees with this machine's CPU (where the accelerator is not the CPU).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TRAIN_ROWS, VALIDATION_ROWS = np.arange(10000, 25000), np.arange(10000)


def runs():
    from overfit.engine.train import Run
    from overfit.protocols import Fold

    return [Run("holdout", Fold(0, 0, TRAIN_ROWS, "train", VALIDATION_ROWS), 0, init_seed=0, shuffle_seed=100)]


def validation_losses(rows: list[dict]) -> np.ndarray:
    return np.array([r["value"] for r in rows if r["split"] == "validation" and r["metric"] == "loss"])


def timed(width: int, kernel: str, epochs: int, splits, trainers: dict) -> tuple[float, np.ndarray]:
    """Seconds per model-epoch of a [width, width] model trained with ``kernel``, and its validation losses."""
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import Trainer, TrainingSpec, train_models

    spec, training = ModelSpec.build([width, width]), TrainingSpec(epochs=epochs, sparse_kernel=kernel)
    if (width, kernel) not in trainers:  # warm-up: compile outside the timing
        trainers[width, kernel] = Trainer(spec, training)
        train_models(spec, runs(), training, splits, trainer=trainers[width, kernel])
    start = time.perf_counter()
    rows = train_models(spec, runs(), training, splits, trainer=trainers[width, kernel])
    return (time.perf_counter() - start) / epochs, validation_losses(rows)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 16, 512, 1024])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fast-gpu", choices=["tf32", "nondeterministic"],
                        help="time the GPU without one of the engine's two exactness settings (overfit.engine)")
    parser.add_argument("--data", type=Path, default=ROOT / "results" / "data" / "imdb")
    args = parser.parse_args()
    import os

    if args.fast_gpu == "tf32":
        os.environ["JAX_DEFAULT_MATMUL_PRECISION"] = "tensorfloat32"
    elif args.fast_gpu == "nondeterministic":
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_gpu_deterministic_ops=false"
    import jax

    from overfit.data import imdb
    from overfit.engine import choice
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import Trainer, TrainingSpec

    splits = {"train": imdb.load_split(args.data / "train.npz")}
    device = jax.devices()[0]
    kernels = choice.candidates()
    print(f"settings: matmul precision {jax.config.jax_default_matmul_precision}, XLA_FLAGS "
          f"{os.environ.get('XLA_FLAGS', '')!r}")
    print(f"backend {jax.default_backend()}: {device.device_kind} ({len(jax.devices())} device(s)); host CPU "
          f"{cpu_model()}; jax {jax.__version__}; kernels timed: {', '.join(kernels)}")
    print(f"seconds per model-epoch (30 steps of 512 + 10,000 validated), median of {args.rounds} rounds of "
          f"{args.epochs} epochs\n")
    print(f"{'width':>6} " + " ".join(f"{k:>9}" for k in kernels) + f" {'auto':>8} {'kernels, epoch 1':>16} "
          f"{'rerun':>9}")
    trainers, problems = {}, []
    for width in args.widths:
        seconds, losses = {k: [] for k in kernels}, {}
        for _ in range(args.rounds):
            for kernel in kernels:
                s, curve = timed(width, kernel, args.epochs, splits, trainers)
                seconds[kernel].append(s)
                if kernel in losses and not np.array_equal(losses[kernel], curve):
                    problems.append(f"width {width}, {kernel}: a second run of the same seed differs")
                losses[kernel] = curve
        auto = Trainer(ModelSpec.build([width, width]), TrainingSpec()).kernel
        # after epoch 1 only: past it a wide model's float32 trajectory parts with any change of summation order,
        # on a CPU as on a GPU (tests/oracle: the engine against itself); segment adds in another order than csr, and
        # within one epoch of 30 steps a width-1024 model's validation loss moved by 1.2e-4 on an H200
        spread = max(float(np.abs(losses[k][0] - losses[kernels[0]][0])) for k in kernels)
        if spread > 1e-3:
            problems.append(f"width {width}: the kernels' epoch-1 validation losses differ by {spread:.2e}")
        rerun = "same" if not any(p.startswith(f"width {width}, ") for p in problems) else "DIFFERS"
        print(f"{width:>6} " + " ".join(f"{statistics.median(seconds[k]):>9.4f}" for k in kernels)
              + f" {auto:>8} {spread:>16.1e} {rerun:>9}", flush=True)

    if jax.default_backend() != "cpu":
        width, kernel = min(args.widths), "csr"
        _, accelerated = timed(width, kernel, args.epochs, splits, trainers)
        with jax.default_device(jax.devices("cpu")[0]):
            _, on_cpu = timed(width, kernel, args.epochs, splits, {})
        difference = float(np.max(np.abs(accelerated - on_cpu)))
        print(f"\nwidth {width}, {kernel}: the accelerator's validation losses against this machine's CPU: "
              f"largest difference {difference:.1e}")
        if difference > 1e-4:
            problems.append(f"the accelerator and the CPU differ by {difference:.2e}")
    print("\n" + ("\n".join(f"PROBLEM: {p}" for p in problems) if problems else "every check held"))
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
