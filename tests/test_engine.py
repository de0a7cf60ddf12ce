"""The engine against the book's Keras: sparse == dense, Keras' loss, metrics and RMSprop."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from overfit.data.imdb import SparseReviews
from overfit import measures
from overfit.engine import losses, metrics, native, optim, sparse, stack
from overfit.engine.model import MLP, ModelSpec
from overfit.engine.batches import dense_batch, sparse_batch
from overfit.protocols import Fold
from overfit.engine.train import METRICS, Run, Trainer, TrainingSpec, train_models, train_stack

VOCABULARY = 60
# the compiled kernel where it can be built here (tests/test_native.py says why not, where not)
KERNELS = ["segment", "csr", pytest.param("native", marks=pytest.mark.skipif(
    not native.available(), reason="the compiled CSR kernel could not be built here (see its log line)"))]


def random_reviews(n: int, seed: int = 0, vocabulary: int = VOCABULARY) -> SparseReviews:
    """Multi-hot rows whose words carry the label: words 3..9 lean positive, 10..16 negative."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).astype(np.uint8)
    rows = []
    for label in labels:
        words = set(rng.choice(np.arange(17, vocabulary), rng.integers(3, 12), replace=False).tolist())
        words |= set(rng.choice(np.arange(3, 10) if label else np.arange(10, 17), 2).tolist())
        rows.append(np.array(sorted(words | {1}), np.uint16))
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    return SparseReviews(np.concatenate(rows), offsets, labels, np.zeros(n, np.uint8), np.arange(n, dtype=np.int32),
                         np.arange(n, dtype=np.int64) // 2, "test")


def arrays_of(reviews: SparseReviews, dense: bool = False):
    lengths = np.diff(reviews.offsets).astype(np.int32)
    return (jnp.asarray(reviews.ids.astype(np.int32)), jnp.asarray(reviews.offsets[:-1].astype(np.int32)),
            jnp.asarray(lengths), jnp.asarray(reviews.label.astype(np.float32)),
            jnp.asarray(reviews.dense(VOCABULARY)) if dense else None)


@pytest.mark.parametrize("kernel", KERNELS)
def test_sparse_and_dense_give_the_same_logits_and_gradients(kernel):
    reviews = random_reviews(12)
    spec = ModelSpec.build([8, 4], l2=0.01, input_dim=VOCABULARY)
    model = MLP(spec, nnx.Rngs(params=3))
    graphdef, params = nnx.split(model, nnx.Param)
    rows = np.array([4, 0, 7, 11, 2, -1, -1, 9], np.int32)  # padding rows in the middle of nothing: masked
    arrays = arrays_of(reviews, dense=True)
    transposed = (None, None)
    if kernel == "csr":
        lengths = np.diff(reviews.offsets)
        transposed = tuple(jnp.asarray(a[0]) for a in sparse.transposed_structure(
            rows[None], reviews.ids, reviews.offsets[:-1], lengths, VOCABULARY, 256))

    def loss(params, make, transposed):
        batch, labels, weights = make(arrays, jnp.asarray(rows), 256, transposed)
        logits = nnx.merge(graphdef, params)(batch, how=kernel)
        return jnp.sum(losses.binary_crossentropy(logits, labels) * weights), logits

    # as the engine reads them: the compiled kernel reads the reviews' words in place, the others an assembled batch
    make = functools.partial(sparse_batch, assemble=kernel != "native")
    (sparse_loss, sparse_logits), sparse_grads = jax.value_and_grad(loss, has_aux=True)(params, make, transposed)
    (dense_loss, dense_logits), dense_grads = jax.value_and_grad(loss, has_aux=True)(params, dense_batch, None)
    valid = rows >= 0
    np.testing.assert_allclose(sparse_logits[valid], dense_logits[valid], atol=1e-6)
    np.testing.assert_allclose(sparse_loss, dense_loss, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(sparse_grads), jax.tree.leaves(dense_grads)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert np.abs(np.asarray(jax.tree.leaves(sparse_grads)[0])).sum() > 0


def test_transposed_structure_groups_entries_by_word():
    reviews = random_reviews(5)
    rows = np.array([[3, 1, 4, -1]], np.int32)
    t_rows, t_indptr = sparse.transposed_structure(rows, reviews.ids, reviews.offsets[:-1], np.diff(reviews.offsets), VOCABULARY, 64)
    dense = reviews.dense(VOCABULARY)[[3, 1, 4]]
    for word in range(VOCABULARY):
        members = t_rows[0, t_indptr[0, word]:t_indptr[0, word + 1]]
        assert members.tolist() == np.flatnonzero(dense[:, word]).tolist()


def test_glorot_uniform_kernels_and_zero_biases_as_keras():
    model = MLP(ModelSpec.build([16, 16]), nnx.Rngs(params=0))
    kernel = np.asarray(model.hidden[0].kernel[...])
    limit = np.sqrt(6 / (10000 + 16))
    assert kernel.shape == (10000, 16) and np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert np.all(np.asarray(model.hidden[0].bias[...]) == 0) and np.all(np.asarray(model.output.bias[...]) == 0)


def test_clipped_binary_crossentropy_matches_keras_values():
    logits = jnp.array([0.0, 2.0, -3.0, 40.0, -40.0])
    labels = jnp.array([1.0, 0.0, 0.0, 0.0, 0.0])
    clipped = losses.binary_crossentropy(logits, labels)
    # a confident wrong answer costs 15.94 under Keras' float32 clip, not 40:
    # 1 - 1e-7 rounds to 1 - 2**-23 in float32, so the floor is -log(2**-23)
    one, top = np.float32(1), np.float32(1 - 1e-7)
    expected = [np.log(2), np.log1p(np.exp(2.0)), np.log1p(np.exp(-3.0)), -np.log(one - top), -np.log(top)]
    np.testing.assert_allclose(clipped, expected, rtol=2e-4)
    exact = losses.binary_crossentropy(logits, labels, clipped=False)
    np.testing.assert_allclose(exact[3], 40.0, rtol=1e-6)
    # past the clip the gradient is zero, as in Keras
    assert jax.grad(lambda z: losses.binary_crossentropy(z, jnp.array(0.0)))(jnp.array(40.0)) == 0


def test_kernel_penalties_have_keras_semantics():
    kernel = jnp.array([[1.0, -2.0], [0.5, 0.0]])
    assert float(losses.kernel_penalty(kernel, 0.0, 0.001)) == pytest.approx(0.001 * 5.25)
    assert float(losses.kernel_penalty(kernel, 0.001, 0.0)) == pytest.approx(0.001 * 3.5)
    assert float(losses.kernel_penalty(kernel, 0.001, 0.001)) == pytest.approx(0.001 * 8.75)


@pytest.mark.parametrize("edition", [1, 2, 3])
def test_rmsprop_steps_equal_hand_computed_keras(edition):
    rng = np.random.default_rng(0)
    params = rng.normal(size=(3, 4)).astype(np.float32)
    gradients = [rng.normal(size=(3, 4)).astype(np.float32) * scale for scale in (1.0, 1e-3, 0.0, 5.0)]
    gradients[0][0, 0] = 1e-9  # a rare word: where epsilon sits decides its step
    tx = optim.rmsprop_for_edition(edition)
    state = tx.init(jnp.asarray(params))
    p, expected, accumulator = jnp.asarray(params), params.astype(np.float64), np.zeros_like(params, np.float64)
    for g in gradients:
        updates, state = tx.update(jnp.asarray(g), state, p)
        p = p + updates
        accumulator = 0.9 * accumulator + 0.1 * g.astype(np.float64) ** 2
        if edition == 1:  # Keras 2.0.8: p - lr * g / (sqrt(a) + 1e-8)
            expected = expected - 1e-3 * g / (np.sqrt(accumulator) + 1e-8)
        elif edition == 2:  # tf.keras 2 (optimizer_v2, momentum 0): p - lr * g / (sqrt(a) + 1e-7)
            expected = expected - 1e-3 * g / (np.sqrt(accumulator) + 1e-7)
        else:  # Keras 3: p - lr * g / sqrt(a + 1e-7)
            expected = expected - 1e-3 * g / np.sqrt(accumulator + 1e-7)
        np.testing.assert_allclose(np.asarray(p), expected, rtol=1e-5, atol=1e-7)
    # the rare word's first step: 1e-3 * 1e-9 / (sqrt(1e-19) + 1e-8) = 9.7e-5 under edition 1,
    # 1e-3 * 1e-9 / (sqrt(1e-19) + 1e-7) = 1.0e-5 under edition 2, 1e-3 * 1e-9 / sqrt(1e-19 + 1e-7) = 3.2e-9 under
    # edition 3: 30,000 times smaller than edition 1's
    first = -float(tx.update(jnp.asarray(gradients[0]), tx.init(jnp.asarray(params)))[0][0, 0])
    assert first == pytest.approx({1: 9.69e-5, 2: 9.97e-6, 3: 3.16e-9}[edition], rel=0.01)


def small_runs(n_train=40, n_val=20, protocol="t"):
    return [Run(protocol, Fold(0, fold, np.arange(fold, n_train, 1 + fold), "test", np.arange(n_val)), 0,
                init_seed=10 + fold, shuffle_seed=20 + fold) for fold in range(2)]


def table(rows):
    import pandas as pd

    return pd.DataFrame(rows)


@pytest.mark.parametrize("kernel", KERNELS)
def test_training_learns_and_is_deterministic(kernel):
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8, 8], input_dim=VOCABULARY)
    training = TrainingSpec(epochs=12, batch_size=8, sparse_kernel=kernel, learning_rate=0.01)
    first = table(train_models(spec, small_runs(), training, splits))
    second = table(train_models(spec, small_runs(), training, splits))
    assert first.equals(second)
    loss = first[(first.split == "train") & (first.metric == "loss") & (first.fold == 0)].value.to_numpy()
    assert loss[-1] < 0.5 * loss[0]
    assert len(first) == 2 * 12 * 2 * len(METRICS)  # runs × epochs × splits × metrics
    assert not first.diverged.any()


@pytest.mark.slow
@pytest.mark.parametrize("kernel", KERNELS)
def test_a_stack_of_models_computes_what_each_would_alone(kernel):
    """Different widths, penalties and dropout in one stack: each model's numbers equal its training alone."""
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    specs = (ModelSpec.build([8, 8], dropout=0.5, input_dim=VOCABULARY),
             ModelSpec.build([4, 4], l2=0.01, input_dim=VOCABULARY),
             ModelSpec.build([6], l1=0.001, input_dim=VOCABULARY))
    training = TrainingSpec(epochs=3, batch_size=16, sparse_kernel=kernel, learning_rate=0.01)
    stacked = train_stack(specs, small_runs(), training, splits)
    keys = ["fold", "epoch", "split", "metric"]
    for spec, rows in zip(specs, stacked):
        alone = table(train_models(spec, small_runs(), training, splits)).sort_values(keys, ignore_index=True)
        together = table(rows).sort_values(keys, ignore_index=True)
        assert together[keys].equals(alone[keys]) and len(alone) == 2 * 3 * 2 * len(METRICS)
        np.testing.assert_allclose(together.value, alone.value, rtol=1e-5, atol=1e-6)
    # and the models really differ: a stack is not one model repeated
    assert not np.allclose(table(stacked[0]).value, table(stacked[1]).value)


def test_a_group_computes_each_models_logits_dropout_and_penalty_as_its_mlp():
    """The side-by-side arrays of a group against each model's own MLP: same initial weights, logits, masks, penalty."""
    reviews = random_reviews(12)
    specs = (ModelSpec.build([8, 4], l2=0.01, dropout=0.5, input_dim=VOCABULARY),
             ModelSpec.build([8, 4], l1=0.001, dropout=0.5, input_dim=VOCABULARY))
    [group] = stack.groups_of(specs)
    params = stack.init(group, seed=7)
    rows = jnp.asarray(np.arange(12, dtype=np.int32))
    batch, _, _ = sparse_batch(arrays_of(reviews), rows, 256)
    key = jax.random.key(3)
    first = sparse.first_layer(params["kernels"][0], batch, "segment")
    together = stack.logits(group, params, first, key)
    penalties = stack.penalties(group, params)
    for m, spec in enumerate(specs):
        alone = MLP(spec, nnx.Rngs(params=7))
        np.testing.assert_allclose(together[:, m], alone(batch, dropout_key=key), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(penalties[m], alone.penalty(), rtol=1e-5)
    assert not np.allclose(together[:, 0], stack.logits(group, params, first, None)[:, 0])  # dropout was on


def test_a_part_of_a_protocols_runs_computes_what_the_whole_does():
    """A cluster job trains some of a protocol's runs; padded like the whole, its rows equal the whole's."""
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8, 8], input_dim=VOCABULARY)
    training = TrainingSpec(epochs=2, batch_size=8)
    whole = table(train_models(spec, small_runs(), training, splits))
    part = table(train_stack((spec,), small_runs(), training, splits, train_only=[1])[0])
    assert part.equals(whole[whole.fold == 1].reset_index(drop=True))


def test_a_diverging_model_does_not_stop_the_rest_of_its_stack():
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    specs = (ModelSpec.build([8, 8], input_dim=VOCABULARY), ModelSpec.build([4, 4], input_dim=VOCABULARY))
    training = TrainingSpec(epochs=3, batch_size=8)
    trainer = Trainer(specs, training)
    real_epoch = trainer.train_epoch

    def first_model_breaks(*args):
        params, opt_state, metrics = real_epoch(*args)
        return params, opt_state, metrics.at[0, 0].set(jnp.nan)

    trainer.train_epoch = first_model_breaks
    broken, fine = (table(rows) for rows in train_stack(specs, small_runs(), training, splits, trainer=trainer))
    assert broken.epoch.max() == 1 and broken.diverged.all()
    assert fine.epoch.max() == 3 and not fine.diverged.any()


def test_validation_and_training_loss_include_the_penalty_and_data_loss_does_not():
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8, 8], l2=0.01, input_dim=VOCABULARY)
    trainer = Trainer(spec, TrainingSpec(epochs=1, batch_size=40))
    rows = table(train_models(spec, small_runs()[:1], TrainingSpec(epochs=1, batch_size=40), splits, trainer=trainer))
    value = rows.set_index(["split", "metric"]).value
    # one epoch, one batch: the training penalty is the initial one; validation uses the trained weights
    params, _ = trainer.init(10)
    initial_penalty = float(trainer.penalties(params)[0])
    assert value["train", "loss"] - value["train", "data_loss"] == pytest.approx(initial_penalty, rel=1e-4)
    assert value["validation", "loss"] - value["validation", "data_loss"] > 0.5 * initial_penalty


def scored_at_initial_weights(n: int, data_seed: int, hidden: list[int], batch_size: int, init_seed: int,
                              shuffle_seed: int):
    """One epoch at learning rate 0 (the weights never move) on ``n`` reviews, validated on the same ``n``: the
    splits, the model and its values by (split, metric)."""
    splits = {"train": random_reviews(n, data_seed), "test": random_reviews(n, data_seed)}
    spec = ModelSpec.build(hidden, input_dim=VOCABULARY)
    run = Run("t", Fold(0, 0, np.arange(n), "test", np.arange(n)), 0, init_seed=init_seed, shuffle_seed=shuffle_seed)
    rows = table(train_models(spec, [run], TrainingSpec(epochs=1, batch_size=batch_size, learning_rate=0.0), splits))
    return splits, spec, rows.set_index(["split", "metric"]).value


def test_epoch_training_loss_is_the_batch_size_weighted_mean_with_the_partial_batch_kept():
    # learning rate 0: the weights never move, so each batch's loss is the initial model's;
    # batches of 4, 4 and 2 reviews weighted by size give exactly the mean over all 10 reviews
    _, _, value = scored_at_initial_weights(10, 1, [4, 4], batch_size=4, init_seed=1, shuffle_seed=2)
    assert value["train", "data_loss"] == pytest.approx(value["validation", "data_loss"], rel=1e-6)
    assert value["train", "acc"] == pytest.approx(value["validation", "acc"])


def test_auc_precision_and_recall_are_keras_metrics_on_the_models_predictions():
    # learning rate 0: the weights stay the initial ones, so the training epoch and the validation pass score the
    # same predictions (batches of 16: the epoch's counts add up over 4 batches, the last partial)
    splits, spec, value = scored_at_initial_weights(50, 3, [6, 6], batch_size=16, init_seed=8, shuffle_seed=5)
    logits = np.asarray(MLP(spec, nnx.Rngs(params=8))(jnp.asarray(splits["test"].dense(VOCABULARY))))
    p, y = 1 / (1 + np.exp(-logits)), splits["test"].label.astype(bool)
    predicted = p > 0.5
    assert 0 < predicted.sum() < 50  # both kinds of error can happen
    precision, recall = (predicted & y).sum() / predicted.sum(), (predicted & y).sum() / y.sum()
    for split in ("train", "validation"):
        assert value[split, "precision"] == pytest.approx(precision, abs=1e-6)
        assert value[split, "recall"] == pytest.approx(recall, abs=1e-6)
        assert value[split, "auc"] == pytest.approx(measures.keras_auc(p, y), abs=1e-5)
    # Keras' 200-threshold AUC is the rank AUC up to ties within a bucket
    from sklearn.metrics import roc_auc_score
    assert value["validation", "auc"] == pytest.approx(roc_auc_score(y, p), abs=0.02)


def test_precision_and_recall_are_zero_without_predicted_or_true_positives():
    sums = metrics.counts(jnp.array([[-3.0], [-2.0], [-1.0]]), jnp.array([0.0, 0.0, 1.0]), jnp.ones(3))
    auc, precision, recall = np.asarray(metrics.scores(sums, jnp.array(3.0)))[0]
    assert (precision, recall) == (0.0, 0.0)  # nothing predicted positive: Keras' divide_no_nan gives 0
    assert auc == pytest.approx(1.0)  # the positive ranks above both negatives
    sums = metrics.counts(jnp.array([[2.0]]), jnp.array([0.0]), jnp.ones(1))
    assert np.asarray(metrics.scores(sums, jnp.array(1.0)))[0, 2] == 0.0  # no true positive to recall


def test_divergence_is_recorded_and_the_other_runs_go_on():
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8, 8], input_dim=VOCABULARY)
    training = TrainingSpec(epochs=4, batch_size=8)
    trainer = Trainer(spec, training)
    calls = {"n": 0}
    real_epoch = trainer.train_epoch

    def epoch_that_breaks_once(*args):
        calls["n"] += 1
        params, opt_state, metrics = real_epoch(*args)
        return params, opt_state, metrics.at[0].set(jnp.nan) if calls["n"] == 2 else metrics

    trainer.train_epoch = epoch_that_breaks_once
    rows = table(train_models(spec, small_runs(), training, splits, trainer=trainer))
    first, second = rows[rows.fold == 0], rows[rows.fold == 1]
    assert first.epoch.max() == 2 and first[first.epoch == 2].diverged.all() and not first[first.epoch == 1].diverged.any()
    assert second.epoch.max() == 4 and not second.diverged.any()


def test_a_really_exploding_run_is_recorded_not_raised():
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8, 8], input_dim=VOCABULARY)
    rows = table(train_models(spec, small_runs(), TrainingSpec(epochs=3, batch_size=8, learning_rate=1e38), splits))
    assert rows.diverged.any()


@pytest.mark.slow
def test_scoring_the_test_set_each_epoch_changes_nothing_else_and_equals_validating_on_it():
    import dataclasses

    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8, 8], input_dim=VOCABULARY)
    training = TrainingSpec(epochs=3, batch_size=8, learning_rate=0.01)
    on_train = [dataclasses.replace(r, fold=dataclasses.replace(r.fold, validation_split="train",
                                                                validation_rows=np.arange(30, 40)))
                for r in small_runs()]
    plain = table(train_models(spec, on_train, training, splits))
    tested = table(train_models(spec, [dataclasses.replace(r, evaluate_test=True) for r in on_train], training, splits))
    assert tested[tested.split != "test"].reset_index(drop=True).equals(plain)
    on_test = table(train_models(spec, small_runs(), training, splits))  # the same models, validated on the test set
    ours = tested[tested.split == "test"].value.to_numpy()
    assert np.allclose(ours, on_test[on_test.split == "validation"].value.to_numpy(), rtol=1e-6)
    assert len(ours) == 2 * 3 * len(METRICS)  # runs × epochs × metrics


@pytest.mark.slow
def test_under_sgd_an_l2_penalty_is_weight_decay_and_under_rmsprop_it_is_not():
    """The book's 'L2 regularization is also called weight decay' (claims 5e/5f): one update under plain SGD,
    w -= lr × (g + 2λw) = w - lr × g - lr × 2λ × w; RMSprop divides the penalty's gradient, not the decay."""
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    penalised = ModelSpec.build([8, 8], l2=0.01, input_dim=VOCABULARY)
    plain = ModelSpec.build([8, 8], input_dim=VOCABULARY)

    def curves(optimizer):
        settings = dict(epochs=4, batch_size=8, learning_rate=0.05, optimizer=optimizer)
        l2 = table(train_models(penalised, small_runs(), TrainingSpec(**settings), splits))
        decay = table(train_models(plain, small_runs(), TrainingSpec(**settings, weight_decay=0.02), splits))
        pick = lambda t: t[t.metric == "data_loss"].value.to_numpy()  # noqa: E731
        return pick(l2), pick(decay)

    l2, decay = curves("sgd")
    np.testing.assert_allclose(l2, decay, rtol=1e-5)
    l2, decay = curves("rmsprop")
    assert np.abs(l2 - decay).max() > 1e-3


def test_predictions_are_the_models_own_on_its_validation_rows():
    """``predictions``: the last epoch's probabilities, one per validation row in the fold's order, whose loss and
    accuracy are the ones the engine scored; a stack's models each get their own column."""
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    specs = (ModelSpec.build([8, 8], input_dim=VOCABULARY), ModelSpec.build([4], l2=0.01, input_dim=VOCABULARY))
    training = TrainingSpec(epochs=3, batch_size=8, learning_rate=0.01, eval_batch_size=8)  # 20 rows: chunks padded
    runs, predictions = small_runs(), []
    stacked = train_stack(specs, runs, training, splits, predictions=predictions)
    assert [p.shape for p in predictions] == [(20, 2), (20, 2)]
    labels = splits["test"].label[runs[0].fold.validation_rows].astype(float)
    for m, rows in enumerate(stacked):
        scored = table(rows)
        for run, p in zip(runs, predictions):
            mine = scored[(scored.fold == run.fold.fold) & (scored.epoch == 3) & (scored.split == "validation")]
            value = dict(zip(mine.metric, mine.value))
            q = np.clip(p[:, m], 1e-7, 1 - 1e-7)
            assert np.mean((p[:, m] > 0.5) == labels) == pytest.approx(value["acc"])
            assert -np.mean(labels * np.log(q) + (1 - labels) * np.log(1 - q)) == pytest.approx(value["data_loss"], rel=1e-5)
    assert not np.allclose(predictions[0][:, 0], predictions[0][:, 1])


def test_a_class_weighted_loss_weighs_each_rows_loss_by_its_class_as_keras():
    """Keras' ``class_weight``: the batch's loss is the mean over its rows of weight × loss (weights of one change
    nothing); raising the positives' weight raises the share of rows predicted positive."""
    splits = {"train": random_reviews(40, 1), "test": random_reviews(20, 2)}
    spec = ModelSpec.build([8], input_dim=VOCABULARY)
    training = TrainingSpec(epochs=1, batch_size=40, learning_rate=0.01)
    runs = small_runs()[:1]
    plain = table(train_models(spec, runs, training, splits))
    ones = table(train_models(spec, runs, dataclasses.replace(training, class_weight=(1.0, 1.0)), splits))
    assert plain.equals(ones)
    # one batch of every training row at the initial weights: the epoch's loss is the weighted mean
    weighted = table(train_models(spec, runs, dataclasses.replace(training, class_weight=(0.5, 3.0)), splits))
    trainer = Trainer(spec, training)
    params, _ = trainer.init(runs[0].init_seed)
    rows = runs[0].fold.train_rows
    logits = np.asarray(trainer.logits(params, sparse_batch(arrays_of(splits["train"]), jnp.asarray(
        np.asarray(rows, np.int32)), 512, assemble=True)[0], None, "segment"))[:, 0]
    labels = splits["train"].label[rows].astype(float)
    per_row = np.asarray(losses.binary_crossentropy(jnp.asarray(logits), jnp.asarray(labels)))
    expected = np.mean(per_row * np.where(labels > 0, 3.0, 0.5))
    got = weighted[(weighted.split == "train") & (weighted.metric == "data_loss")].value.iloc[0]
    assert got == pytest.approx(expected, rel=1e-5)
    longer = dataclasses.replace(training, epochs=15, batch_size=8)
    share = {}
    for weights in (None, (0.2, 5.0)):
        predictions = []
        train_stack((spec,), runs, dataclasses.replace(longer, class_weight=weights), splits, predictions=predictions)
        share[weights] = float(np.mean(predictions[0] > 0.5))
    assert share[(0.2, 5.0)] > share[None]
