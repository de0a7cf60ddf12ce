"""The first layer's sparse products as a compiled C++ kernel (``csr_kernel.cc``), built on first use.

The kernel is an XLA FFI custom call: it runs inside the compiled training
step, on XLA's CPU threads, like XLA's own CSR kernel, whose numbers it gives
bit for bit (the file says why it is faster). It is built once per machine
with the system's C++ compiler against the headers jaxlib ships, into
``OVERFIT_NATIVE_DIR`` (default ``~/.cache/overfit/native``), under a name
that hashes the source, the flags and the jaxlib version: an edited kernel
or a new jaxlib builds anew, and a half-written library is never loaded
(it is written under a temporary name, then renamed).

A kernel can also live *in blocks* (``to_blocks``): (width / 32,
vocabulary, 32), the layout the C++ code works in, so that neither product
copies it. The engine keeps a wide model's first-layer kernel (and its
optimizer state) in blocks for the length of an epoch.

Where it cannot be built (no compiler, not a CPU backend), ``available()``
says so once in the log and the engine uses XLA's CSR kernel: the same
numbers, slower.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import jaxlib

log = logging.getLogger(__name__)

CODE_FILES = ("csr_kernel.cc",)  # code of every job that imports this module (overfit.imports)
SOURCE = Path(__file__).with_name(CODE_FILES[0])
FLAGS = ("-O3", "-std=c++17", "-shared", "-fPIC", "-w")
# OVERFIT_NATIVE_ISA caps the instruction sets the kernel is built for, so that a machine with AVX-512 can measure
# and test the code an AVX2-only (or SSE2-only) CPU runs (benchmarks/engine.py --isa avx2). Unset: every build, the
# widest the CPU has runs.
ISA_FLAGS = {"": (), "avx2": ("-DOVERFIT_MAX_ISA_AVX2",), "sse2": ("-DOVERFIT_MAX_ISA_SSE2",)}


def flags() -> tuple[str, ...]:
    """The compiler's flags: FLAGS and those of OVERFIT_NATIVE_ISA."""
    isa = os.environ.get("OVERFIT_NATIVE_ISA", "")
    if isa not in ISA_FLAGS:
        raise ValueError(f"OVERFIT_NATIVE_ISA={isa!r} is not an instruction-set cap the kernel knows: set it to one "
                         f"of {sorted(k for k in ISA_FLAGS if k)}, or unset it for every clone")
    return FLAGS + ISA_FLAGS[isa]
TARGETS = ("overfit_csr_gather", "overfit_csr_scatter", "overfit_csr_gather_blocks", "overfit_csr_scatter_blocks")
BLOCK = 32  # the kernel's columns per block (csr_kernel.cc)


def library_path() -> Path:
    folder = os.environ.get("OVERFIT_NATIVE_DIR") or Path.home() / ".cache" / "overfit" / "native"
    digest = hashlib.sha256(SOURCE.read_bytes() + " ".join(flags()).encode() + jaxlib.__version__.encode()).hexdigest()
    return Path(folder) / f"csr_kernel-{digest[:16]}.so"


def build(target: Path) -> None:
    """Compile the kernel to ``target`` (atomically: concurrent jobs may build it at the same time)."""
    compiler = os.environ.get("CXX") or "c++"
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C++ compiler ({compiler!r} not found; set CXX)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        partial = Path(scratch) / target.name
        done = subprocess.run([compiler, *flags(), f"-I{jax.ffi.include_dir()}", str(SOURCE), "-o", str(partial)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{compiler} failed: {done.stderr.strip()[-2000:]}")
        os.replace(partial, target)


@functools.cache
def available() -> bool:
    """Build (if needed) and register the kernel; False, logged once, where it cannot be."""
    if jax.default_backend() != "cpu":
        return False
    try:
        path = library_path()
        if not path.exists():
            log.info("building the first layer's CSR kernel: %s", path)
            build(path)
        library = ctypes.cdll.LoadLibrary(str(path))
        for name in TARGETS:
            jax.ffi.register_ffi_target(name, jax.ffi.pycapsule(getattr(library, name)), platform="cpu")
    except (OSError, RuntimeError) as exc:
        log.warning("the compiled CSR kernel is not available (%s); using XLA's CSR kernel: the same numbers, "
                    "slower", exc)
        return False
    return True


def _call(name: str, shape: tuple[int, ...]):
    if not available():
        raise RuntimeError("the compiled CSR kernel is not available here (the log says why): use the csr kernel")
    return jax.ffi.ffi_call(name, jax.ShapeDtypeStruct(shape, jnp.float32))


def gather(ids: jax.Array, begins: jax.Array, ends: jax.Array, kernel: jax.Array) -> jax.Array:
    """``multi_hot @ kernel``: (rows, width), row r the sum of the kernel rows of the word ids ``ids[begins[r]:ends[r]]``.

    ``ids``: a batch's own CSR entries (``begins, ends = indptr[:-1], indptr[1:]``) or a split's flat word ids.
    ``kernel``: (vocabulary, width), or in blocks (width / 32, vocabulary, 32).
    """
    rows = begins.shape[0]
    if kernel.ndim == 3:
        return _call("overfit_csr_gather_blocks", (rows, kernel.shape[0] * BLOCK))(ids, begins, ends, kernel)
    return _call("overfit_csr_gather", (rows, kernel.shape[1]))(ids, begins, ends, kernel)


def scatter(ids: jax.Array, begins: jax.Array, ends: jax.Array, cotangent: jax.Array, vocabulary: int,
            blocks: bool = False) -> jax.Array:
    """``multi_hotᵀ @ cotangent``: (vocabulary, width), each word's row the sum of the cotangent rows that hold it;
    with ``blocks``, in blocks (width / 32, vocabulary, 32)."""
    width = cotangent.shape[1]
    if blocks:
        return _call("overfit_csr_scatter_blocks", (width // BLOCK, vocabulary, BLOCK))(ids, begins, ends, cotangent)
    return _call("overfit_csr_scatter", (vocabulary, width))(ids, begins, ends, cotangent)


def to_blocks(kernel: jax.Array) -> jax.Array:
    """(vocabulary, width) → (width / 32, vocabulary, 32): block b holds the columns [32 b, 32 b + 32)."""
    vocabulary, width = kernel.shape
    return kernel.reshape(vocabulary, width // BLOCK, BLOCK).transpose(1, 0, 2)


def from_blocks(blocks: jax.Array) -> jax.Array:
    return blocks.transpose(1, 0, 2).reshape(blocks.shape[1], -1)
