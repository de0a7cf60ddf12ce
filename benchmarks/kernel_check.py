"""What the compiled kernel's bounds check costs: the kernel against the same source built without it, alongside.

    .venv/bin/python benchmarks/kernel_check.py [--widths 16 512 1024]

Builds csr_kernel.cc twice (as engine.native does, and with OVERFIT_UNCHECKED_BASELINE, which skips the check),
registers both, and times gather + scatter on batches of 512 real training reviews (results/data/imdb, from
make reproduce's data stage), median of 7 rounds of 20 batches. Prints milliseconds per batch and the ratio.
The unchecked build exists only here.
"""

import argparse
import ctypes
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from overfit.data import imdb
from overfit.engine import native

ROOT = Path(__file__).resolve().parents[1]


def register(prefix: str, library: Path) -> None:
    lib = ctypes.cdll.LoadLibrary(str(library))
    for name in native.TARGETS:
        jax.ffi.register_ffi_target(prefix + name, jax.ffi.pycapsule(getattr(lib, name)), platform="cpu")


def step(prefix: str, width: int):
    def run(ids, begins, ends, kernel, cotangent):
        rows = begins.shape[0]
        out = jax.ffi.ffi_call(prefix + "overfit_csr_gather", jax.ShapeDtypeStruct((rows, width), jnp.float32))(
            ids, begins, ends, kernel)
        grad = jax.ffi.ffi_call(prefix + "overfit_csr_scatter", jax.ShapeDtypeStruct(kernel.shape, jnp.float32))(
            ids, begins, ends, cotangent)
        return out.sum() + grad.sum()
    return jax.jit(run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 512, 1024])
    args = parser.parse_args()
    assert native.available(), "the compiled kernel cannot be built here"
    train = imdb.load_split(ROOT / "results" / "data" / "imdb" / "train.npz")
    ids = jnp.asarray(train.ids.astype(np.int32))
    offsets = train.offsets.astype(np.int32)
    rng = np.random.default_rng(0)
    batches = [np.sort(rng.choice(len(train), 512, replace=False)) for _ in range(20)]
    with tempfile.TemporaryDirectory() as tmp:
        unchecked = Path(tmp) / "unchecked.so"
        subprocess.run(["c++", *native.FLAGS, "-DOVERFIT_UNCHECKED_BASELINE", f"-I{jax.ffi.include_dir()}",
                        str(native.SOURCE), "-o", str(unchecked)], check=True)
        register("unchecked_", unchecked)
        print(f"ms per batch of 512 reviews (gather + scatter), median of 7 rounds of {len(batches)} batches")
        for width in args.widths:
            kernel = jnp.asarray(rng.standard_normal((10000, width)).astype(np.float32))
            cotangent = jnp.ones((512, width), jnp.float32)
            args_of = [(ids, jnp.asarray(offsets[b]), jnp.asarray(offsets[b + 1]), kernel, cotangent) for b in batches]
            runs = {"checked": step("", width), "unchecked": step("unchecked_", width)}
            rounds = {label: [] for label in runs}
            for run in runs.values():
                run(*args_of[0]).block_until_ready()
            for _ in range(7):  # alternating, so that a busy moment of the machine weighs on both alike
                for label, run in runs.items():
                    start = time.perf_counter()
                    for a in args_of:
                        run(*a).block_until_ready()
                    rounds[label].append((time.perf_counter() - start) / len(args_of) * 1e3)
            times = {label: statistics.median(r) for label, r in rounds.items()}
            print(f"width {width:5d}: checked {times['checked']:.3f} ms, unchecked {times['unchecked']:.3f} ms, "
                  f"ratio {times['checked'] / times['unchecked']:.3f}")


if __name__ == "__main__":
    main()
