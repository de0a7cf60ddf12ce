"""Train many models of one architecture: the folds of a protocol, or the seeds of a final fit.

Every model sees the same device copy of the data; what makes it "fold 2" or
"seed 1" is only which rows it trains and validates on, its initialisation
seed and its shuffle seed. One epoch is one compiled call: a ``lax.scan``
over the epoch's batches (the batch's sparse rows are assembled on the
device from a row permutation the host draws), then a validation pass.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from overfit.data.imdb import SparseReviews
from overfit.engine.losses import binary_crossentropy, correct
from overfit.engine.model import MLP, ModelSpec
from overfit.engine.optim import rmsprop_for_edition
from overfit.engine.sparse import SparseBatch, transposed_structure

log = logging.getLogger(__name__)

# Padded batch lengths are rounded up to this, so that a call compiles once
# for all its models and epochs in practice (a batch of 512 reviews holds
# about 67,000 word ids, varying by a few thousand between batches).
SLOT_QUANTUM = 2048
METRICS = ("loss", "data_loss", "acc")
# From this first-layer width on, the CSR kernel beats gather + segment_sum
# on our 2-core CPU (benchmarks/engine.py --kernels measures the crossover).
CSR_MIN_WIDTH = 64


@dataclass(frozen=True)
class TrainingSpec:
    epochs: int = 20
    batch_size: int = 512
    edition: int = 1
    learning_rate: float = 1e-3
    clipped_loss: bool = True  # Keras' clipped binary cross-entropy; False = exact from logits
    eval_batch_size: int = 2048
    vectorize: bool = False  # vmap over the models instead of a loop (slower on a 2-core CPU)
    input_mode: str = "sparse"  # "dense" = the book's multi-hot matmul, kept as the reference
    sparse_kernel: str = "auto"  # "segment", "csr", or "auto": csr from CSR_MIN_WIDTH on

    def uses_csr(self, spec: ModelSpec) -> bool:
        if self.input_mode != "sparse":
            return False
        if self.sparse_kernel == "auto":
            return spec.hidden[0] >= CSR_MIN_WIDTH
        return self.sparse_kernel == "csr"


@dataclass(frozen=True)
class Run:
    """One model to train and how its rows in the results are labeled."""

    labels: dict  # protocol, repeat, fold, seed
    train_rows: np.ndarray  # rows of the training split it trains on
    validation_split: str  # which prepared split its validation rows index: "train" or "test"
    validation_rows: np.ndarray
    init_seed: int
    shuffle_seed: int
    evaluate_every_epoch: bool = True  # a final fit looks at the test set once, after its last epoch
    evaluation_name: str = "validation"  # the `split` column of its evaluation rows


@dataclass
class DeviceSplit:
    ids: jax.Array
    offsets: jax.Array
    lengths: jax.Array
    labels: jax.Array
    dense: jax.Array | None = None
    host_lengths: np.ndarray = field(default=None, repr=False)

    @classmethod
    def from_reviews(cls, reviews: SparseReviews, dense_dim: int | None = None) -> "DeviceSplit":
        lengths = np.diff(reviews.offsets).astype(np.int32)
        return cls(
            ids=jnp.asarray(reviews.ids.astype(np.int32)),
            offsets=jnp.asarray(reviews.offsets[:-1].astype(np.int32)),
            lengths=jnp.asarray(lengths),
            labels=jnp.asarray(reviews.label.astype(np.float32)),
            dense=None if dense_dim is None else jnp.asarray(reviews.dense(dense_dim)),
            host_lengths=lengths,
        )

    def arrays(self):
        return (self.ids, self.offsets, self.lengths, self.labels, self.dense)


def sparse_batch(arrays, rows: jax.Array, slots: int, transposed=(None, None)) -> tuple[SparseBatch, jax.Array, jax.Array]:
    """Assemble the padded CSR batch of ``rows`` (-1 = padding) from the flat split arrays."""
    ids, offsets, lengths, labels, _ = arrays
    valid = rows >= 0
    safe = jnp.where(valid, rows, 0)
    row_lengths = jnp.where(valid, lengths[safe], 0)
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
        segments=jnp.where(inside, segments, rows.shape[0]),  # out of range: dropped by the segment sum
        indptr=jnp.concatenate([jnp.zeros(1, jnp.int32), ends.astype(jnp.int32)]),
        transposed_rows=transposed[0],
        transposed_indptr=transposed[1],
    )
    return batch, labels[safe], valid.astype(jnp.float32)


def dense_batch(arrays, rows: jax.Array, slots: int, transposed=None):
    _, _, _, labels, dense = arrays
    valid = rows >= 0
    safe = jnp.where(valid, rows, 0)
    return dense[safe], labels[safe], valid.astype(jnp.float32)


def _round_up(value: int) -> int:
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


class Trainer:
    """The compiled epoch and evaluation functions for one architecture and training setup."""

    def __init__(self, spec: ModelSpec, training: TrainingSpec):
        self.spec, self.training = spec, training
        self.optimizer = rmsprop_for_edition(training.edition, training.learning_rate)
        self.graphdef, _ = nnx.split(MLP(spec, nnx.Rngs(0)))
        self.make_batch = sparse_batch if training.input_mode == "sparse" else dense_batch
        self.csr = training.uses_csr(spec)
        epoch, evaluate = self._train_epoch, self._evaluate
        if training.vectorize:
            epoch = jax.vmap(epoch, in_axes=(0, 0, None, 0, 0, 0, None))
            evaluate = jax.vmap(evaluate, in_axes=(0, None, 0, None))
        # Donating the parameters and optimizer state lets XLA update the
        # 10,000-wide first layer in place instead of copying it every epoch.
        self.train_epoch = jax.jit(epoch, static_argnums=(6,), donate_argnums=(0, 1))
        self.evaluate = jax.jit(evaluate, static_argnums=(3,))

    def init(self, seed: int):
        params = nnx.state(MLP(self.spec, nnx.Rngs(params=seed)), nnx.Param)
        return params, self.optimizer.init(params)

    def _batch_loss(self, params, batch, labels, weights, key):
        model = nnx.merge(self.graphdef, params)
        logits = model(batch, dropout_key=key, csr=self.csr)
        n = jnp.maximum(weights.sum(), 1.0)
        data_loss = jnp.sum(binary_crossentropy(logits, labels, self.training.clipped_loss) * weights) / n
        hits = jnp.sum(correct(logits, labels) * weights)
        return data_loss + model.penalty(), (data_loss, hits, weights.sum())

    def _train_epoch(self, params, opt_state, arrays, batches, transposed, key, slots):
        keys = jax.random.split(key, batches.shape[0])
        use_dropout = any(rate > 0 for rate in self.spec.dropout)

        def step(carry, inputs):
            params, opt_state = carry
            rows, step_transposed, step_key = inputs
            batch, labels, weights = self.make_batch(arrays, rows, slots, step_transposed)
            grad_fn = jax.value_and_grad(self._batch_loss, has_aux=True)
            (loss, (data_loss, hits, n)), grads = grad_fn(params, batch, labels, weights, step_key if use_dropout else None)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            params = jax.tree.map(jnp.add, params, updates)
            return (params, opt_state), jnp.stack([loss * n, data_loss * n, hits, n])

        (params, opt_state), sums = jax.lax.scan(step, (params, opt_state), (batches, transposed, keys))
        totals = sums.sum(axis=0)
        # Keras' epoch loss: the batch-size-weighted mean of the batch losses (penalty in, dropout on)
        return params, opt_state, totals[:3] / totals[3]

    def _evaluate(self, params, arrays, chunks, slots):
        def chunk_sums(rows):
            batch, labels, weights = self.make_batch(arrays, rows, slots)
            # Forward only: the CSR kernel wins at every width and needs no transposed structure.
            logits = nnx.merge(self.graphdef, params)(batch, csr=self.training.input_mode == "sparse")
            losses = binary_crossentropy(logits, labels, self.training.clipped_loss)
            return jnp.stack([jnp.sum(losses * weights), jnp.sum(correct(logits, labels) * weights), weights.sum()])

        totals = jax.lax.map(chunk_sums, chunks).sum(axis=0)
        data_loss = totals[0] / totals[2]
        penalty = nnx.merge(self.graphdef, params).penalty()
        # Keras' val_loss includes the weight penalty
        return jnp.stack([data_loss + penalty, data_loss, totals[1] / totals[2]])


def train_models(spec: ModelSpec, runs: list[Run], training: TrainingSpec, splits: dict[str, SparseReviews],
                 trainer: Trainer | None = None) -> list[dict]:
    """Train every run for ``training.epochs``; return tidy metric rows.

    Each row: the run's labels, epoch, split ("train" or the run's evaluation
    name), metric (loss, data_loss, acc), value, ``diverged`` (True on the
    epoch where the loss stopped being finite; that run stops there), and the
    run's ``train_size`` and ``validation_size`` (rows), which the claims'
    intervals and steps per epoch are computed from.
    """
    trainer = trainer or Trainer(spec, training)
    dense_dim = spec.input_dim if training.input_mode == "dense" else None
    device = {name: DeviceSplit.from_reviews(splits[name], dense_dim)
              for name in {"train", *(run.validation_split for run in runs)}}
    epoch_batches = []
    for run in runs:
        rng = np.random.default_rng(run.shuffle_seed)
        epoch_batches.append([batched_rows(run.train_rows[rng.permutation(len(run.train_rows))], training.batch_size)
                              for _ in range(training.epochs)])
    eval_chunks = [batched_rows(np.asarray(run.validation_rows, np.int32), training.eval_batch_size) for run in runs]
    train_slots = _round_up(max(max_slots(b, device["train"].host_lengths) for batches in epoch_batches for b in batches))
    eval_slots = _round_up(max(max_slots(c, device[run.validation_split].host_lengths) for c, run in zip(eval_chunks, runs)))

    def epoch_inputs(batches: np.ndarray):
        """The epoch's batches, plus their transposed structure when the CSR kernel trains."""
        if not trainer.csr:
            return jnp.asarray(batches), (None, None)
        split = splits["train"]
        transposed = transposed_structure(batches, split.ids, split.offsets, device["train"].host_lengths,
                                          spec.input_dim, train_slots)
        return jnp.asarray(batches), tuple(jnp.asarray(a) for a in transposed)

    if training.vectorize:
        return _train_vectorized(trainer, runs, training, device, epoch_batches, eval_chunks, train_slots, eval_slots,
                                 epoch_inputs)
    rows = []
    progress = Progress(len(runs), training.epochs)
    for index, (run, batches, chunks) in enumerate(zip(runs, epoch_batches, eval_chunks)):
        params, opt_state = trainer.init(run.init_seed)
        arrays, eval_arrays = device["train"].arrays(), device[run.validation_split].arrays()
        base_key = jax.random.key(run.shuffle_seed)
        for epoch in range(1, training.epochs + 1):
            params, opt_state, train_metrics = trainer.train_epoch(
                params, opt_state, arrays, *epoch_inputs(batches[epoch - 1]), jax.random.fold_in(base_key, epoch),
                train_slots)
            evaluation = None
            if run.evaluate_every_epoch or epoch == training.epochs:
                evaluation = trainer.evaluate(params, eval_arrays, jnp.asarray(chunks), eval_slots)
            train_metrics = np.asarray(train_metrics)
            evaluation = None if evaluation is None else np.asarray(evaluation)
            diverged = _record(rows, run, epoch, train_metrics, evaluation)
            progress.epoch_done(index, run, epoch, train_metrics, evaluation)
            if diverged:
                log.warning("run %s diverged at epoch %d", run.labels, epoch)
                progress.skip(training.epochs - epoch)
                break
    return rows


class Progress:
    """One log line per model-epoch: where the job stands and about how long it has left.

    The estimate is the mean time of the epochs so far (the first one includes
    compilation, so early estimates run high) times the epochs still to train.
    """

    def __init__(self, models: int, epochs: int):
        self.models, self.epochs, self.total = models, epochs, models * epochs
        self.done, self.start = 0, time.monotonic()
        self.last = self.start

    def skip(self, epochs: int) -> None:
        self.total -= epochs

    def epoch_done(self, index: int, run: Run, epoch: int, train_metrics: np.ndarray, evaluation: np.ndarray | None) -> None:
        now = time.monotonic()
        self.done += 1
        seconds, self.last = now - self.last, now
        left = (now - self.start) / self.done * (self.total - self.done)
        where = ", ".join(f"{k} {v}" for k, v in run.labels.items() if k != "protocol")
        shown = f", {run.evaluation_name} loss {evaluation[0]:.4f}" if evaluation is not None else ""
        log.info("model %d/%d (%s) epoch %d/%d: loss %.4f%s; %.2f s; job %d%% done, about %s left",
                 index + 1, self.models, where, epoch, self.epochs, train_metrics[0], shown, seconds,
                 100 * self.done // max(self.total, 1), _duration(left), extra={"progress": True})


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def _train_vectorized(trainer, runs, training, device, epoch_batches, eval_chunks, train_slots, eval_slots,
                      epoch_inputs):
    if len({run.validation_split for run in runs}) != 1 or len({len(c) for c in eval_chunks}) != 1:
        raise ValueError("vectorized training needs runs of one validation split and size")
    states = [trainer.init(run.init_seed) for run in runs]
    params = jax.tree.map(lambda *xs: jnp.stack(xs), *[s[0] for s in states])
    opt_state = jax.tree.map(lambda *xs: jnp.stack(xs), *[s[1] for s in states])
    arrays, eval_arrays = device["train"].arrays(), device[runs[0].validation_split].arrays()
    chunks = jnp.asarray(np.stack(eval_chunks))
    base_keys = [jax.random.key(run.shuffle_seed) for run in runs]
    alive = [True] * len(runs)
    rows = []
    for epoch in range(1, training.epochs + 1):
        inputs = [epoch_inputs(b[epoch - 1]) for b in epoch_batches]
        batches = jnp.stack([i[0] for i in inputs])
        transposed = jax.tree.map(lambda *xs: jnp.stack(xs), *[i[1] for i in inputs]) if trainer.csr else (None, None)
        keys = jnp.stack([jax.random.fold_in(k, epoch) for k in base_keys])
        params, opt_state, train_metrics = trainer.train_epoch(params, opt_state, arrays, batches, transposed, keys,
                                                               train_slots)
        evaluation = None
        if any(run.evaluate_every_epoch for run in runs) or epoch == training.epochs:
            evaluation = np.asarray(trainer.evaluate(params, eval_arrays, chunks, eval_slots))
        train_metrics = np.asarray(train_metrics)
        for i, run in enumerate(runs):
            if alive[i]:
                shown = evaluation[i] if evaluation is not None and (run.evaluate_every_epoch or epoch == training.epochs) else None
                alive[i] = not _record(rows, run, epoch, train_metrics[i], shown)
    return rows


def _record(rows: list, run: Run, epoch: int, train_metrics: np.ndarray, evaluation: np.ndarray | None) -> bool:
    """Append the epoch's rows; return True when the run diverged (a non-finite loss)."""
    diverged = not np.all(np.isfinite(train_metrics)) or (evaluation is not None and not np.all(np.isfinite(evaluation)))
    for split, values in (("train", train_metrics), (run.evaluation_name, evaluation)):
        if values is None:
            continue
        rows.extend(_row(run, epoch, split, metric, value, diverged) for metric, value in zip(METRICS, values))
    return diverged


def untrained_rows(runs: list[Run]) -> list[dict]:
    """The rows of runs that were never trained (their epochs could not be chosen): epoch 0, no values, diverged."""
    return [_row(run, 0, run.evaluation_name, metric, float("nan"), True) for run in runs for metric in METRICS]


def _row(run: Run, epoch: int, split: str, metric: str, value, diverged: bool) -> dict:
    return {**run.labels, "epoch": epoch, "split": split, "metric": metric, "value": float(value), "diverged": diverged,
            "train_size": len(run.train_rows), "validation_size": len(run.validation_rows)}
