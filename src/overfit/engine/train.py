"""Train many models: the folds of a protocol, the seeds of a final fit, and stacks of models that share batches.

Every model sees the same device copy of the data; what makes it "fold 2" or
"seed 1" is only which rows it trains and validates on, its initialisation
seed and its shuffle seed. One epoch is one compiled call: a ``lax.scan``
over the epoch's batches (read on the device, see ``batches``), then a
validation pass.

A *stack* is several models of different settings (widths, penalties,
dropout) that train on the same rows in the same order, as every experiment
of a protocol does (seeds are paired across experiments). They share each
step's batch and its dispatch; models of one architecture (a group) share
each layer's product (``stack``). Each group's first layer is its own
sparse product: at these widths one more product costs less than joining
the groups' kernels into one every step. Each model computes what it would
alone, up to float rounding. A model trained alone is a stack of one.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from overfit.data.imdb import SparseReviews
from overfit.engine import choice, metrics, native, sparse, stack
from overfit.engine.batches import DeviceSplit, EpochInputs, batched_rows, dense_batch, max_slots, round_up, \
    shuffled_epochs, sparse_batch
from overfit.engine.losses import binary_crossentropy, correct
from overfit.engine.model import ModelSpec
from overfit.engine.optim import keras_optimizer, with_weight_decay
from overfit.engine.progress import Progress
from overfit.engine.sparse import SparseBatch
from overfit.protocols import Fold, shuffled_labels

log = logging.getLogger(__name__)

# loss and accuracy as the book reports them, and the measures of success of section 4.5 (engine.metrics)
METRICS = ("loss", "data_loss", "acc", *metrics.NAMES)


@dataclass(frozen=True)
class TrainingSpec:
    epochs: int = 20
    batch_size: int = 512
    edition: int = 1
    learning_rate: float = 1e-3
    clipped_loss: bool = True  # Keras' clipped binary cross-entropy; False = exact from logits
    weight_decay: float = 0.0  # decoupled decay of the hidden kernels (optim.with_weight_decay); 0 = the book's
    optimizer: str = "rmsprop"  # the book's; "sgd" where L2 and weight decay are the same update (optim.OPTIMIZERS)
    eval_batch_size: int = 2048
    input_mode: str = "sparse"  # "dense" = the book's multi-hot matmul: the reference of tests and benchmarks
    sparse_kernel: str = "auto"  # one of sparse.KERNELS, or "auto": the faster here, measured (engine.choice)
    # Keras' ``fit(class_weight={0: w0, 1: w1})``: each training row's loss weighted by its class, the batch's loss
    # still its mean over the rows (Keras' "sum over batch size"); validation is unweighted, as Keras'. None: the book's
    class_weight: tuple[float, float] | None = None

    def kernel(self) -> str | None:
        """The first layer's kernel in training as far as it is known without a model (None: dense input).

        ``auto`` reads here as the compiled kernel; a ``Trainer`` asks ``engine.choice`` instead, which measures
        it against XLA's CSR kernel on this machine at the model's width. ``native`` falls back to ``csr`` (the
        same numbers) where it cannot be built.
        """
        if self.input_mode != "sparse":
            return None
        how = "native" if self.sparse_kernel == "auto" else self.sparse_kernel
        if how not in sparse.KERNELS:
            raise ValueError(f"sparse_kernel {how!r}: expected auto or one of {', '.join(sparse.KERNELS)}")
        return "csr" if how == "native" and not native.available() else how


@dataclass(frozen=True)
class Run:
    """One model to train: its protocol's fold (which rows it trains and validates on), seed and seeds drawn from it."""

    protocol: str
    fold: Fold
    seed: int  # which of the protocol's seeds on this fold
    init_seed: int
    shuffle_seed: int
    evaluate_every_epoch: bool = True  # a final fit looks at the test set once, after its last epoch
    evaluation_name: str = "validation"  # the `split` column of its evaluation rows
    label_noise: float = 0.0  # the share of its training rows whose labels are shuffled among them (memorization)
    noise_seed: int = 0
    # also score every epoch on the whole test split (rows with split "test"): the tuning-leak study measures
    # how optimistic a chosen validation score is with it; nothing is chosen on it
    evaluate_test: bool = False

    @property
    def labels(self) -> dict:
        """How its rows in the results are labeled."""
        return {"protocol": self.protocol, "repeat": self.fold.repeat, "fold": self.fold.fold, "seed": self.seed}


class Trainer:
    """The compiled epoch and evaluation functions of a stack of models (often a stack of one)."""

    def __init__(self, specs: ModelSpec | tuple[ModelSpec, ...], training: TrainingSpec):
        self.specs = (specs,) if isinstance(specs, ModelSpec) else tuple(specs)
        if len({spec.input_dim for spec in self.specs}) != 1:
            raise ValueError("a stack's models must read the same input")
        self.training = training
        self.optimizer = with_weight_decay(keras_optimizer(training.optimizer, training.learning_rate, training.edition),
                                           training.learning_rate * training.weight_decay)
        self.groups = stack.groups_of(self.specs)
        # the groups list their models by architecture; this puts the models back in the stack's order
        self.order = np.argsort(np.concatenate([group.members for group in self.groups]))
        self.kernel = training.kernel()
        if training.sparse_kernel == "auto" and self.kernel is not None:  # the faster kernel here (engine.choice)
            self.kernel = choice.choose(sum(group.columns for group in self.groups), self.specs[0].input_dim)
        # the compiled kernel reads the reviews' words where they lie; the others, a batch's own entries
        self.make_batch = (functools.partial(sparse_batch, assemble=self.kernel != "native")
                           if training.input_mode == "sparse" else dense_batch)
        # evaluation needs no gradient: a CSR kernel wins at every width
        self.eval_kernel = "native" if self.kernel == "native" else "csr"
        # a model alone on the compiled kernel keeps its first-layer kernel in the kernel's blocks for an epoch
        # (native.to_blocks): no step then copies it into blocks or its gradient out of them
        self.blocks = (self.kernel == "native" and len(self.groups) == 1 and len(self.groups[0].specs) == 1
                       and self.groups[0].columns % native.BLOCK == 0)
        self.use_dropout = any(rate > 0 for spec in self.specs for rate in spec.dropout)
        # Donating the parameters and optimizer state lets XLA update the
        # 10,000-wide first layer in place instead of copying it every epoch.
        self.train_epoch = jax.jit(self._train_epoch, static_argnums=(6,), donate_argnums=(0, 1))
        self.evaluate = jax.jit(self._evaluate, static_argnums=(3,))
        self.predict = jax.jit(self._predict, static_argnums=(3,))

    def init(self, seed: int):
        """Each model initialised as it would be alone (Keras' Glorot uniform from ``seed``)."""
        params = tuple(stack.init(group, seed) for group in self.groups)
        return params, self.optimizer.init(params)

    def _in_order(self, per_group: list[jax.Array]) -> jax.Array:
        return jnp.concatenate(per_group, axis=-1)[..., self.order]

    def logits(self, params, batch, key, how: str | None) -> jax.Array:
        """(rows, models): each group's first-layer product on the batch, then its later layers."""
        def first(kernel):
            return sparse.first_layer(kernel, batch, how) if isinstance(batch, SparseBatch) else batch @ kernel

        return self._in_order([stack.logits(g, p, first(p["kernels"][0]), key) for g, p in zip(self.groups, params)])

    def penalties(self, params) -> jax.Array:
        return self._in_order([stack.penalties(g, p) for g, p in zip(self.groups, params)])

    def _batch_loss(self, params, batch, labels, weights, key):
        logits = self.logits(params, batch, key, self.kernel)
        n = jnp.maximum(weights.sum(), 1.0)
        per_example = binary_crossentropy(logits, labels[:, None], self.training.clipped_loss)
        loss_weights = weights
        if self.training.class_weight is not None:  # padding rows keep their 0
            negative, positive = self.training.class_weight
            loss_weights = weights * jnp.where(labels > 0.5, positive, negative)
        data = jnp.sum(per_example * loss_weights[:, None], axis=0) / n
        hits = jnp.sum(correct(logits, labels[:, None]) * weights[:, None], axis=0)
        losses = data + self.penalties(params)
        # the models share no parameter: the gradient of the sum is each model's own gradient
        return jnp.sum(losses), (losses, data, hits, weights.sum(), metrics.counts(logits, labels, weights))

    def _train_epoch(self, params, opt_state, arrays, batches, transposed, key, slots):
        keys = jax.random.split(key, batches.shape[0])
        if self.blocks:
            params, opt_state = _first_kernels(native.to_blocks, params), _first_kernels(native.to_blocks, opt_state)

        def step(carry, inputs):
            params, opt_state = carry
            rows, step_transposed, step_key = inputs
            batch, labels, weights = self.make_batch(arrays, rows, slots, step_transposed)
            grad_fn = jax.value_and_grad(self._batch_loss, has_aux=True)
            (_, (losses, data, hits, n, counts)), grads = grad_fn(params, batch, labels, weights,
                                                                  step_key if self.use_dropout else None)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            params = jax.tree.map(jnp.add, params, updates)
            sums = jnp.stack([losses * n, data * n, hits, jnp.broadcast_to(n, hits.shape)], axis=1)
            return (params, opt_state), jnp.concatenate([sums, counts], axis=1)

        (params, opt_state), sums = jax.lax.scan(step, (params, opt_state), (batches, transposed, keys))
        if self.blocks:
            params, opt_state = _first_kernels(native.from_blocks, params), _first_kernels(native.from_blocks, opt_state)
        totals = sums.sum(axis=0)  # (models, 4 + metrics.WIDTH)
        # Keras' epoch loss: the batch-size-weighted mean of the batch losses (penalty in, dropout on); its AUC,
        # precision and recall: from the epoch's counts, as its stateful metrics
        return params, opt_state, jnp.concatenate([totals[:, :3] / totals[:, 3:4],
                                                   metrics.scores(totals[:, 4:], totals[:, 3])], axis=1)

    def _evaluate(self, params, arrays, chunks, slots):
        def chunk_sums(rows):
            batch, labels, weights = self.make_batch(arrays, rows, slots)
            # forward only: no transposed structure needed
            logits = self.logits(params, batch, None, self.eval_kernel)
            losses = binary_crossentropy(logits, labels[:, None], self.training.clipped_loss)
            sums = jnp.stack([jnp.sum(losses * weights[:, None], axis=0),
                              jnp.sum(correct(logits, labels[:, None]) * weights[:, None], axis=0),
                              jnp.broadcast_to(weights.sum(), (logits.shape[1],))], axis=1)
            return jnp.concatenate([sums, metrics.counts(logits, labels, weights)], axis=1)

        totals = jax.lax.map(chunk_sums, chunks).sum(axis=0)  # (models, 3 + metrics.WIDTH)
        data_loss = totals[:, 0] / totals[:, 2]
        # Keras' val_loss includes the weight penalty
        return jnp.concatenate([jnp.stack([data_loss + self.penalties(params), data_loss, totals[:, 1] / totals[:, 2]], axis=1),
                                metrics.scores(totals[:, 3:], totals[:, 2])], axis=1)

    def _predict(self, params, arrays, chunks, slots):
        """(chunks × chunk rows, models): each row's sigmoid output; padding rows come out too (the caller drops them)."""
        def chunk_probabilities(rows):
            batch, _, _ = self.make_batch(arrays, rows, slots)
            return jax.nn.sigmoid(self.logits(params, batch, None, self.eval_kernel))

        return jax.lax.map(chunk_probabilities, chunks).reshape(-1, len(self.specs))


def _first_kernels(relayout, tree):
    """``tree`` (parameters, or optimizer state shaped like them) with ``relayout`` applied to its first-layer kernels."""
    def leaf(path, value):
        first = (len(path) >= 2 and isinstance(path[-2], jax.tree_util.DictKey) and path[-2].key == "kernels"
                 and isinstance(path[-1], jax.tree_util.SequenceKey) and path[-1].idx == 0)
        return relayout(value) if first else value

    return jax.tree_util.tree_map_with_path(leaf, tree)


def train_models(spec: ModelSpec, runs: list[Run], training: TrainingSpec, splits: dict[str, SparseReviews],
                 trainer: Trainer | None = None) -> list[dict]:
    """Train every run for ``training.epochs``; return tidy metric rows.

    Each row: the run's labels, epoch, split ("train" or the run's evaluation
    name), metric (loss, data_loss, acc), value, ``diverged`` (True on the
    epoch where the loss stopped being finite; that run stops there), and the
    run's ``train_size`` and ``validation_size`` (rows), which the claims'
    intervals and steps per epoch are computed from.
    """
    return train_stack((spec,), runs, training, splits, trainer=trainer, names=("model",))[0]


def train_stack(specs: tuple[ModelSpec, ...], runs: list[Run], training: TrainingSpec,
                splits: dict[str, SparseReviews], trainer: Trainer | None = None,
                names: tuple[str, ...] | None = None, train_only: list[int] | None = None,
                predictions: list | None = None) -> list[list[dict]]:
    """Train every run of every model in ``specs`` (a stack: each run trains all of them on its batches).

    Returns one list of rows per model, each as ``train_models`` returns them.
    ``train_only``: train only these of ``runs`` (a part of a protocol, for a
    cluster); batches are padded for all of them, so a part computes exactly
    what the whole does. ``predictions``: a list that gets, per run trained,
    its models' predicted probabilities of "positive" on its validation rows
    after the last epoch, (validation rows in the fold's order, models).
    """
    trainer = trainer or Trainer(specs, training)
    names = names or tuple(f"model {i + 1}" for i in range(len(specs)))
    tested = any(run.evaluate_test for run in runs)
    device = {name: DeviceSplit.from_reviews(splits[name], specs[0].input_dim, dense=training.input_mode == "dense")
              for name in {"train", *(run.fold.validation_split for run in runs), *(["test"] if tested else [])}}
    epoch_batches = [shuffled_epochs(run.fold.train_rows, run.shuffle_seed, training.epochs, training.batch_size) for run in runs]
    eval_chunks = [batched_rows(np.asarray(run.fold.validation_rows, np.int32), training.eval_batch_size) for run in runs]
    # the largest batch of any run, rounded up: every call compiles once
    train_slots = round_up(max(max_slots(b, device["train"].host_lengths) for batches in epoch_batches for b in batches))
    eval_slots = round_up(max(max_slots(c, device[run.fold.validation_split].host_lengths)
                              for c, run in zip(eval_chunks, runs)))
    if tested:
        test_chunks = jnp.asarray(batched_rows(np.arange(len(splits["test"]), dtype=np.int32), training.eval_batch_size))
        test_slots = round_up(max_slots(np.asarray(test_chunks), device["test"].host_lengths))
    epoch_inputs = EpochInputs(splits["train"], device["train"].host_lengths, specs[0].input_dim, train_slots,
                               trainer.kernel == "csr")

    chosen = range(len(runs)) if train_only is None else train_only
    rows = [[] for _ in specs]
    progress = Progress(len(chosen), training.epochs, names)
    for index, i in enumerate(chosen):
        run, batches, chunks = runs[i], epoch_batches[i], eval_chunks[i]
        params, opt_state = trainer.init(run.init_seed)
        arrays, eval_arrays = device["train"].arrays(), device[run.fold.validation_split].arrays()
        if run.label_noise:  # only its training rows' labels change: its validation rows keep theirs
            noisy = jnp.asarray(shuffled_labels(splits["train"].label, run.fold.train_rows, run.label_noise, run.noise_seed))
            arrays = (*arrays[:3], noisy, *arrays[4:])
        base_key = jax.random.key(run.shuffle_seed)
        alive = [True] * len(specs)
        inputs = epoch_inputs(batches[0])
        for epoch in range(1, training.epochs + 1):
            params, opt_state, train_metrics = trainer.train_epoch(
                params, opt_state, arrays, *inputs, jax.random.fold_in(base_key, epoch), train_slots)
            evaluation = test = None
            if run.evaluate_every_epoch or epoch == training.epochs:
                evaluation = trainer.evaluate(params, eval_arrays, jnp.asarray(chunks), eval_slots)
            if run.evaluate_test:
                test = np.asarray(trainer.evaluate(params, device["test"].arrays(), test_chunks, test_slots))
            if epoch < training.epochs:  # the host builds the next epoch's inputs while the device trains this one
                inputs = epoch_inputs(batches[epoch])
            train_metrics = np.asarray(train_metrics)
            evaluation = None if evaluation is None else np.asarray(evaluation)
            for m in range(len(specs)):
                if alive[m]:
                    shown = None if evaluation is None else evaluation[m]
                    if _record(rows[m], run, epoch, train_metrics[m], shown, None if test is None else test[m]):
                        alive[m] = False
                        log.warning("%s, run %s diverged at epoch %d", names[m], run.labels, epoch)
            progress.epoch_done(index, run, epoch, train_metrics, evaluation, alive)
            if not any(alive):
                progress.skip(training.epochs - epoch)
                break
        if predictions is not None:  # a diverged model's are NaN, as its loss
            p = np.asarray(trainer.predict(params, eval_arrays, jnp.asarray(chunks), eval_slots))
            predictions.append(p[:len(run.fold.validation_rows)])
    return rows


def _record(rows: list, run: Run, epoch: int, train_metrics: np.ndarray, evaluation: np.ndarray | None,
            test: np.ndarray | None = None) -> bool:
    """Append the epoch's rows; return True when the run diverged (a non-finite loss)."""
    diverged = not np.all(np.isfinite(train_metrics)) or (evaluation is not None and not np.all(np.isfinite(evaluation)))
    for split, values in (("train", train_metrics), (run.evaluation_name, evaluation), ("test", test)):
        if values is None:
            continue
        rows.extend(_row(run, epoch, split, metric, value, diverged) for metric, value in zip(METRICS, values))
    return diverged


def untrained_rows(runs: list[Run]) -> list[dict]:
    """The rows of runs that were never trained (their epochs could not be chosen): epoch 0, no values, diverged."""
    return [_row(run, 0, run.evaluation_name, metric, float("nan"), True) for run in runs for metric in METRICS]


def _row(run: Run, epoch: int, split: str, metric: str, value, diverged: bool) -> dict:
    return {**run.labels, "epoch": epoch, "split": split, "metric": metric, "value": float(value), "diverged": diverged,
            "train_size": len(run.fold.train_rows), "validation_size": len(run.fold.validation_rows)}
