"""The compiled kernel's builds, timed alone: what its bounds check costs, and each instruction set against XLA's CSR.

    .venv/bin/python benchmarks/kernel_check.py [--widths 16 512 1024]                 # the bounds check's cost
    .venv/bin/python benchmarks/kernel_check.py --isa [--baseline old.cc] [--widths ...]  # per instruction set

Builds csr_kernel.cc as engine.native does, registers each build under its own names, and times it on batches of
512 real training reviews (results/data/imdb, from make reproduce's data stage), median of 7 rounds of 20 batches,
the builds alternating, so that a busy moment of the machine weighs on all alike. Prints milliseconds per batch.

- By default: the kernel against the same source built with OVERFIT_UNCHECKED_BASELINE, which skips the check
  (gather + scatter together). The unchecked build exists only here.
- ``--isa``: gather and scatter apart, the kernel row-major as a model alone keeps it, for the build with every
  instruction set (the widest this CPU has runs), the builds capped at AVX2 and at SSE2 (native.ISA_FLAGS), the same
  for ``--baseline`` (another version of csr_kernel.cc, e.g. ``git show HEAD:src/overfit/engine/csr_kernel.cc``),
  and XLA's CSR kernel (the engine's fallback). Set XLA_FLAGS=--xla_cpu_max_isa=AVX2 to cap XLA's side too.
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
from jax.experimental import sparse as jsparse

from overfit.data import imdb
from overfit.engine import native

ROOT = Path(__file__).resolve().parents[1]


def build(source: Path, target: Path, *defines: str) -> Path:
    subprocess.run(["c++", *native.FLAGS, *defines, f"-I{jax.ffi.include_dir()}", str(source), "-o", str(target)],
                   check=True)
    return target


def register(prefix: str, library: Path) -> str:
    """Registers the library's targets as prefix + name; returns the build it runs here (older sources: unknown)."""
    lib = ctypes.cdll.LoadLibrary(str(library))
    for name in native.TARGETS:
        jax.ffi.register_ffi_target(prefix + name, jax.ffi.pycapsule(getattr(lib, name)), platform="cpu")
    if not hasattr(lib, "overfit_csr_isa"):
        return "?"
    lib.overfit_csr_isa.restype = ctypes.c_char_p
    return lib.overfit_csr_isa().decode()


def step(prefix: str, width: int):
    def run(ids, begins, ends, kernel, cotangent):
        rows = begins.shape[0]
        out = jax.ffi.ffi_call(prefix + "overfit_csr_gather", jax.ShapeDtypeStruct((rows, width), jnp.float32))(
            ids, begins, ends, kernel)
        grad = jax.ffi.ffi_call(prefix + "overfit_csr_scatter", jax.ShapeDtypeStruct(kernel.shape, jnp.float32))(
            ids, begins, ends, cotangent)
        return out.sum() + grad.sum()
    return jax.jit(run)


def products(prefix: str | None, width: int, vocabulary: int = 10000):
    """(gather, scatter) of a build, or of XLA's CSR kernel (prefix None); each returns a scalar to wait on."""
    if prefix is None:
        def gather(ids, indptr, kernel):
            n = ids.shape[0]
            return (jsparse.BCSR((jnp.ones(n), ids, indptr), shape=(indptr.shape[0] - 1, vocabulary)) @ kernel)[0, 0]

        def scatter(t_rows, t_indptr, cotangent):
            n = t_rows.shape[0]
            return (jsparse.BCSR((jnp.ones(n), t_rows, t_indptr), shape=(vocabulary, cotangent.shape[0]))
                    @ cotangent)[0, 0]
        return jax.jit(gather), jax.jit(scatter)

    def gather(ids, begins, ends, kernel):
        return jax.ffi.ffi_call(prefix + "overfit_csr_gather", jax.ShapeDtypeStruct((begins.shape[0], width),
                                                                                    jnp.float32))(
            ids, begins, ends, kernel)[0, 0]

    def scatter(ids, begins, ends, cotangent):
        return jax.ffi.ffi_call(prefix + "overfit_csr_scatter", jax.ShapeDtypeStruct((vocabulary, width), jnp.float32))(
            ids, begins, ends, cotangent)[0, 0]
    return jax.jit(gather), jax.jit(scatter)


def median_ms(rounds: dict, label: str, run, arguments) -> None:
    start = time.perf_counter()
    for a in arguments:
        run(*a).block_until_ready()
    rounds.setdefault(label, []).append((time.perf_counter() - start) / len(arguments) * 1e3)


def check_cost(widths, ids, offsets, batches, rng, tmp: Path) -> None:
    register("unchecked_", build(native.SOURCE, tmp / "unchecked.so", "-DOVERFIT_UNCHECKED_BASELINE"))
    register("checked_", build(native.SOURCE, tmp / "checked.so"))
    print(f"ms per batch of 512 reviews (gather + scatter), median of 7 rounds of {len(batches)} batches")
    for width in widths:
        kernel = jnp.asarray(rng.standard_normal((10000, width)).astype(np.float32))
        cotangent = jnp.ones((512, width), jnp.float32)
        args_of = [(ids, jnp.asarray(offsets[b]), jnp.asarray(offsets[b + 1]), kernel, cotangent) for b in batches]
        runs = {"checked": step("checked_", width), "unchecked": step("unchecked_", width)}
        rounds = {}
        for run in runs.values():
            run(*args_of[0]).block_until_ready()
        for _ in range(7):
            for label, run in runs.items():
                median_ms(rounds, label, run, args_of)
        times = {label: statistics.median(r) for label, r in rounds.items()}
        print(f"width {width:5d}: checked {times['checked']:.3f} ms, unchecked {times['unchecked']:.3f} ms, "
              f"ratio {times['checked'] / times['unchecked']:.3f}")


def per_isa(widths, train, batches, rng, tmp: Path, baseline: Path | None) -> None:
    builds = {}
    for source, tag in ((native.SOURCE, ""), *(((baseline, "baseline "),) if baseline else ())):
        for cap, defines in (("all", ()), ("avx2", native.ISA_FLAGS["avx2"]), ("sse2", native.ISA_FLAGS["sse2"])):
            if tag and cap == "sse2":
                continue
            prefix = f"{'baseline' if tag else 'kernel'}_{cap}_"
            runs = register(prefix, build(source, tmp / f"{prefix}.so", *defines))
            builds[f"{tag}{cap} ({runs})"] = prefix
    ids = jnp.asarray(train.ids.astype(np.int32))
    offsets = train.offsets.astype(np.int32)
    csr_batches = []
    for b in batches:  # XLA's CSR product reads the batch's own entries, and their transposed structure
        words = [train.ids[offsets[r]:offsets[r + 1]].astype(np.int32) for r in b]
        flat = np.concatenate(words)
        indptr = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int32)
        rows_of = np.repeat(np.arange(len(b), dtype=np.int32), np.diff(indptr))
        order = np.argsort(flat, kind="stable")
        t_indptr = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=10000))]).astype(np.int32)
        csr_batches.append((jnp.asarray(flat), jnp.asarray(indptr), jnp.asarray(rows_of[order]), jnp.asarray(t_indptr)))
    print(f"ms per batch of 512 reviews, median of 7 rounds of {len(batches)} batches; build (what runs here); "
          f"XLA_FLAGS applies to XLA's CSR only")
    for width in widths:
        kernel = jnp.asarray(rng.standard_normal((10000, width)).astype(np.float32))
        cotangent = jnp.asarray(rng.standard_normal((512, width)).astype(np.float32))
        runs = {}
        for label, prefix in builds.items():
            gather, scatter = products(prefix, width)
            runs[label] = (gather, [(ids, jnp.asarray(offsets[b]), jnp.asarray(offsets[b + 1]), kernel) for b in batches],
                           scatter, [(ids, jnp.asarray(offsets[b]), jnp.asarray(offsets[b + 1]), cotangent)
                                     for b in batches])
        gather, scatter = products(None, width)
        runs["XLA's CSR"] = (gather, [(f, p, kernel) for f, p, _, _ in csr_batches],
                             scatter, [(t, tp, cotangent) for _, _, t, tp in csr_batches])
        rounds = {}
        for gather, g_args, scatter, s_args in runs.values():
            gather(*g_args[0]).block_until_ready()
            scatter(*s_args[0]).block_until_ready()
        for _ in range(7):
            for label, (gather, g_args, scatter, s_args) in runs.items():
                median_ms(rounds, (label, "gather"), gather, g_args)
                median_ms(rounds, (label, "scatter"), scatter, s_args)
        csr = {part: statistics.median(rounds[("XLA's CSR", part)]) for part in ("gather", "scatter")}
        print(f"width {width}")
        for label in runs:
            g, s = (statistics.median(rounds[(label, part)]) for part in ("gather", "scatter"))
            print(f"  {label:<28} gather {g:7.3f} ({g / csr['gather']:4.2f}x CSR)  scatter {s:7.3f} "
                  f"({s / csr['scatter']:4.2f}x CSR)  both {g + s:7.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 512, 1024])
    parser.add_argument("--isa", action="store_true", help="gather and scatter per instruction set, and XLA's CSR")
    parser.add_argument("--baseline", type=Path, help="with --isa: another csr_kernel.cc to time alongside")
    args = parser.parse_args()
    assert native.available(), "the compiled kernel cannot be built here"
    train = imdb.load_split(ROOT / "results" / "data" / "imdb" / "train.npz")
    rng = np.random.default_rng(0)
    batches = [np.sort(rng.choice(len(train), 512, replace=False)) for _ in range(20)]
    with tempfile.TemporaryDirectory() as tmp:
        if args.isa:
            return per_isa(args.widths, train, batches, rng, Path(tmp), args.baseline)
        check_cost(args.widths, jnp.asarray(train.ids.astype(np.int32)), train.offsets.astype(np.int32), batches,
                   rng, Path(tmp))


if __name__ == "__main__":
    main()
