"""Batch assembly: which rows make each batch, and the batch itself, assembled on the device.

The host draws each epoch's row permutation (Keras' shuffle) and cuts it into
batches of row indices; a compiled step turns a batch of indices into what
the first layer reads, from the split's flat arrays that sit on the device
once per job: for the compiled kernel, where each review's words begin and
end in them; for the others, the batch's own padded CSR entries. When XLA's
CSR kernel trains, the host also builds each batch's transposed structure
(words × reviews) for the kernel gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from overfit.data.imdb import SparseReviews
from overfit.engine.sparse import SparseBatch, transposed_structure
from overfit.errors import DataError

# Padded batch lengths are rounded up to this, so that a call compiles once
# for all its models and epochs in practice (a batch of 512 reviews holds
# about 67,000 word ids, varying by a few thousand between batches).
SLOT_QUANTUM = 2048


@dataclass
class DeviceSplit:
    """A prepared split's reviews as flat device arrays: word ids, where each review starts, its length, its label."""

    ids: jax.Array
    offsets: jax.Array
    lengths: jax.Array
    labels: jax.Array
    dense: jax.Array | None = None  # the multi-hot matrix, only for the dense reference
    host_lengths: np.ndarray = field(default=None, repr=False)

    @classmethod
    def from_reviews(cls, reviews: SparseReviews, vocabulary: int, dense: bool = False) -> "DeviceSplit":
        """The split on the device, for a first layer of ``vocabulary`` rows (``dense``: with its multi-hot matrix).

        Every word id must be a row of that layer: the compiled kernel would refuse the batch (csr_kernel.cc), XLA's
        CSR kernel would clip the id and train on another word's weights. Refused here first, once per job.
        """
        if len(reviews.ids) and not 0 <= int(reviews.ids.min()) <= int(reviews.ids.max()) < vocabulary:
            raise DataError(f"word ids from {int(reviews.ids.min())} to {int(reviews.ids.max())} do not fit a first "
                            f"layer of {vocabulary} words: the data was prepared with another vocabulary size than "
                            f"the model's (data.imdb.num_words); rebuild it (snakemake --forcerun prepare_imdb)")
        lengths = np.diff(reviews.offsets).astype(np.int32)
        return cls(
            ids=jnp.asarray(reviews.ids.astype(np.int32)),
            offsets=jnp.asarray(reviews.offsets[:-1].astype(np.int32)),
            lengths=jnp.asarray(lengths),
            labels=jnp.asarray(reviews.label.astype(np.float32)),
            dense=jnp.asarray(reviews.dense(vocabulary)) if dense else None,
            host_lengths=lengths,
        )

    def arrays(self):
        return (self.ids, self.offsets, self.lengths, self.labels, self.dense)


def sparse_batch(arrays, rows: jax.Array, slots: int, transposed=(None, None),
                 assemble: bool = True) -> tuple[SparseBatch, jax.Array, jax.Array]:
    """The batch of ``rows`` (-1 = padding) from the flat split arrays: with ``assemble``, its padded CSR entries
    (for the ``segment`` and ``csr`` kernels); without, slices of the split's flat word ids (``native``)."""
    ids, offsets, lengths, labels, _ = arrays
    valid = rows >= 0
    safe = jnp.where(valid, rows, 0)
    row_lengths = jnp.where(valid, lengths[safe], 0)
    if not assemble:
        begins = jnp.where(valid, offsets[safe], 0)
        return SparseBatch(ids=ids, begins=begins, ends=begins + row_lengths), labels[safe], valid.astype(jnp.float32)
    ends = jnp.cumsum(row_lengths)
    begins = ends - row_lengths
    # segment of each slot: how many rows (after the first) begin at or before it
    marks = jnp.zeros(slots, jnp.int32).at[begins[1:]].add(1, mode="drop")
    segments = jnp.cumsum(marks)
    slot = jnp.arange(slots, dtype=jnp.int32)
    inside = slot < ends[-1]
    position = jnp.clip(offsets[safe][segments] + slot - begins[segments], 0, ids.shape[0] - 1)
    batch = SparseBatch(
        ids=jnp.where(inside, ids[position], 0),
        begins=begins.astype(jnp.int32),
        ends=ends.astype(jnp.int32),
        segments=jnp.where(inside, segments, rows.shape[0]),  # out of range: dropped by the segment sum
        indptr=jnp.concatenate([jnp.zeros(1, jnp.int32), ends.astype(jnp.int32)]),
        transposed_rows=transposed[0],
        transposed_indptr=transposed[1],
    )
    return batch, labels[safe], valid.astype(jnp.float32)


def dense_batch(arrays, rows: jax.Array, slots: int, transposed=None):
    """The book's input: rows of the multi-hot matrix (the reference the sparse path is tested against)."""
    _, _, _, labels, dense = arrays
    valid = rows >= 0
    safe = jnp.where(valid, rows, 0)
    return dense[safe], labels[safe], valid.astype(jnp.float32)


def round_up(value: int) -> int:
    return max(SLOT_QUANTUM, -(-int(value) // SLOT_QUANTUM) * SLOT_QUANTUM)


def batched_rows(rows: np.ndarray, batch_size: int) -> np.ndarray:
    """rows padded with -1 to whole batches: Keras keeps the last partial batch, so do we (masked)."""
    n_batches = -(-len(rows) // batch_size)
    padded = np.full(n_batches * batch_size, -1, dtype=np.int32)
    padded[: len(rows)] = rows
    return padded.reshape(n_batches, batch_size)


def max_slots(batches: np.ndarray, host_lengths: np.ndarray) -> int:
    lengths = np.where(batches >= 0, host_lengths[np.maximum(batches, 0)], 0)
    return int(lengths.sum(axis=-1).max())


def shuffled_epochs(train_rows: np.ndarray, shuffle_seed: int, epochs: int, batch_size: int) -> list[np.ndarray]:
    """Each epoch's batches of row indices: Keras reshuffles the training rows every epoch."""
    rng = np.random.default_rng(shuffle_seed)
    return [batched_rows(train_rows[rng.permutation(len(train_rows))], batch_size) for _ in range(epochs)]


class EpochInputs:
    """The device inputs of one epoch's compiled call: its batches, plus their transposed structure for the CSR kernel."""

    def __init__(self, train: SparseReviews, host_lengths: np.ndarray, vocabulary: int, slots: int, csr: bool):
        self.train, self.host_lengths, self.vocabulary, self.slots, self.csr = train, host_lengths, vocabulary, slots, csr

    def __call__(self, batches: np.ndarray):
        if not self.csr:
            return jnp.asarray(batches), (None, None)
        transposed = transposed_structure(batches, self.train.ids, self.train.offsets, self.host_lengths,
                                          self.vocabulary, self.slots)
        return jnp.asarray(batches), tuple(jnp.asarray(a) for a in transposed)
