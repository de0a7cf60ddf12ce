"""The dense, multi-class engine path against hand-computed values: loss, accuracy, optimizers, a training step."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from overfit.engine import dense
from overfit.engine.losses import mean_squared_error, sparse_categorical_correct, sparse_categorical_crossentropy
from overfit.engine.optim import keras_adam, keras_optimizer


def test_sparse_categorical_crossentropy_is_keras_clipped_loss():
    scores = jnp.array([[0.7, 0.2, 0.1], [0.0, 1.0, 0.0], [0.25, 0.25, 0.5]], jnp.float32)
    labels = jnp.array([0, 0, 2])
    loss = np.asarray(sparse_categorical_crossentropy(scores, labels))
    # by hand: -log 0.7; the true class scores 0, clipped to 1e-7: -log 1e-7 = 16.118; -log 0.5
    np.testing.assert_allclose(loss, [-np.log(0.7), -np.log(1e-7), -np.log(0.5)], rtol=1e-6)
    # Keras rescales scores that do not sum to 1 before clipping
    np.testing.assert_allclose(sparse_categorical_crossentropy(jnp.array([[2.0, 2.0]]), jnp.array([1])), [np.log(2)],
                               rtol=1e-6)
    assert np.asarray(sparse_categorical_correct(scores, labels)).tolist() == [1.0, 0.0, 1.0]
    # a ties' argmax is the first highest score, as Keras' (numpy's) argmax
    assert float(sparse_categorical_correct(jnp.array([[0.5, 0.5]]), jnp.array([1]))[0]) == 0.0


def test_the_clip_zeroes_the_gradient_of_a_confidently_wrong_row():
    def loss(logits):
        return sparse_categorical_crossentropy(jax.nn.softmax(logits), jnp.array([0]))[0]

    assert float(jnp.abs(jax.grad(loss)(jnp.array([[-30.0, 30.0]]))).max()) == 0.0
    assert float(jnp.abs(jax.grad(loss)(jnp.array([[-1.0, 1.0]]))).max()) > 0.1


def test_mean_squared_error_averages_over_targets():
    np.testing.assert_allclose(mean_squared_error(jnp.array([[1.0, 3.0]]), jnp.array([[0.0, 0.0]])), [5.0])


def test_keras_adam_steps_equal_hand_computed_values():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    optimizer = keras_adam(lr)
    params = {"w": jnp.array([1.0, -2.0])}
    state = optimizer.init(params)
    m = v = np.zeros(2)
    w = np.array([1.0, -2.0])
    for t, g in enumerate([np.array([0.5, -1.0]), np.array([0.1, 2.0]), np.array([-0.3, 1e-4])], start=1):
        updates, state = optimizer.update({"w": jnp.asarray(g, jnp.float32)}, state)
        params = {"w": params["w"] + updates["w"]}
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(params["w"], w, rtol=1e-5)
    with pytest.raises(ValueError, match="use one of rmsprop, adam, sgd"):
        keras_optimizer("adagrad", 0.1, 2)


def numpy_softmax_regression_steps(w, b, x, y, batches, lr):
    """Logistic regression (softmax, no hidden layer) trained by hand: the gradient of the mean cross-entropy is
    (p − onehot)ᵀ x / n, and tf.keras 2's RMSprop (no momentum) divides it by sqrt(0.1 g²) + 1e-7 on the first
    step: epsilon outside the root (tests/oracle checks this against tf-keras)."""
    acc_w, acc_b = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for rows in batches:
        rows = rows[rows >= 0]
        z = x[rows] @ w + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        onehot = np.eye(w.shape[1])[y[rows]]
        losses.append((-np.log(np.clip(p[np.arange(len(rows)), y[rows]], 1e-7, 1 - 1e-7)), (p.argmax(1) == y[rows])))
        g_w, g_b = x[rows].T @ (p - onehot) / len(rows), (p - onehot).mean(0)
        acc_w, acc_b = 0.9 * acc_w + 0.1 * g_w ** 2, 0.9 * acc_b + 0.1 * g_b ** 2
        w = w - lr * g_w / (np.sqrt(acc_w) + 1e-7)
        b = b - lr * g_b / (np.sqrt(acc_b) + 1e-7)
    loss = np.concatenate([item[0] for item in losses]).mean()
    acc = np.concatenate([item[1] for item in losses]).mean()
    return w, b, loss, acc


def test_one_epoch_of_logistic_regression_equals_the_hand_computed_one():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 6)).astype(np.float32), rng.integers(0, 3, 10).astype(np.int32)
    spec, training = dense.DenseSpec((), 3), dense.DenseTraining(epochs=1, batch_size=4, learning_rate=0.01)
    run = dense.DenseRun({"run": 0}, np.arange(10), {"validation": (x, y)}, init_seed=3, shuffle_seed=4)
    rows, (params,) = dense.train([(x, y, run)], spec, training, keep=True)
    # the same batches (shuffled once, the last partial batch of 2 kept) and the same initial weights, by hand
    from overfit.engine.batches import shuffled_epochs

    batches = shuffled_epochs(np.arange(10), 4, 1, 4)[0]
    assert batches.shape == (3, 4) and (batches[-1] == -1).sum() == 2
    (w0, b0), = dense.init(spec, 6, 3)
    w, b, loss, acc = numpy_softmax_regression_steps(np.asarray(w0, float), np.asarray(b0, float), x.astype(float), y,
                                                     batches, 0.01)
    np.testing.assert_allclose(params[0][0], w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(params[0][1], b, rtol=1e-4, atol=1e-6)
    got = {(r["split"], r["metric"]): r["value"] for r in rows}
    # Keras' epoch loss and accuracy: the batch-size-weighted means as it trains
    assert got[("train", "loss")] == pytest.approx(loss, rel=1e-5)
    assert got[("train", "acc")] == pytest.approx(acc)
    # the validation figures: the final weights on every row, computed here in NumPy
    z = x @ w + b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert got[("validation", "loss")] == pytest.approx(-np.log(p[np.arange(10), y]).mean(), rel=1e-4)
    assert got[("validation", "acc")] == pytest.approx((p.argmax(1) == y).mean())


def test_training_learns_is_deterministic_and_reports_each_epoch():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 8)) * 3
    y = rng.integers(0, 4, 400).astype(np.int32)
    x = (centres[y] + rng.normal(size=(400, 8))).astype(np.float32)
    spec, training = dense.DenseSpec((16,), 4), dense.DenseTraining(epochs=5, batch_size=32, learning_rate=0.01)
    run = dense.DenseRun({"run": 0}, np.arange(300), {"validation": (x[300:], y[300:])}, init_seed=0, shuffle_seed=1)
    first, _ = dense.train([(x, y, run)], spec, training)
    again, _ = dense.train([(x, y, run)], spec, training)
    assert first == again
    assert len(first) == 5 * 2 * 2 and {r["epoch"] for r in first} == set(range(1, 6))
    acc = {r["epoch"]: r["value"] for r in first if r["split"] == "validation" and r["metric"] == "acc"}
    assert acc[5] > 0.9 and all(r["train_size"] == 300 for r in first)


def test_a_linear_head_learns_a_regression_and_reports_mae():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(256, 3)).astype(np.float32)
    y = np.stack([x @ [1.0, -2.0, 0.5], x[:, 0] * 0.3], axis=1).astype(np.float32)
    spec = dense.DenseSpec((), 2, head="linear")
    training = dense.DenseTraining(epochs=40, batch_size=32, optimizer="adam", learning_rate=0.05)
    run = dense.DenseRun({"run": 0}, np.arange(256), {"validation": (x, y)}, init_seed=0, shuffle_seed=0)
    rows, (params,) = dense.train([(x, y, run)], spec, training, keep=True)
    last = {(r["split"], r["metric"]): r["value"] for r in rows if r["epoch"] == 40}
    predictions = dense.DenseTrainer(spec, 3, training).predict(params, x)
    assert last[("validation", "loss")] == pytest.approx(((predictions - y) ** 2).mean(), rel=1e-4)
    assert last[("validation", "mae")] == pytest.approx(np.abs(predictions - y).mean(), rel=1e-4)
    assert last[("validation", "mae")] < 0.05
    with pytest.raises(ValueError, match="no head"):
        dense.DenseTrainer(dense.DenseSpec((), 2, head="tanh"), 3, training)


def test_a_diverging_run_is_recorded_and_stops():
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(64, 4)) * 1e30).astype(np.float32)
    y = rng.normal(size=(64, 1)).astype(np.float32)
    spec, training = dense.DenseSpec((4,), 1, head="linear"), dense.DenseTraining(epochs=3, batch_size=16)
    run = dense.DenseRun({"run": 0}, np.arange(64), {"validation": (x, y)})
    rows, _ = dense.train([(x, y, run)], spec, training)
    assert rows[-1]["diverged"] and max(r["epoch"] for r in rows) < 3


def test_the_dense_path_trains_the_imdb_model_as_the_engines_dense_reference_does():
    """The same 4-4-1 model, initial weights and batches: on multi-hot rows the dense path (sigmoid head) gives the
    IMDB engine's numbers (its dense reference, the book's multi-hot matmul) up to float rounding."""
    from overfit.data.imdb import SparseReviews
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import Run, TrainingSpec, train_models
    from overfit.protocols import Fold

    rng = np.random.default_rng(0)
    n, words = 60, 50
    reviews = [np.sort(rng.choice(words, rng.integers(3, 10), replace=False)) for _ in range(n)]
    labels = rng.integers(0, 2, n)
    zeros = np.zeros(n, np.int32)
    split = SparseReviews(np.concatenate(reviews).astype(np.int32), np.cumsum([0] + [len(r) for r in reviews]),
                          labels.astype(np.int8), zeros, np.arange(n), zeros, "tiny")
    run = Run("holdout", Fold(0, 0, np.arange(20, n), "train", np.arange(20)), 0, init_seed=3, shuffle_seed=4)
    reference = train_models(ModelSpec.build([4, 4], input_dim=words), [run],
                             TrainingSpec(epochs=3, batch_size=8, input_mode="dense", learning_rate=0.01), {"train": split})
    x = np.zeros((n, words), np.float32)
    for i, review in enumerate(reviews):
        x[i, review] = 1
    y = labels.astype(np.float32)
    mine, _ = dense.train([(x, y, dense.DenseRun({"seed": 0}, np.arange(20, n), {"validation": (x[:20], y[:20])},
                                                 init_seed=3, shuffle_seed=4))],
                          dense.DenseSpec((4, 4), 1, head="sigmoid"),
                          dense.DenseTraining(epochs=3, batch_size=8, edition=1, learning_rate=0.01))
    expected = {(r["epoch"], r["split"], r["metric"]): r["value"] for r in reference}
    got = {(r["epoch"], r["split"], r["metric"]): r["value"] for r in mine}
    assert len(got) == 12 and all(got[k] == pytest.approx(expected[k], rel=1e-5) for k in got)
