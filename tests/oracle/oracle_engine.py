"""The engine side of the oracle tests: the pipeline's own trainers, epoch by epoch, with what Keras needs to
follow them (initial weights, each epoch's row order, the dropout masks the engine draws), and the comparison."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from overfit.engine import dense as dense_engine
from overfit.engine.batches import DeviceSplit, EpochInputs, batched_rows, max_slots, round_up, shuffled_epochs
from overfit.engine.model import ModelSpec
from overfit.engine.train import Trainer, TrainingSpec


@dataclass
class EngineRun:
    initial: list  # [(kernel, bias)] per Dense layer, as Keras holds them
    final: list
    orders: list  # per epoch, the training rows in the order the engine's batches take them
    masks: list  # per epoch, per dropout layer: the keep-masks of those rows (empty without dropout)
    train: np.ndarray  # (epochs, 2): loss, accuracy (Keras' epoch figures)
    validation: np.ndarray  # (epochs, 2)


def _imdb_layers(params) -> list:
    """A stack of one model's parameters as Keras' Dense layers [(kernel, bias)]."""
    (group,) = params
    kernels, biases = group["kernels"], group["biases"]
    layers = [(np.asarray(kernels[0]), np.asarray(biases[0]))]
    layers += [(np.asarray(k[0]), np.asarray(b[0])) for k, b in zip(kernels[1:], biases[1:])]
    return layers


def _orders(epoch_batches) -> list[np.ndarray]:
    return [b.reshape(-1)[b.reshape(-1) >= 0] for b in epoch_batches]


def imdb(spec: ModelSpec, training: TrainingSpec, train, validation, init_seed: int, shuffle_seed: int) -> EngineRun:
    """Train one model as ``engine.train.train_stack`` does (its Trainer, batches, keys), keeping what it drops."""
    trainer = Trainer((spec,), training)
    params, opt_state = trainer.init(init_seed)
    initial = _imdb_layers(jax.tree.map(np.array, params))  # copied: the epoch donates them
    device_train = DeviceSplit.from_reviews(train, spec.input_dim, dense=training.input_mode == "dense")
    device_val = DeviceSplit.from_reviews(validation, spec.input_dim, dense=training.input_mode == "dense")
    epochs = shuffled_epochs(np.arange(len(train)), shuffle_seed, training.epochs, training.batch_size)
    chunks = batched_rows(np.arange(len(validation), dtype=np.int32), training.eval_batch_size)
    slots = round_up(max(max_slots(b, device_train.host_lengths) for b in epochs))
    eval_slots = round_up(max_slots(chunks, device_val.host_lengths))
    epoch_inputs = EpochInputs(train, device_train.host_lengths, spec.input_dim, slots, trainer.kernel == "csr")
    base_key = jax.random.key(shuffle_seed)
    train_values, val_values, masks = [], [], []
    for epoch in range(1, training.epochs + 1):
        key = jax.random.fold_in(base_key, epoch)
        batches = epochs[epoch - 1]
        masks.append(dropout_masks(spec, key, batches))
        params, opt_state, metrics = trainer.train_epoch(params, opt_state, device_train.arrays(),
                                                         *epoch_inputs(batches), key, slots)
        evaluation = trainer.evaluate(params, device_val.arrays(), jnp.asarray(chunks), eval_slots)
        train_values.append(np.asarray(metrics)[0, [0, 2]])  # loss (penalty in), acc
        val_values.append(np.asarray(evaluation)[0, [0, 2]])
    return EngineRun(initial, _imdb_layers(params), _orders(epochs), masks,
                     np.asarray(train_values, np.float64), np.asarray(val_values, np.float64))


def dropout_masks(spec: ModelSpec, epoch_key, batches: np.ndarray) -> list[np.ndarray]:
    """The keep-masks the engine draws in an epoch (``Trainer._train_epoch``'s step keys, ``stack.logits``' draw),
    per dropout layer, as (rows in batch order, width)."""
    if not any(rate > 0 for rate in spec.dropout):
        return []
    keys = jax.random.split(epoch_key, batches.shape[0])
    valid = batches >= 0
    out = []
    for i, (rate, width) in enumerate(zip(spec.dropout, spec.hidden)):
        if rate <= 0:
            continue
        per_batch = [np.asarray(jax.random.bernoulli(jax.random.fold_in(keys[b], i), 1.0 - rate,
                                                     (batches.shape[1], width)))[valid[b]]
                     for b in range(batches.shape[0])]
        out.append(np.concatenate(per_batch).astype(np.float32))
    return out


def dense(spec: dense_engine.DenseSpec, training: dense_engine.DenseTraining, x, y, x_val, y_val,
          init_seed: int, shuffle_seed: int, feature_order: np.ndarray | None = None) -> EngineRun:
    """Train one run as ``engine.dense.train`` does (its DenseTrainer, batches), epoch by epoch.

    ``feature_order``: the same model with its input features (and its first kernel's rows) in this order: the same
    function, summed in another order -- the chaos witness, what float32 rounding alone grows to."""
    trainer = dense_engine.DenseTrainer(spec, x.shape[1], training)
    params, opt_state = trainer.init(init_seed)
    if feature_order is not None:
        x, x_val = x[:, feature_order], x_val[:, feature_order]
        params = [(params[0][0][feature_order], params[0][1]), *params[1:]]
    initial = [(np.array(k), np.array(b)) for k, b in params]
    xd, yd = jnp.asarray(x, jnp.float32), jnp.asarray(y)
    evaluation = (jnp.asarray(x_val, jnp.float32), jnp.asarray(y_val),
                  jnp.asarray(batched_rows(np.arange(len(x_val), dtype=np.int32), training.eval_batch_size)))
    epochs = shuffled_epochs(np.arange(len(x)), shuffle_seed, training.epochs, training.batch_size)
    train_values, val_values = [], []
    for batches in epochs:
        params, opt_state, values = trainer.train_epoch(params, opt_state, xd, yd, jnp.asarray(batches))
        train_values.append(np.asarray(values))
        val_values.append(np.asarray(trainer.evaluate(params, *evaluation)))
    final = [(np.asarray(k), np.asarray(b)) for k, b in params]
    if feature_order is not None:
        final[0] = (final[0][0][np.argsort(feature_order)], final[0][1])
    return EngineRun(initial, final, _orders(epochs), [], np.asarray(train_values, np.float64),
                     np.asarray(val_values, np.float64))


# --------------------------------------------------------------------------------------------------- comparing

def relative(a, b) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


@dataclass
class Comparison:
    family: str
    loss: np.ndarray  # (epochs,): the larger relative difference of the training and validation loss
    accuracy: np.ndarray  # (epochs,): the larger relative difference of the training and validation metric
    weights: float  # the final weights: max over layers of max|dW| / max|W|

    def worst(self, epochs: int | None = None) -> tuple[float, float]:
        n = epochs or len(self.loss)
        return float(self.loss[:n].max()), float(self.accuracy[:n].max())

    def report(self) -> str:
        per_epoch = " ".join(f"{v:.1e}" for v in np.maximum(self.loss, self.accuracy))
        return (f"[oracle] {self.family}: {len(self.loss)} epochs, worst relative difference loss "
                f"{self.loss.max():.2e}, accuracy {self.accuracy.max():.2e}, final weights {self.weights:.2e}; "
                f"per epoch: {per_epoch}")


def weights_away_from_zero(engine: EngineRun, keras_weights: list, band: float) -> tuple[float, float, int]:
    """The final weights compared apart from those a penalty holds at zero: (max|dW| / max|W| over the weights
    above ``band`` in size on both sides, the largest |dW| among the others, how many of those differ by > 1e-6).

    An L1 or L2 penalty under RMSprop keeps a weight with no data gradient (a word absent from the training rows, or
    seen in a batch now and then) oscillating around zero by about a learning rate a step; where a step lands it
    within rounding of zero, the rounding picks its sign, and the two runs follow mirror images (w and -w) from
    then on. Those weights are left out of the 1e-4 check and reported."""
    worst, near_zero, flipped = 0.0, 0.0, 0
    for layer_e, layer_k in zip(engine.final, keras_weights):
        for e, k in zip(layer_e, layer_k):
            away = (np.abs(e) > band) & (np.abs(k) > band)
            difference = np.abs(e - k)
            worst = max(worst, float(difference[away].max(initial=0.0) / max(np.max(np.abs(k)), 1e-12)))
            near_zero = max(near_zero, float(difference[~away].max(initial=0.0)))
            flipped += int(np.sum(difference[~away] > 1e-6))
    return worst, near_zero, flipped


def compare(family: str, engine: EngineRun, keras: dict, keras_weights: list) -> Comparison:
    loss = np.maximum(relative(engine.train[:, 0], keras["train"][:, 0]),
                      relative(engine.validation[:, 0], keras["validation"][:, 0]))
    accuracy = np.maximum(relative(engine.train[:, 1], keras["train"][:, 1]),
                          relative(engine.validation[:, 1], keras["validation"][:, 1]))
    weights = max(float(np.max(np.abs(e - k)) / max(np.max(np.abs(k)), 1e-12))
                  for layer_e, layer_k in zip(engine.final, keras_weights) for e, k in zip(layer_e, layer_k))
    comparison = Comparison(family, loss, accuracy, weights)
    print(comparison.report())
    return comparison
