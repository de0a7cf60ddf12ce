"""The compiled CSR kernel (engine.native): XLA's CSR numbers bit for bit, and a clean fallback where it cannot be built."""

import ctypes
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse as jsparse

from overfit.engine import native, sparse
from overfit.engine.model import ModelSpec
from overfit.engine.train import Trainer, TrainingSpec, train_models
from test_engine import VOCABULARY, random_reviews, small_runs, table

needs_kernel = pytest.mark.skipif(not native.available(), reason="the compiled kernel could not be built here (see log)")


def random_csr(rows: int, vocabulary: int, seed: int):
    """Sorted, unique word ids per row; some rows empty; the batch padded past its last entry, as the engine pads."""
    rng = np.random.default_rng(seed)
    words = [np.sort(rng.choice(vocabulary, rng.integers(0, 30) * (r % 7 != 3), replace=False)) for r in range(rows)]
    ids = np.concatenate([*words, np.full(17, vocabulary - 1)]).astype(np.int32)  # padding slots: never read
    indptr = np.concatenate([[0], np.cumsum([len(w) for w in words])]).astype(np.int32)
    return ids, indptr


@needs_kernel
@pytest.mark.parametrize("width", [8, 20, 32, 40, 56, 100, 256])
def test_gather_and_scatter_equal_xlas_csr_products_bit_for_bit(width):
    """Widths below one block (a partial block padded to 16 columns, or to 32), one block, a block and a partial one
    (of 8 columns, of 24), blocks over both threads with a partial one."""
    rows, vocabulary = 64, 300
    ids, indptr = random_csr(rows, vocabulary, width)
    rng = np.random.default_rng(1)
    kernel = jnp.asarray(rng.standard_normal((vocabulary, width)).astype(np.float32))
    cotangent = jnp.asarray(rng.standard_normal((rows, width)).astype(np.float32))
    n = int(indptr[-1])
    # the words × rows structure XLA's CSR product reads for the gradient, as the engine builds it
    t_rows, t_indptr = (a[0] for a in sparse.transposed_structure(
        np.arange(rows)[None], ids, indptr[:-1], np.diff(indptr), vocabulary, n))

    begins, ends = indptr[:-1], indptr[1:]
    forward = jax.jit(native.gather)(ids, begins, ends, kernel)
    if width % native.BLOCK == 0:  # the kernel in blocks: the same products
        assert np.array_equal(jax.jit(native.gather)(ids, begins, ends, native.to_blocks(kernel)), forward)
        in_blocks = jax.jit(native.scatter, static_argnums=(4, 5))(ids, begins, ends, cotangent, vocabulary, True)
        assert np.array_equal(native.from_blocks(in_blocks), jax.jit(native.scatter, static_argnums=4)(
            ids, begins, ends, cotangent, vocabulary))
    xla_forward = jax.jit(lambda k: jsparse.BCSR((jnp.ones(n), ids[:n], indptr), shape=(rows, vocabulary)) @ k)(kernel)
    gradient = jax.jit(native.scatter, static_argnums=4)(ids, begins, ends, cotangent, vocabulary)
    xla_gradient = jax.jit(lambda c: jsparse.BCSR((jnp.ones(n), t_rows, t_indptr), shape=(vocabulary, rows)) @ c)(cotangent)

    assert np.array_equal(np.asarray(forward), np.asarray(xla_forward))
    assert np.array_equal(np.asarray(gradient), np.asarray(xla_gradient))
    # and both are the product they stand for
    multi_hot = np.zeros((rows, vocabulary))
    for r in range(rows):
        multi_hot[r, ids[indptr[r]:indptr[r + 1]]] = 1
    np.testing.assert_allclose(forward, multi_hot @ np.asarray(kernel, np.float64), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gradient, multi_hot.T @ np.asarray(cotangent, np.float64), rtol=1e-5, atol=1e-5)
    assert np.all(np.asarray(forward)[np.diff(indptr) == 0] == 0)

    # the same rows read as slices of a split's flat ids, where they lie (rows stored in another order, with other
    # reviews between them, as the engine's training step reads them): the same products, bit for bit
    order = np.random.default_rng(2).permutation(rows)
    pieces, where = [np.full(5, 7, np.int32)], {}
    for r in order:
        where[r] = sum(len(p) for p in pieces)
        pieces += [ids[indptr[r]:indptr[r + 1]], np.full(3, 11, np.int32)]
    flat = np.concatenate(pieces)
    split_begins = np.array([where[r] for r in range(rows)], np.int32)
    split_ends = split_begins + np.diff(indptr)
    assert np.array_equal(jax.jit(native.gather)(flat, split_begins, split_ends, kernel), forward)
    assert np.array_equal(jax.jit(native.scatter, static_argnums=4)(flat, split_begins, split_ends, cotangent,
                                                                    vocabulary), gradient)


@needs_kernel
@pytest.mark.parametrize("hidden, l2, blocks", [([72, 8], 0.001, False), ([64, 8], 0.0, True), ([64, 8], 0.001, True)])
def test_training_with_the_compiled_kernel_equals_xlas_csr(hidden, l2, blocks):
    """Bit for bit, the first-layer kernel in blocks for the epoch or not; with an L2 penalty on a kernel in blocks,
    the penalty's sum adds the weights in another order: the training is the same, its reported loss within rounding."""
    splits = {"train": random_reviews(48, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build(hidden, l2=l2, input_dim=VOCABULARY)
    tables = {}
    for how in ("native", "csr"):
        training = TrainingSpec(epochs=4, batch_size=16, sparse_kernel=how, learning_rate=0.01)
        trainer = Trainer(spec, training)
        assert trainer.blocks == (blocks and how == "native")
        tables[how] = table(train_models(spec, small_runs(), training, splits, trainer=trainer))
    native_table, csr_table = tables["native"], tables["csr"]
    if blocks and l2:
        exact = ~native_table.metric.isin(["loss"])
        assert native_table[exact].equals(csr_table[exact])
        np.testing.assert_allclose(native_table.value, csr_table.value, rtol=1e-6)
    else:
        assert native_table.equals(csr_table)
    assert TrainingSpec().kernel() == "native" and TrainingSpec(sparse_kernel="segment").kernel() == "segment"


def test_a_kernel_in_blocks_and_back():
    kernel = jnp.arange(7 * 64, dtype=jnp.float32).reshape(7, 64)
    blocks = native.to_blocks(kernel)
    assert blocks.shape == (2, 7, 32) and blocks[1, 3, 5] == kernel[3, 32 + 5]
    assert np.array_equal(native.from_blocks(blocks), kernel)


def _in_a_fresh_process(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env})


def test_without_a_compiler_the_engine_uses_xlas_csr_and_says_so(tmp_path):
    code = ("import logging; logging.basicConfig(); from overfit.engine.train import TrainingSpec; "
            "print(TrainingSpec().kernel())")
    done = _in_a_fresh_process(code, CXX=str(tmp_path / "no-such-compiler"), OVERFIT_NATIVE_DIR=str(tmp_path / "lib"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "csr"
    assert "compiled CSR kernel is not available" in done.stderr and "no-such-compiler" in done.stderr
    assert not (tmp_path / "lib").exists() or not any((tmp_path / "lib").iterdir())


def test_a_failed_build_leaves_nothing_and_an_edited_kernel_builds_anew(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERFIT_NATIVE_DIR", str(tmp_path))
    monkeypatch.setenv("CXX", "false")  # a compiler that fails
    with pytest.raises(RuntimeError, match="false failed"):
        native.build(native.library_path())
    assert list(tmp_path.iterdir()) == []
    edited = tmp_path / "edited" / "csr_kernel.cc"
    edited.parent.mkdir()
    edited.write_text(native.SOURCE.read_text() + "\n// edited\n")
    before = native.library_path()
    monkeypatch.setattr(native, "SOURCE", edited)
    assert native.library_path() != before and native.library_path().parent == tmp_path


@needs_kernel
@pytest.mark.parametrize("bad", ["id = vocabulary", "id = 2 × vocabulary", "id = 50,000,000", "id = -1",
                                 "slice past the ids", "slice ends before it begins"])
def test_the_kernel_refuses_a_batch_outside_its_arrays_and_touches_nothing(bad):
    """Issue 28: ids past the table once read zeros (forward), wrote outside the table (gradient), aborted the process
    with a double free or died of a segmentation fault. Every call now checks first and raises; the process goes on."""
    rows, vocabulary, width = 16, 300, 64
    ids, indptr = random_csr(rows, vocabulary, 3)
    begins, ends = indptr[:-1].copy(), indptr[1:].copy()
    row = int(np.argmax(ends > begins))  # a row that holds words
    if bad.startswith("id"):
        ids[begins[row]] = {"id = vocabulary": vocabulary, "id = 2 × vocabulary": 2 * vocabulary,
                            "id = 50,000,000": 50_000_000, "id = -1": -1}[bad]
    elif bad == "slice past the ids":
        ends[row] = len(ids) + 5
    else:
        begins[row], ends[row] = ends[row], begins[row]
    kernel = jnp.ones((vocabulary, width), jnp.float32)
    cotangent = jnp.ones((rows, width), jnp.float32)
    calls = {"gather": lambda: native.gather(ids, begins, ends, kernel),
             "gather in blocks": lambda: native.gather(ids, begins, ends, native.to_blocks(kernel)),
             "scatter": lambda: native.scatter(ids, begins, ends, cotangent, vocabulary),
             "scatter in blocks": lambda: native.scatter(ids, begins, ends, cotangent, vocabulary, True)}
    for name, call in calls.items():
        with pytest.raises(Exception, match="OUT_OF_RANGE.*refused before reading or writing") as error:
            np.asarray(jax.jit(call)())
        assert "overfit_csr_" in str(error.value), name
    # the batch mended is computed right (a kernel of ones sums to each row's word count): no state left behind
    ids, indptr = random_csr(rows, vocabulary, 3)
    counts = np.broadcast_to(np.diff(indptr)[:, None], (rows, width))
    assert np.array_equal(np.asarray(native.gather(ids, indptr[:-1], indptr[1:], kernel)), counts)


def _cpu_flags() -> set[str]:
    info = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    return set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))


def _build_runs(library: ctypes.CDLL) -> str:
    library.overfit_csr_isa.restype = ctypes.c_char_p
    return library.overfit_csr_isa().decode()


@needs_kernel
@pytest.mark.parametrize("cap", ["avx2", "sse2"])
def test_a_build_capped_at_an_older_instruction_set_gives_the_same_numbers(cap, monkeypatch):
    """Issue 31: the AVX2 build ran a 16-float vector code that GCC split badly (3× slower gather); each instruction set
    now has code of its own width. Capped (OVERFIT_NATIVE_ISA), the build runs that code on any CPU: the same products,
    bit for bit, as the widest build, over odd rows (one row left after the pairs) and partial blocks."""
    widest = _build_runs(ctypes.cdll.LoadLibrary(str(native.library_path())))
    flags, builds = _cpu_flags(), ["avx512f", "avx2", "sse2"]
    if flags:  # the widest build the CPU has, within the cap of this session's OVERFIT_NATIVE_ISA, if any
        allowed = builds[builds.index(os.environ.get("OVERFIT_NATIVE_ISA") or "avx512f"):]
        assert widest == next(isa for isa in allowed if isa == "sse2" or isa in flags)
    monkeypatch.setenv("OVERFIT_NATIVE_ISA", cap)
    path = native.library_path()
    if not path.exists():
        native.build(path)
    library = ctypes.cdll.LoadLibrary(str(path))
    assert _build_runs(library) == (cap if cap == "sse2" or cap in flags else "sse2")
    for name in native.TARGETS:
        jax.ffi.register_ffi_target(f"{cap}_{name}", jax.ffi.pycapsule(getattr(library, name)), platform="cpu")

    rows, vocabulary = 37, 300
    ids, indptr = random_csr(rows, vocabulary, 5)
    begins, ends = indptr[:-1], indptr[1:]
    rng = np.random.default_rng(6)
    for width in (12, 40, 64):
        kernel = jnp.asarray(rng.standard_normal((vocabulary, width)).astype(np.float32))
        cotangent = jnp.asarray(rng.standard_normal((rows, width)).astype(np.float32))
        calls = {"gather": ((rows, width), (ids, begins, ends, kernel)),
                 "scatter": ((vocabulary, width), (ids, begins, ends, cotangent))}
        if width % native.BLOCK == 0:
            calls["gather_blocks"] = ((rows, width), (ids, begins, ends, native.to_blocks(kernel)))
            calls["scatter_blocks"] = ((width // native.BLOCK, vocabulary, native.BLOCK), (ids, begins, ends, cotangent))
        for call, (shape, arguments) in calls.items():
            mine, theirs = (jax.jit(jax.ffi.ffi_call(f"{prefix}overfit_csr_{call}", jax.ShapeDtypeStruct(
                shape, jnp.float32)))(*arguments) for prefix in (f"{cap}_", ""))
            assert np.array_equal(np.asarray(mine), np.asarray(theirs)), (call, width)
            assert np.any(np.asarray(theirs) != 0)


def test_an_unknown_instruction_set_cap_is_refused_with_the_ones_there_are(monkeypatch):
    monkeypatch.setenv("OVERFIT_NATIVE_ISA", "avx9")
    with pytest.raises(ValueError, match=r"OVERFIT_NATIVE_ISA='avx9'.*\['avx2', 'sse2'\]"):
        native.library_path()
