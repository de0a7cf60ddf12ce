"""The last-layer table (overfit.recipe.last_layer: each problem type's recommended and wrong pairing of output
activation and loss) against Keras 3 training the same network with Keras' own activations and losses.

The recipe trains with Keras 2.0.8's semantics: the losses on the activated output, clipped to [1e-7, 1 - 1e-7]
(Keras 3 on JAX computes them the same way: here they are Keras 3's own), and Keras 2.0.8's RMSprop (epsilon 1e-8
outside the sqrt), which is not installable: its Keras 3 oracle is a custom optimizer written to 2.0.8's published
update (``oracle_keras.keras3_rmsprop_208``; the IMDB tests check edition 1 against tf_keras' legacy RMSprop, whose
code is that update). The recipe keeps no per-epoch figures: after the first and the last epoch (the recipe
retrains from its seed for each, so every epoch would cost a training each) the weights and the held-out
predictions are compared, and the held-out measures of the last.
"""

from __future__ import annotations

import numpy as np
import pytest

from overfit.engine import dense as dense_engine
from overfit.recipe import last_layer
from overfit.recipe.heads import PROBLEMS, targets

from . import oracle_engine, oracle_keras

pytestmark = pytest.mark.oracle

TOLERANCE = 1e-4
HIDDEN, EPOCHS, BATCH, SEED = (16, 16), 4, 512, 13  # config.yaml's last_layer network, epochs and batch
COMPARED = (1, EPOCHS)  # the epochs after which the weights and predictions are compared

CASES = [(problem, kind) for problem in PROBLEMS for kind in ("recommended", "wrong")]


def problem_inputs(problem, imdb, imdb_dense, fashion_mnist):
    """(engine inputs, Keras x, y) to train on and (engine inputs, Keras x, y) held out."""
    if PROBLEMS[problem][0] == "imdb":
        (train, validation), (x, x_val) = imdb, imdb_dense
        return ((last_layer.Reviews(train, 10000, BATCH), x, targets(problem, train.label, train.rating)),
                (last_layer.Reviews(validation, 10000, BATCH), x_val,
                 targets(problem, validation.label, validation.rating)))
    (x, labels), (x_val, labels_val) = fashion_mnist
    return ((last_layer.Dense(x), x, targets(problem, labels)),
            (last_layer.Dense(x_val), x_val, targets(problem, labels_val)))


@pytest.mark.parametrize("problem,kind", CASES)
def test_last_layer_equals_keras(problem, kind, imdb, imdb_dense, fashion_mnist, keras3):
    _, outputs, recommended, wrong, _ = PROBLEMS[problem]
    pairing = recommended if kind == "recommended" else wrong
    (inputs, x, y), (inputs_val, x_val, y_val) = problem_inputs(problem, imdb, imdb_dense, fashion_mnist)
    initial = dense_engine.init(dense_engine.DenseSpec(HIDDEN, y.shape[1]), inputs.width, SEED)
    rng = np.random.default_rng(SEED)  # the recipe's shuffle (last_layer.train)
    orders = [rng.permutation(inputs.rows) for _ in range(EPOCHS)]

    model, _ = oracle_keras.build("1k3", inputs.width, HIDDEN, y.shape[1], pairing.activation, pairing.loss,
                                  "mae", 1e-3)
    oracle_keras.set_weights(model, [(np.asarray(k), np.asarray(b)) for k, b in initial])
    weights, predictions = [], []
    for epoch in range(1, EPOCHS + 1):
        model.fit(x[orders[epoch - 1]], y[orders[epoch - 1]], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        if epoch not in COMPARED:
            continue
        engine_params = last_layer.train(inputs, y, pairing, HIDDEN, epoch, BATCH, SEED)
        engine_predictions = last_layer.predict(engine_params, inputs_val, pairing, BATCH)
        keras_predictions = model.predict(x_val, batch_size=BATCH, verbose=0)
        weights.append(max(float(np.max(np.abs(np.asarray(e) - k)) / np.max(np.abs(k)))
                           for layer_e, layer_k in zip(engine_params, oracle_keras.get_weights(model))
                           for e, k in zip(layer_e, layer_k)))
        predictions.append(float(np.max(oracle_engine.relative(engine_predictions, keras_predictions)
                                        * (np.abs(keras_predictions) > 1e-6))))
    engine_measures = last_layer.measures(problem, engine_predictions, y_val)
    keras_measures = last_layer.measures(problem, keras_predictions, y_val)
    measures = max(float(oracle_engine.relative(engine_measures[m], keras_measures[m])) for m in engine_measures)
    print(f"[oracle] last layer {problem} {kind} ({pairing.name}): {EPOCHS} epochs, worst relative difference "
          f"weights {max(weights):.2e}, held-out predictions {max(predictions):.2e}, measures {measures:.2e}; "
          f"weights after epochs {COMPARED}: {' '.join(f'{w:.1e}' for w in weights)}")
    assert max(weights) <= TOLERANCE and max(predictions) <= TOLERANCE and measures <= TOLERANCE, \
        (weights, predictions, engine_measures, keras_measures)
