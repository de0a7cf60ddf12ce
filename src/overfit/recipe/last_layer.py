"""The book's last-layer table, run (``overfit.recipe.heads`` declares it): each problem type, both pairings, trained.

The same small network for all (Dense(16, relu) × 2 before the last layer),
Keras' RMSprop of the 1st edition and Keras' loss semantics. Each is trained
on the training split less its first rows and scored on those held-out rows
(never the test set) over seeds. The network is a plain function of its
weights here, since the chapter's engine trains one sigmoid output; the
reviews are read as the engine reads them (``engine.batches``,
``engine.sparse``: no multi-hot matrix), the images as dense rows.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from overfit.data.imdb import SparseReviews
from overfit.engine import dense, sparse
from overfit.engine.batches import DeviceSplit, batched_rows, round_up, sparse_batch
from overfit.engine.losses import KERAS_EPSILON
from overfit.engine.optim import rmsprop_for_edition
from overfit.measures import scores as binary_scores
from overfit.recipe.heads import PROBLEMS, Pairing, targets
from overfit.seeds import stable_seed

def output(logits: jax.Array, activation: str) -> jax.Array:
    if activation == "sigmoid":
        return jax.nn.sigmoid(logits)
    if activation == "softmax":
        return jax.nn.softmax(logits, axis=-1)
    return logits


def loss(predictions: jax.Array, y: jax.Array, name: str) -> jax.Array:
    """Per-example loss with Keras' semantics on the activated output (probabilities clipped to [1e-7, 1 − 1e-7])."""
    if name == "mse":
        return jnp.mean(jnp.square(predictions - y), axis=-1)
    p = jnp.clip(predictions, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    if name == "binary_crossentropy":  # averaged over the outputs, as Keras does
        return -jnp.mean(y * jnp.log(p) + (1.0 - y) * jnp.log(1.0 - p), axis=-1)
    if name == "categorical_crossentropy":  # Keras rescales the scores to sum to 1 before clipping
        q = predictions / jnp.sum(predictions, axis=-1, keepdims=True)
        return -jnp.sum(y * jnp.log(jnp.clip(q, KERAS_EPSILON, 1.0 - KERAS_EPSILON)), axis=-1)
    raise ValueError(f"no loss {name!r}")


class Dense:
    """Rows of a dense float matrix (images), on the device once."""

    def __init__(self, x: np.ndarray):
        self.x, self.width, self.rows = jnp.asarray(x), x.shape[1], x.shape[0]

    def take(self, rows: jax.Array) -> jax.Array:
        return self.x[jnp.maximum(rows, 0)]


class Reviews:
    """Reviews as the engine reads them: multi-hot rows never built, the first layer a sum of kernel rows."""

    def __init__(self, reviews: SparseReviews, num_words: int, batch_size: int):
        split = DeviceSplit.from_reviews(reviews, num_words)
        self.arrays, self.width, self.rows = split.arrays(), num_words, len(reviews)
        # room for the longest batch any shuffle can draw: one compiled step
        self.slots = round_up(np.sort(split.host_lengths)[-batch_size:].sum())

    def take(self, rows: jax.Array):
        return sparse_batch(self.arrays, rows, self.slots)[0]


def forward(params, x) -> jax.Array:
    """Logits: relu hidden layers, then a linear last layer (its activation is the pairing's)."""
    kernel, bias = params[0]
    h = (sparse.first_layer(kernel, x, "segment") if isinstance(x, sparse.SparseBatch) else x @ kernel) + bias
    for kernel, bias in params[1:]:
        h = jax.nn.relu(h) @ kernel + bias
    return h


def train(inputs: Dense | Reviews, y_train: np.ndarray, pairing: Pairing, hidden: tuple[int, ...], epochs: int,
          batch_size: int, seed: int) -> list:
    """Minibatch RMSprop (Keras 2.0.8) on rows shuffled each epoch, the last partial batch kept (masked)."""
    params = dense.init(dense.DenseSpec(hidden, y_train.shape[1]), inputs.width, seed)
    optimizer = rmsprop_for_edition(1)
    state = optimizer.init(params)
    y_all = jnp.asarray(y_train)

    @jax.jit
    def step(params, state, rows):
        x, y, weights = inputs.take(rows), y_all[jnp.maximum(rows, 0)], (rows >= 0).astype(jnp.float32)

        def batch_loss(p):
            per_row = loss(output(forward(p, x), pairing.activation), y, pairing.loss)
            return jnp.sum(per_row * weights) / jnp.sum(weights)

        updates, state = optimizer.update(jax.grad(batch_loss)(params), state, params)
        return jax.tree.map(jnp.add, params, updates), state

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        for rows in batched_rows(rng.permutation(inputs.rows).astype(np.int32), batch_size):
            params, state = step(params, state, jnp.asarray(rows))
    return params


def predict(params, inputs: Dense | Reviews, pairing: Pairing, batch_size: int) -> np.ndarray:
    apply = jax.jit(lambda p, rows: output(forward(p, inputs.take(rows)), pairing.activation))
    chunks = batched_rows(np.arange(inputs.rows, dtype=np.int32), batch_size)
    return np.concatenate([np.asarray(apply(params, jnp.asarray(rows))) for rows in chunks])[:inputs.rows]


def measures(problem: str, predictions: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The problem's measures of success on held-out rows (the first is the one it is judged by)."""
    if problem == "binary":
        out = binary_scores(predictions[:, 0], y[:, 0])
        return {"acc": out["acc"], "auc": out["auc"]}
    if problem == "multi-class":
        return {"acc": float((predictions.argmax(1) == y.argmax(1)).mean()),
                "probability_sum": float(predictions.sum(1).mean())}
    if problem == "multi-label":
        hits = (predictions > 0.5) == (y > 0.5)
        return {"label_acc": float(hits.mean()), "exact_match": float(hits.all(1).mean()),
                "probability_sum": float(predictions.sum(1).mean())}
    return {"mae": float(np.abs(predictions[:, 0] - y[:, 0]).mean())}


def problem_data(problem: str, imdb: SparseReviews, fashion_mnist: dict, validation_size: dict, num_words: int,
                 batch_size: int) -> tuple:
    """((inputs, y) to train on, (inputs, y) held out): the first rows of the training split held out."""
    if PROBLEMS[problem][0] == "imdb":
        y, n = targets(problem, imdb.label, imdb.rating), validation_size["imdb"]
        held, kept = np.arange(n), np.arange(n, len(imdb))
        return ((Reviews(imdb.subset(kept), num_words, batch_size), y[kept]),
                (Reviews(imdb.subset(held), num_words, batch_size), y[held]))
    images = fashion_mnist["images"]
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0
    y, n = targets(problem, fashion_mnist["labels"]), validation_size["fashion_mnist"]
    return (Dense(x[n:]), y[n:]), (Dense(x[:n]), y[:n])


def run(problem: str, data: tuple, settings: dict, base_seed: int) -> pd.DataFrame:
    """Both pairings of a problem over seeds: one row per pairing, seed and measure."""
    (x_train, y_train), (x_val, y_val) = data
    _, _, recommended, wrong, _ = PROBLEMS[problem]
    rows = []
    for kind, pairing in (("recommended", recommended), ("wrong", wrong)):
        for s in range(settings["seeds"]):
            seed = stable_seed(base_seed, "last_layer", problem, s)  # both pairings start from the same weights
            params = train(x_train, y_train, pairing, tuple(settings["hidden"]), settings["epochs"],
                           settings["batch_size"], seed)
            predictions = predict(params, x_val, pairing, settings["batch_size"])
            for measure, value in measures(problem, predictions, y_val).items():
                rows.append({"problem": problem, "pairing": kind, "activation": pairing.activation,
                             "loss": pairing.loss, "seed": s, "measure": measure, "value": value})
    return pd.DataFrame(rows)
