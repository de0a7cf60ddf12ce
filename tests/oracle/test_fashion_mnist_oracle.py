"""The dense engine (engine.dense, softmax head) against Keras running the 2nd edition's Fashion-MNIST model
(overfit.images: Dense(512, relu) -> Dense(10, softmax), RMSprop, batch 128, pixels scaled to 0-1).

Under the 2nd edition's tf.keras 2 (tf_keras, the legacy optimizer_v2 RMSprop; its loss unwraps the softmax to
its logits inside ``fit``: the engine's ``clipped_loss=False``) and under Keras 3 (JAX backend; the clipped
cross-entropy on the probabilities: ``clipped_loss=True``), at the book's learning rate and at 1.0.

Float32 chaos (measured on 2,000 images, seeds 3/5): Dense(512) at 1e-3 breaks 1e-4 at epoch 14 under tf.keras 2
and at epoch 9 under Keras 3, and at learning rate 1.0 under tf.keras 2 at epoch 2 (1.1e-4; every step moves
each weight by about 1). The engine differs from *itself* as much, and sooner, when only the summation order of
its first layer changes (the pixels and the kernel's rows permuted alike): such families are checked to the epoch
before the break, and the test asserts that this witness breaks within the epochs run. At 1.0 under Keras 3 the
network is stuck after the first epoch (the softmax saturated, most rows' true class under the clip's 1e-7, whose
gradient the clip zeroes: the loss stays at about 14.6): equal for all 20 epochs, but little moves.
"""

from __future__ import annotations

import numpy as np
import pytest

from overfit.engine.dense import DenseSpec, DenseTraining

from . import oracle_engine, oracle_keras

pytestmark = pytest.mark.oracle

TOLERANCE = 1e-4
INIT_SEED, SHUFFLE_SEED = 3, 5
CLIPPED = {2: False, 3: True}  # config.yaml's `editions`

# name: (hidden, edition, learning rate, epochs run, epochs checked to TOLERANCE)
FAMILIES = {
    "512 lr 1e-3 e2": ((512,), 2, 1e-3, 16, 13),
    "512 lr 1e-3 e3": ((512,), 3, 1e-3, 12, 8),
    "512 lr 1.0 e2": ((512,), 2, 1.0, 5, 1),
    "512 lr 1.0 e3": ((512,), 3, 1.0, 20, 20),
    "logistic lr 1e-3 e2": ((), 2, 1e-3, 20, 20),
    "logistic lr 1e-3 e3": ((), 3, 1e-3, 20, 20),
}


def run_family(name, fashion_mnist, hidden, edition, learning_rate, epochs, clipped=None, engine_edition=None):
    (x, y), (x_val, y_val) = fashion_mnist
    spec = DenseSpec(hidden, 10, "softmax")
    training = DenseTraining(epochs=epochs, batch_size=128, learning_rate=learning_rate,
                             edition=engine_edition or edition,
                             clipped_loss=CLIPPED[edition] if clipped is None else clipped)
    engine = oracle_engine.dense(spec, training, x, y, x_val, y_val, INIT_SEED, SHUFFLE_SEED)
    model, _ = oracle_keras.build(edition, x.shape[1], hidden, 10, "softmax", "sparse_categorical_crossentropy",
                                  "accuracy", learning_rate)
    oracle_keras.set_weights(model, engine.initial)
    keras = oracle_keras.train(model, x, y, engine.orders, training.batch_size, (x_val, y_val),
                               eval_batch_size=training.eval_batch_size)
    return oracle_engine.compare(f"Fashion-MNIST {name}", engine, keras, oracle_keras.get_weights(model))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_fashion_mnist_equals_keras(name, fashion_mnist, request):
    hidden, edition, learning_rate, epochs, checked = FAMILIES[name]
    request.getfixturevalue("keras3" if edition == 3 else "tf_keras")  # skips where that Keras is not installed
    comparison = run_family(name, fashion_mnist, hidden, edition, learning_rate, epochs)
    loss, accuracy = comparison.worst(checked)
    assert loss <= TOLERANCE and accuracy <= TOLERANCE, f"within the first {checked} epochs: {comparison.report()}"
    if checked == epochs:
        assert comparison.weights <= TOLERANCE, comparison.report()
        return
    # the chaos witness: the engine against itself, its first layer summed in another order
    (x, y), (x_val, y_val) = fashion_mnist
    training = DenseTraining(epochs=epochs, batch_size=128, learning_rate=learning_rate, edition=edition,
                             clipped_loss=CLIPPED[edition])
    spec = DenseSpec(hidden, 10, "softmax")
    plain = oracle_engine.dense(spec, training, x, y, x_val, y_val, INIT_SEED, SHUFFLE_SEED)
    permuted = oracle_engine.dense(spec, training, x, y, x_val, y_val, INIT_SEED, SHUFFLE_SEED,
                                   feature_order=np.random.default_rng(0).permutation(x.shape[1]))
    witness = oracle_engine.compare(f"Fashion-MNIST {name} witness: engine vs engine, pixels permuted", plain,
                                    {"train": permuted.train, "validation": permuted.validation}, permuted.final)
    assert witness.worst()[0] > TOLERANCE, f"no chaos in {epochs} epochs: check {name} for all of them"


def test_clipped_loss_vs_tf_keras_2_is_caught(fashion_mnist, tf_keras):
    """A deliberately wrong setting: Keras 3's clipped loss where tf.keras 2 is exact (lr 1.0: confident rows)."""
    comparison = run_family("512 lr 1.0 e2, wrong setting: clipped loss", fashion_mnist, (512,), 2, 1.0, 2,
                            clipped=True)
    assert comparison.worst(1)[0] > 10 * TOLERANCE, comparison.report()
