"""The dense path: the book's MLP on dense float inputs (images, any feature matrix), multi-class or regression.

The IMDB engine (``train``) reads reviews as word ids and trains one sigmoid
output. This one reads a float matrix and ends in a softmax over classes
(Keras' sparse categorical cross-entropy and accuracy, ``losses``) or a
linear layer (mean squared error and mean absolute error). The rest is the
same: Keras' Dense initialisation, Keras' optimizers (``optim``), rows
reshuffled every epoch with the last partial batch kept (masked), one epoch
as one compiled ``lax.scan`` over its batches, then every evaluation set
scored; tidy metric rows; a run is decided by its seeds alone.

Layers: Dense(h, relu) for each hidden width, then the output layer; no
hidden layer at all is the book's logistic regression, ``Dense(10, softmax)``.
A spec with ``conv`` filters puts a small convnet in front, as the 2nd
edition's chapter 8 builds one: Conv2D(f, 3, relu) then MaxPooling2D(2) for
each, on the rows read as square one-channel images, then Flatten.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from overfit.engine.batches import batched_rows, shuffled_epochs
from overfit.engine.losses import binary_crossentropy, correct, mean_squared_error, sparse_categorical_correct, \
    sparse_categorical_crossentropy
from overfit.engine.model import glorot_dense
from overfit.engine.optim import keras_optimizer
from overfit.engine.progress import Progress
from overfit.grid import pooled_side

log = logging.getLogger(__name__)

# what each head reports, the loss first
METRICS = {"softmax": ("loss", "acc"), "sigmoid": ("loss", "acc"), "linear": ("loss", "mae")}


@dataclass(frozen=True)
class DenseSpec:
    hidden: tuple[int, ...]  # () = logistic regression
    outputs: int  # classes (softmax) or targets (linear)
    # "softmax": sparse categorical cross-entropy; "sigmoid" (one output): the IMDB engine's binary cross-entropy,
    # so that its models can run here on multi-hot rows; "linear": mean squared error
    head: str = "softmax"
    # filters of each Conv2D(f, 3×3, relu, "valid") + MaxPooling2D(2) before the dense layers; () = none
    conv: tuple[int, ...] = ()


@dataclass(frozen=True)
class DenseTraining:
    epochs: int
    batch_size: int = 128  # the 2nd edition's MNIST listings
    optimizer: str = "rmsprop"
    learning_rate: float = 1e-3
    edition: int = 2  # which Keras' RMSprop (optim.EDITIONS)
    # the cross-entropy on clipped probabilities (Keras 2.0.8 and Keras 3), else exact from the logits (tf.keras 2,
    # the 2nd edition's, inside fit): config/config.yaml's `editions` says which edition computed which
    clipped_loss: bool = True
    eval_batch_size: int = 4096


@dataclass
class DenseRun:
    """One model to train: the rows of the training matrix it trains on, what it is scored on, its seeds."""

    labels: dict  # how its rows in the results are labeled
    train_rows: np.ndarray
    # split name -> (x, y) scored after every epoch (validation, a damaged copy of it, ...)
    evaluations: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    init_seed: int = 0
    shuffle_seed: int = 0

    @property
    def evaluation_name(self) -> str:
        return next(iter(self.evaluations), "validation")


def image_side(input_dim: int) -> int:
    """The side of the square one-channel images a convnet reads its flat rows as."""
    side = math.isqrt(input_dim)
    if side * side != input_dim:
        raise ValueError(f"a convnet reads its rows as square images: {input_dim} inputs are not a square")
    return side


def conv_output(side: int, filters: tuple[int, ...]) -> int:
    """The length of the convnet's flattened output (overfit.grid.pooled_side: each block's 3×3 valid convolution
    takes 2 off the side, its 2×2 pooling halves it)."""
    pooled = pooled_side(side, filters)
    if pooled < 1:
        raise ValueError(f"{len(filters)} convolution blocks leave nothing of the image")
    return pooled * pooled * filters[-1]


def init(spec: DenseSpec, input_dim: int, seed: int) -> list[tuple[jax.Array, jax.Array]]:
    """Keras' defaults (Glorot uniform kernels, zero biases), layer by layer: a Conv2D's fans count its 3×3
    window, as Keras' do; the dense layers start from the convnet's flattened output."""
    rngs = nnx.Rngs(params=seed)
    params = []
    if spec.conv:
        glorot = nnx.initializers.glorot_uniform()
        for channels, filters in zip((1, *spec.conv[:-1]), spec.conv):
            params.append((glorot(rngs.params(), (3, 3, channels, filters), jnp.float32), jnp.zeros((filters,))))
        input_dim = conv_output(image_side(input_dim), spec.conv)
    widths = (input_dim, *spec.hidden, spec.outputs)
    layers = [glorot_dense(a, b, rngs) for a, b in zip(widths[:-1], widths[1:])]
    return params + [(layer.kernel[...], layer.bias[...]) for layer in layers]


def logits(params, x: jax.Array) -> jax.Array:
    """The last layer's values: a softmax's logits, a sigmoid's logit, a linear head's output. Convolution
    kernels (4-d) come first when there are any: the rows are read as square images, then flattened back."""
    h = x
    if params[0][0].ndim == 4:
        side = math.isqrt(x.shape[1])
        h = x.reshape(len(x), side, side, 1)
        for kernel, bias in (p for p in params if p[0].ndim == 4):
            h = jax.lax.conv_general_dilated(h, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + bias)
            # MaxPooling2D(2): an odd side loses its last row and column, as Keras' "valid" pooling; a reshape's
            # max, whose gradient XLA computes faster on a CPU than reduce_window's
            n, rows, columns, channels = h.shape
            h = h[:, :rows // 2 * 2, :columns // 2 * 2].reshape(n, rows // 2, 2, columns // 2, 2, channels).max(axis=(2, 4))
        h = h.reshape(len(h), -1)  # Flatten: rows, then columns, then channels, as Keras' (channels last)
    dense = [p for p in params if p[0].ndim == 2]
    for kernel, bias in dense[:-1]:
        h = jax.nn.relu(h @ kernel + bias)
    kernel, bias = dense[-1]
    return h @ kernel + bias


def forward(params, x: jax.Array, head: str) -> jax.Array:
    """The output: class scores that sum to 1 (softmax), or the last layer's values (linear; sigmoid: the logit,
    which the loss turns into a probability)."""
    out = logits(params, x)
    return jax.nn.softmax(out, axis=-1) if head == "softmax" else out


def per_example(out: jax.Array, y: jax.Array, head: str, clipped: bool = True) -> tuple[jax.Array, jax.Array]:
    """(loss, second metric) per row of the last layer's values ``out``: cross-entropy and accuracy, or squared
    and absolute error. ``clipped``: the cross-entropy on the clipped probabilities (Keras 2.0.8, Keras 3), else
    the exact one from the logits (tf.keras 2 inside ``fit``); the accuracy is read from the probabilities."""
    if head == "softmax":
        probabilities = jax.nn.softmax(out, axis=-1)
        loss = sparse_categorical_crossentropy(probabilities if clipped else out, y, clipped)
        return loss, sparse_categorical_correct(probabilities, y)
    if head == "sigmoid":
        return binary_crossentropy(out[:, 0], y, clipped), correct(out[:, 0], y)
    return mean_squared_error(out, y), jnp.mean(jnp.abs(out - y), axis=-1)


class DenseTrainer:
    """The compiled epoch and evaluation of one model shape (the runs of a job share them)."""

    def __init__(self, spec: DenseSpec, input_dim: int, training: DenseTraining):
        if spec.head not in METRICS:
            raise ValueError(f"no head {spec.head!r}: use {' or '.join(METRICS)}")
        self.spec, self.input_dim, self.training = spec, input_dim, training
        self.optimizer = keras_optimizer(training.optimizer, training.learning_rate, training.edition)
        self.train_epoch = jax.jit(self._train_epoch, donate_argnums=(0, 1))
        self.evaluate = jax.jit(self._evaluate)
        self.apply = jax.jit(lambda params, x: forward(params, x, spec.head))

    def init(self, seed: int):
        params = init(self.spec, self.input_dim, seed)
        return params, self.optimizer.init(params)

    def _batch_loss(self, params, x, y, weights):
        loss, other = per_example(logits(params, x), y, self.spec.head, self.training.clipped_loss)
        n = jnp.maximum(weights.sum(), 1.0)
        return jnp.sum(loss * weights) / n, jnp.stack([jnp.sum(loss * weights), jnp.sum(other * weights), weights.sum()])

    def _train_epoch(self, params, opt_state, x, y, batches):
        def step(carry, rows):
            params, opt_state = carry
            safe, weights = jnp.maximum(rows, 0), (rows >= 0).astype(jnp.float32)
            grads, sums = jax.grad(self._batch_loss, has_aux=True)(params, x[safe], y[safe], weights)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            return (jax.tree.map(jnp.add, params, updates), opt_state), sums

        (params, opt_state), sums = jax.lax.scan(step, (params, opt_state), batches)
        totals = sums.sum(axis=0)
        # Keras' epoch figures: the batch-size-weighted means over the epoch's batches, taken as it trains
        return params, opt_state, totals[:2] / totals[2]

    def _evaluate(self, params, x, y, chunks):
        def chunk(rows):
            safe, weights = jnp.maximum(rows, 0), (rows >= 0).astype(jnp.float32)
            loss, other = per_example(logits(params, x[safe]), y[safe], self.spec.head, self.training.clipped_loss)
            return jnp.stack([jnp.sum(loss * weights), jnp.sum(other * weights), weights.sum()])

        totals = jax.lax.map(chunk, chunks).sum(axis=0)
        return totals[:2] / totals[2]

    def predict(self, params, x: np.ndarray) -> np.ndarray:
        size = self.training.eval_batch_size
        return np.concatenate([np.asarray(self.apply(params, jnp.asarray(x[i:i + size], jnp.float32)))
                               for i in range(0, len(x), size)])


def train(items: list[tuple[np.ndarray, np.ndarray, DenseRun]], spec: DenseSpec, training: DenseTraining,
          trainer: DenseTrainer | None = None, keep: bool = False, progress: Progress | None = None
          ) -> tuple[list[dict], list]:
    """Train every run on rows of its ``(x, y)`` for ``training.epochs``; return (tidy metric rows, parameters).

    ``items``: (x, y, run) per run; runs that share an ``x`` share its device
    copy. A row: the run's labels, epoch, split ("train" or an evaluation's
    name), metric (``METRICS[head]``), value, ``diverged`` (the epoch its loss
    stopped being finite; the run stops there) and ``train_size``. ``keep``:
    also return each run's final parameters (else an empty list).
    ``progress``: the job's, where a job trains its runs in several calls.
    """
    trainer = trainer or DenseTrainer(spec, items[0][0].shape[1], training)
    names = METRICS[spec.head]
    devices: dict[int, tuple] = {}  # an array shared by runs goes to the device once

    def on_device(x, y, chunked=False):
        if (id(x), id(y)) not in devices:
            devices[(id(x), id(y))] = (jnp.asarray(x, jnp.float32), jnp.asarray(y))
        if chunked:  # an evaluation set also needs its rows in chunks
            rows = batched_rows(np.arange(len(x), dtype=np.int32), training.eval_batch_size)
            return (*devices[(id(x), id(y))], jnp.asarray(rows))
        return devices[(id(x), id(y))]

    rows, kept = [], []
    progress = progress or Progress(len(items), training.epochs, ("model",))
    for x, y, run in items:
        index = progress.start_run()
        params, opt_state = trainer.init(run.init_seed)
        x_device, y_device = on_device(x, y)
        evaluations = {name: on_device(*pair, chunked=True) for name, pair in run.evaluations.items()}
        epochs = shuffled_epochs(np.asarray(run.train_rows), run.shuffle_seed, training.epochs, training.batch_size)
        for epoch, batches in enumerate(epochs, start=1):
            params, opt_state, train_values = trainer.train_epoch(params, opt_state, x_device, y_device,
                                                                  jnp.asarray(batches))
            scored = {"train": np.asarray(train_values)}
            scored.update({name: np.asarray(trainer.evaluate(params, *arrays)) for name, arrays in evaluations.items()})
            diverged = not all(np.all(np.isfinite(v)) for v in scored.values())
            rows.extend({**run.labels, "epoch": epoch, "split": split, "metric": metric, "value": float(value),
                         "diverged": diverged, "train_size": len(run.train_rows)}
                        for split, values in scored.items() for metric, value in zip(names, values))
            shown = scored.get(run.evaluation_name)
            progress.epoch_done(index, run, epoch, scored["train"][None], None if shown is None else shown[None],
                                [not diverged])
            if diverged:
                log.warning("run %s diverged at epoch %d", run.labels, epoch)
                progress.skip(training.epochs - epoch)
                break
        if keep:
            kept.append(params)
    return rows, kept
