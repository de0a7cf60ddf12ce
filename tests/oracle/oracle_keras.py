"""The Keras side of the oracle tests: the book's models built in each edition's Keras, started from the engine's
initial weights and fed the engine's batches in the engine's order.

Editions and what runs them here:

* 3 (Keras 3): ``keras`` 3 on the JAX backend, its own RMSprop and losses (``KERAS_BACKEND=jax``, set by the
  conftest before anything imports keras).
* 2 (tf.keras 2): ``tf_keras`` (Keras 2 on TensorFlow) with ``tf_keras.optimizers.legacy.RMSprop``, the
  ``optimizer_v2`` RMSprop that ``tf.keras`` 2.x used until TF 2.11 (the 2nd edition's time); its losses unwrap a
  sigmoid/softmax output to its logits inside ``fit`` (the exact cross-entropy).
* 1 (Keras 2.0.8, not installable): ``tf_keras`` with the same legacy RMSprop at ``epsilon=1e-8`` -- with
  ``momentum=0`` its code is ``var - lr * g / (sqrt(rms) + epsilon)``, Keras 2.0.8's published update -- and a custom
  loss written to Keras 2.0.8's TensorFlow-backend ``binary_crossentropy`` (clip the probability to
  [1e-7, 1 - 1e-7], back to a logit, ``sigmoid_cross_entropy_with_logits``), since tf_keras' own loss would unwrap
  the sigmoid (the 2nd edition's exact loss).

Batches: per epoch ``fit(x[order], y[order], batch_size=B, shuffle=False, epochs=1)`` with ``order`` the engine's
permutation (``engine.batches.shuffled_epochs``); the last partial batch is kept by both. Dropout: a layer that
applies a given keep-mask, fed as an extra input holding the masks the engine's RNG draws for those rows.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-7  # Keras' fuzz factor (backend.epsilon())


def _keras3():
    import keras

    assert keras.backend.backend() == "jax", "the oracle's Keras 3 runs on the JAX backend"
    return keras


def _tf_keras():
    import tensorflow as tf
    import tf_keras

    return tf, tf_keras


# --------------------------------------------------------------------------------------------------- layers

def _given_dropout(layer, where):
    """A Keras layer class (``layer``: Keras 3's or tf-keras' base, ``where``: its framework's) that applies
    inverted dropout with the keep-mask given as an input (the engine's), in training only."""

    class GivenDropout(layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs, training=None):
            h, keep = inputs
            if training:
                return where(keep > 0, h / (1.0 - self.rate), 0.0)
            return h

    return GivenDropout


def keras3_given_dropout():
    keras = _keras3()
    return _given_dropout(keras.layers.Layer, keras.ops.where)


def tf_keras_given_dropout():
    tf, tf_keras = _tf_keras()
    return _given_dropout(tf_keras.layers.Layer, tf.where)


def keras208_binary_crossentropy(y_true, y_pred):
    """Keras 2.0.8's ``losses.binary_crossentropy`` on its TensorFlow backend, written out (tf ops)."""
    tf, _ = _tf_keras()
    output = tf.clip_by_value(y_pred, EPSILON, 1.0 - EPSILON)
    output = tf.math.log(output / (1.0 - output))
    per_output = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(y_true, output.dtype), logits=output)
    return tf.reduce_mean(per_output, axis=-1)


def keras3_rmsprop_208(learning_rate=1e-3):
    """Keras 2.0.8's RMSprop (epsilon 1e-8 outside the sqrt) as a Keras 3 optimizer, written to its published update
    ``a = rho a + (1 - rho) g^2; p -= lr g / (sqrt(a) + epsilon)``: Keras 2.0.8 is not installable."""
    keras = _keras3()
    ops = keras.ops

    class RMSprop208(keras.optimizers.RMSprop):
        def update_step(self, gradient, variable, learning_rate):
            lr = ops.cast(learning_rate, variable.dtype)
            gradient = ops.cast(gradient, variable.dtype)
            velocity = self._velocities[self._get_variable_index(variable)]
            self.assign(velocity, ops.add(ops.multiply(self.rho, velocity),
                                          ops.multiply(1 - self.rho, ops.square(gradient))))
            self.assign_sub(variable, ops.divide(ops.multiply(lr, gradient),
                                                 ops.add(ops.sqrt(velocity), self.epsilon)))

    return RMSprop208(learning_rate=learning_rate, rho=0.9, epsilon=1e-8)


# --------------------------------------------------------------------------------------------------- models

def build(edition: int, input_dim: int, hidden, outputs: int, activation: str, loss: str, metric: str,
          learning_rate: float, l1=None, l2=None, dropout=None, keras208_loss: bool = False):
    """The book's MLP in ``edition``'s Keras, compiled: Dense(h, relu) per hidden width (with its l1/l2 penalty and
    a given-mask dropout after it), then Dense(outputs, activation). ``loss``/``metric``: Keras names.
    Returns (model, names of the mask inputs in order)."""
    n = len(hidden)
    l1 = l1 or (0.0,) * n
    l2 = l2 or (0.0,) * n
    dropout = dropout or (0.0,) * n
    if edition == 3:
        k = _keras3()
        layers, regularizers = k.layers, k.regularizers
        given = keras3_given_dropout()
        optimizer = k.optimizers.RMSprop(learning_rate=learning_rate)  # rho 0.9, epsilon 1e-7 inside the sqrt
    elif edition in (1, 2):
        tf, k = _tf_keras()
        layers, regularizers = k.layers, k.regularizers
        given = tf_keras_given_dropout()
        # momentum 0: var - lr * g / (sqrt(rms) + epsilon) (tf_keras/src/optimizers/legacy/rmsprop.py)
        optimizer = k.optimizers.legacy.RMSprop(learning_rate=learning_rate, rho=0.9,
                                                epsilon=1e-8 if edition == 1 else 1e-7)
    elif edition == "1k3":  # edition 1 on Keras 3: its losses (clipped, as 2.0.8's) with 2.0.8's RMSprop written out
        k = _keras3()
        layers, regularizers = k.layers, k.regularizers
        given = keras3_given_dropout()
        optimizer = keras3_rmsprop_208(learning_rate)
    else:
        raise ValueError(edition)
    x = layers.Input((input_dim,))
    inputs, masks = [x], []
    h = x
    for i, width in enumerate(hidden):
        regularizer = regularizers.L1L2(l1=l1[i], l2=l2[i]) if (l1[i] or l2[i]) else None
        h = layers.Dense(width, activation="relu", kernel_regularizer=regularizer)(h)
        if dropout[i]:
            keep = layers.Input((width,))
            inputs.append(keep)
            masks.append(i)
            h = given(dropout[i])([h, keep])
    out = layers.Dense(outputs, activation=activation)(h)
    model = k.Model(inputs, out)
    if keras208_loss:
        loss = keras208_binary_crossentropy
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    return model, masks


def set_weights(model, layers_weights) -> None:
    """``layers_weights``: [(kernel, bias)] per Dense layer, in order."""
    dense = [layer for layer in model.layers if layer.weights]
    assert len(dense) == len(layers_weights), (len(dense), len(layers_weights))
    for layer, (kernel, bias) in zip(dense, layers_weights):
        layer.set_weights([np.asarray(kernel, np.float32), np.asarray(bias, np.float32)])


def get_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
    return [tuple(np.asarray(w) for w in layer.get_weights()) for layer in model.layers if layer.weights]


def train(model, x, y, orders, batch_size, validation, masks=None, eval_batch_size=2048, class_weight=None):
    """Per epoch: fit on ``x[order]`` in order (one epoch), then evaluate on ``validation`` (x, y).

    ``masks``: per epoch, a list of keep-mask arrays (rows in the epoch's order), one per dropout layer.
    ``class_weight``: passed to ``fit`` ({0: w0, 1: w1}).
    Returns {"train": (epochs, 2), "validation": (epochs, 2)}: loss and the metric, as Keras reports them."""
    train_values, val_values = [], []
    xv, yv = validation
    n_masks = len(model.inputs) - 1
    for epoch, order in enumerate(orders):
        inputs = [x[order]] + (list(masks[epoch]) if n_masks else [])
        history = model.fit(inputs if n_masks else inputs[0], y[order], batch_size=batch_size, epochs=1,
                            shuffle=False, verbose=0, class_weight=class_weight)
        train_values.append(_loss_and_metric({k: v[-1] for k, v in history.history.items()}))
        ones = [np.ones((len(xv), int(t.shape[-1])), np.float32) for t in model.inputs[1:]]
        val_values.append(_loss_and_metric(model.evaluate([xv, *ones] if n_masks else xv, yv,
                                                          batch_size=eval_batch_size, verbose=0, return_dict=True)))
    return {"train": np.asarray(train_values, np.float64), "validation": np.asarray(val_values, np.float64)}


def _loss_and_metric(values: dict) -> list[float]:
    (metric,) = [k for k in values if k != "loss"]
    return [float(values["loss"]), float(values[metric])]
