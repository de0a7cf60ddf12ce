"""The first layer on multi-hot input without the multi-hot matrix.

``multi_hot @ kernel`` for a batch of reviews is, per review, the sum of the
kernel rows of its words. Three ways to compute it:

- ``native`` (the engine's, at every width): our compiled kernel
  (``native``, ``csr_kernel.cc``). It reads each review's word ids where
  they lie in the split's flat array (no batch is assembled), gives XLA's
  CSR numbers bit for bit, and its gradient needs no transposed structure.
  At widths 4 to 16 it takes under half the time ``segment`` does; at 512,
  about 70% of what ``csr`` takes.
- ``csr``: XLA's CPU sparse-dense matmul (the custom call behind
  ``jax.experimental.sparse.BCSR``) for the forward pass, and for the kernel
  gradient the same matmul with the batch's *transposed* CSR structure
  (words × reviews), which the host builds with a radix sort. The fallback
  where the compiled kernel cannot be built: the same numbers, slower.
- ``segment``: gather the rows, ``segment_sum`` them; JAX differentiates it
  (the backward is a scatter-add). Pure JAX, summed in another order: the
  reference the tests hold the other two to, and the last-layer study's.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import sparse as jsparse

from overfit.engine import native


class SparseBatch(NamedTuple):
    """A batch of multi-hot rows: row r holds the words ``ids[begins[r]:ends[r]]``.

    *Assembled* (for ``segment`` and ``csr``), ``ids`` is the batch's own padded
    CSR entries: ``ids[k]`` is a word present in review ``segments[k]``; slots
    past the batch's entries carry ``segments == num_rows`` (dropped by the
    segment sum) and lie past ``indptr[-1]`` (ignored by the CSR kernel).
    Otherwise (``native``) ``ids`` is the split's flat word ids, read where
    they lie, and ``segments`` and ``indptr`` are None.
    """

    ids: jax.Array  # (L,) int32, word ids, row-major
    begins: jax.Array  # (rows,) int32, where each row's words begin in ids
    ends: jax.Array  # (rows,) int32, and end
    segments: jax.Array | None = None  # (L,) int32, sorted
    indptr: jax.Array | None = None  # (rows + 1,) int32
    transposed_rows: jax.Array | None = None  # (L,) review of each entry, entries sorted by word
    transposed_indptr: jax.Array | None = None  # (vocabulary + 1,) int32

    @property
    def num_rows(self) -> int:
        return self.begins.shape[0]


def _csr(data, indices, indptr, shape):
    return jsparse.BCSR((data, indices, indptr), shape=shape, indices_sorted=True, unique_indices=True)


@jax.custom_vjp
def csr_first_layer(kernel, ids, indptr, transposed_rows, transposed_indptr):
    ones = jnp.ones(ids.shape, kernel.dtype)
    return _csr(ones, ids, indptr, (indptr.shape[0] - 1, kernel.shape[0])) @ kernel


def _csr_forward(kernel, ids, indptr, transposed_rows, transposed_indptr):
    out = csr_first_layer(kernel, ids, indptr, transposed_rows, transposed_indptr)
    return out, (kernel.shape[0], transposed_rows, transposed_indptr, ids, indptr)


def _csr_backward(residuals, cotangent):
    vocabulary, transposed_rows, transposed_indptr, ids, indptr = residuals
    ones = jnp.ones(transposed_rows.shape, cotangent.dtype)
    transposed = jsparse.BCSR((ones, transposed_rows, transposed_indptr), shape=(vocabulary, cotangent.shape[0]))
    kernel_grad = transposed @ cotangent  # multi_hotᵀ @ d(out)
    zeros = [np.zeros(a.shape, jax.dtypes.float0) for a in (ids, indptr, transposed_rows, transposed_indptr)]
    return (kernel_grad, *zeros)


csr_first_layer.defvjp(_csr_forward, _csr_backward)


@jax.custom_vjp
def native_first_layer(kernel, ids, begins, ends):
    return native.gather(ids, begins, ends, kernel)


def _native_forward(kernel, ids, begins, ends):
    return native.gather(ids, begins, ends, kernel), (kernel.shape, ids, begins, ends)


def _native_backward(residuals, cotangent):
    shape, ids, begins, ends = residuals
    zeros = [np.zeros(a.shape, jax.dtypes.float0) for a in (ids, begins, ends)]
    # (vocabulary, width), or in blocks (width / 32, vocabulary, 32): the gradient in the kernel's layout
    return (native.scatter(ids, begins, ends, cotangent, shape[-2], blocks=len(shape) == 3), *zeros)


native_first_layer.defvjp(_native_forward, _native_backward)

KERNELS = ("segment", "csr", "native")


def first_layer(kernel: jax.Array, batch: SparseBatch, how: str) -> jax.Array:
    """``multi_hot(batch) @ kernel`` by the chosen kernel (one of ``KERNELS``).

    Training with ``csr`` passes the transposed structure (a differentiable
    CSR product); evaluation needs no gradient and passes none.
    """
    if how == "native":
        return native_first_layer(kernel, batch.ids, batch.begins, batch.ends)
    if batch.indptr is None:
        raise ValueError(f"the {how} kernel reads an assembled batch (batches.sparse_batch(..., assemble=True))")
    if batch.transposed_rows is not None:
        return csr_first_layer(kernel, batch.ids, batch.indptr, batch.transposed_rows, batch.transposed_indptr)
    if how == "csr":
        ones = jnp.ones(batch.ids.shape, kernel.dtype)
        return _csr(ones, batch.ids, batch.indptr, (batch.num_rows, kernel.shape[0])) @ kernel
    rows = jnp.take(kernel, batch.ids, axis=0, mode="clip")
    return jax.ops.segment_sum(rows, batch.segments, num_segments=batch.num_rows, indices_are_sorted=True)


def transposed_structure(batches: np.ndarray, flat_ids: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
                         vocabulary: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Per batch of row indices (-1 = padding): the words × reviews CSR structure of its multi-hot matrix.

    Entries are grouped by word (a stable radix sort of the 16-bit word ids),
    each word's entries in review order.
    """
    n_batches, batch_size = batches.shape
    rows_out = np.zeros((n_batches, slots), np.int32)
    indptr_out = np.zeros((n_batches, vocabulary + 1), np.int32)
    for b, rows in enumerate(batches):
        positions = np.flatnonzero(rows >= 0).astype(np.int32)  # a review's row in the batch, padding skipped
        rows = rows[positions]
        row_lengths = lengths[rows]
        total = int(row_lengths.sum())
        starts = np.repeat(offsets[rows] - (np.cumsum(row_lengths) - row_lengths), row_lengths)
        ids = flat_ids[starts + np.arange(total)]
        order = np.argsort(ids, kind="stable")
        rows_out[b, :total] = np.repeat(positions, row_lengths)[order]
        np.cumsum(np.bincount(ids, minlength=vocabulary), out=indptr_out[b, 1:])
    return rows_out, indptr_out
