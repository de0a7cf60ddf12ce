"""Each edition's loss semantics (config ``editions``; issue 27): what each Keras computed for a softmax or sigmoid
output, and which one an image study's arm trains on. tests/oracle compares each against that Keras itself."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import REPO
from overfit import images
from overfit.engine import dense
from overfit.engine.losses import binary_crossentropy, sparse_categorical_crossentropy
from overfit.files import load_yaml

EDITIONS = load_yaml(REPO / "config" / "config.yaml")["editions"]


def test_every_edition_declares_its_keras_its_loss_and_why():
    assert set(EDITIONS) == {"1", "2", "3"}
    assert {k: e["loss"] for k, e in EDITIONS.items()} == {"1": "keras_clipped", "2": "exact", "3": "keras_clipped"}
    assert all(e["keras"] and len(e["why"]) > 40 for e in EDITIONS.values())


def test_the_exact_softmax_loss_is_minus_the_log_softmax_and_agrees_with_the_clipped_one_inside_the_clip():
    logits = jnp.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]])
    labels = jnp.array([0, 2])
    exact = dense.per_example(logits, labels, "softmax", clipped=False)[0]
    clipped = dense.per_example(logits, labels, "softmax", clipped=True)[0]
    expected = -jax.nn.log_softmax(logits)[jnp.arange(2), labels]
    np.testing.assert_allclose(exact, expected, rtol=1e-6)
    np.testing.assert_allclose(clipped, expected, rtol=1e-5)


def test_the_two_semantics_part_where_the_true_class_scores_below_the_clip():
    """A confidently wrong row: Keras 3's clip stops its loss at -log(1e-7) ≈ 16.1 and its gradient at 0 (the
    learning-rate-1.0 study's stall); tf.keras 2's exact loss keeps growing and keeps pulling."""
    logits = jnp.array([[40.0, 0.0]])
    labels = jnp.array([1])

    def loss(z, clipped):
        return dense.per_example(z, labels, "softmax", clipped)[0].sum()

    assert float(loss(logits, True)) == pytest.approx(-np.log(1e-7), rel=1e-3)
    assert float(loss(logits, False)) == pytest.approx(40.0, rel=1e-4)
    assert float(jnp.abs(jax.grad(loss)(logits, True)).max()) == 0.0
    assert float(jnp.abs(jax.grad(loss)(logits, False)).max()) == pytest.approx(1.0, rel=1e-4)
    # the same for a sigmoid output (the IMDB engine's)
    z = jnp.array([30.0])
    # (in float32, 1 − 1e-7 rounds to 1 − 1.19e-7: the clip's bound on this side is −log(1.19e-7) ≈ 15.9)
    assert 15.9 < float(binary_crossentropy(z, jnp.array([0.0]), clipped=True)[0]) < 16.2
    assert float(binary_crossentropy(z, jnp.array([0.0]), clipped=False)[0]) == pytest.approx(30.0, rel=1e-4)
    # probabilities in, as Keras 3 takes them: the clipped form rescales and clips; logits in: the exact form
    p = jax.nn.softmax(jnp.array([[1.0, 2.0]]))
    np.testing.assert_allclose(sparse_categorical_crossentropy(p, labels, clipped=True),
                               sparse_categorical_crossentropy(jnp.array([[1.0, 2.0]]), labels, clipped=False), rtol=1e-5)


@pytest.mark.parametrize("arm, clipped", [({}, False), ({"edition": 3}, True), ({"edition": 1}, True),
                                          ({"edition": 3, "loss": "exact"}, False), ({"loss": "keras_clipped"}, True)])
def test_an_image_arm_trains_on_its_editions_loss_unless_it_names_one(arm, clipped):
    study = {"arms": {"a": arm}}
    assert images.clipped_loss(images.settings(study, "a"), EDITIONS) is clipped


def test_a_dense_model_trained_under_each_semantics_differs_only_through_the_loss():
    """The same model, data, seeds and optimizer: identical where no row leaves the clip (a small learning rate),
    apart at a learning rate of 1.0 (rows pushed past it)."""
    rng = np.random.default_rng(0)
    x = rng.random((256, 20), dtype=np.float32)
    y = (x[:, :10].sum(axis=1) > x[:, 10:].sum(axis=1)).astype(np.int32) + 2 * (x[:, 0] > 0.5)
    run = dense.DenseRun({"arm": "a"}, np.arange(200), {"validation": (x[200:], y[200:])}, init_seed=1, shuffle_seed=2)
    spec = dense.DenseSpec((16,), 4)

    def last(rate, clipped):
        training = dense.DenseTraining(epochs=3, batch_size=32, learning_rate=rate, clipped_loss=clipped)
        rows, _ = dense.train([(x, y, run)], spec, training)
        return np.array([r["value"] for r in rows if r["epoch"] == 3])

    np.testing.assert_allclose(last(1e-3, True), last(1e-3, False), rtol=1e-5)
    assert not np.allclose(last(1.0, True), last(1.0, False), rtol=1e-3)
