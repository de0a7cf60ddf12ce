"""The clock's convnet (engine.dense with ``conv``: Conv2D(f, 3, relu) + MaxPooling2D(2) per block, Flatten, then
the dense layers) against Keras 3 training the same network with its own layers, Adam and mean squared error.

The engine reads a face as a flat row and reshapes it to 28 × 28 × 1 itself; Keras is given the same rows through a
Reshape layer, so the two see the same numbers. An odd side (11 after the second convolution) shows that the
engine's pooling drops the last row and column as Keras' "valid" pooling does. Faces are generated here (overfit
.data.clock), a few hundred, so the test stays a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from overfit.clock import features, targets
from overfit.data.clock import SIZE, generate
from overfit.engine.dense import DenseSpec, DenseTraining

from . import oracle_engine, oracle_keras

pytestmark = pytest.mark.oracle

TOLERANCE = 1e-4
EPOCHS, BATCH, INIT_SEED, SHUFFLE_SEED = 3, 32, 7, 11
SPEC = DenseSpec((16,), 4, head="linear", conv=(4, 8))  # the config's shape, narrower: 26 → 13 → 11 → 5


def keras_convnet(k, spec: DenseSpec):
    layers = k.layers
    x = layers.Input((SIZE * SIZE,))
    h = layers.Reshape((SIZE, SIZE, 1))(x)
    for filters in spec.conv:
        h = layers.Conv2D(filters, 3, activation="relu")(h)
        h = layers.MaxPooling2D(2)(h)
    h = layers.Flatten()(h)
    for width in spec.hidden:
        h = layers.Dense(width, activation="relu")(h)
    model = k.Model(x, layers.Dense(spec.outputs)(h))
    model.compile(optimizer=k.optimizers.Adam(learning_rate=1e-3), loss="mse", metrics=["mae"])
    return model


def test_clock_convnet_equals_keras(keras3):
    faces, held_out = generate(320, seed=1), generate(96, seed=2)
    x, y = features("pixels", faces), targets(faces["minutes"])
    x_val, y_val = features("pixels", held_out), targets(held_out["minutes"])
    training = DenseTraining(epochs=EPOCHS, batch_size=BATCH, optimizer="adam", learning_rate=1e-3)
    engine = oracle_engine.dense(SPEC, training, x, y, x_val, y_val, INIT_SEED, SHUFFLE_SEED)
    assert [k.shape for k, _ in engine.initial][:2] == [(3, 3, 1, 4), (3, 3, 4, 8)]  # Keras' HWIO kernels

    model = keras_convnet(keras3, SPEC)
    oracle_keras.set_weights(model, engine.initial)
    keras = oracle_keras.train(model, x, y, engine.orders, BATCH, (x_val, y_val),
                               eval_batch_size=training.eval_batch_size)
    comparison = oracle_engine.compare("clock convnet, Keras 3", engine, keras, oracle_keras.get_weights(model))
    loss, mae = comparison.worst()
    assert loss <= TOLERANCE and mae <= TOLERANCE and comparison.weights <= TOLERANCE, comparison.report()
    # it learned: the comparison is of a network that moved, not of two copies of the start
    assert engine.train[-1, 0] < engine.train[0, 0], engine.train


def test_the_pooling_drops_an_odd_side_as_keras_does(keras3):
    """One forward pass each, the same numbers from both: after two blocks the maps are 11 wide (odd) before the
    second pooling, which must drop a row and a column as Keras' "valid" pooling does (one that padded would give
    6 × 6 maps, and Keras' Dense weights would not even load)."""
    import jax.numpy as jnp

    from overfit.engine.dense import init, logits

    even = DenseSpec((), 2, head="linear", conv=(3,))  # 28 → 26 → 13
    odd = DenseSpec((), 2, head="linear", conv=(3, 5))  # then 13 → 11 → 5: a row and a column dropped
    rows = np.random.default_rng(0).random((4, SIZE * SIZE), dtype=np.float32)
    for case in (even, odd):
        params = init(case, SIZE * SIZE, 3)
        model = keras_convnet(keras3, case)
        oracle_keras.set_weights(model, [(np.asarray(k), np.asarray(b)) for k, b in params])
        ours = np.asarray(logits(params, jnp.asarray(rows)))
        np.testing.assert_allclose(ours, np.asarray(model.predict(rows, verbose=0)), rtol=1e-5, atol=1e-6)
