"""Section 4.1 measured: what self-supervised and unsupervised pretraining buy when labels are few (issue 30).

The book names four branches of machine learning; the middle two (unsupervised, self-supervised) learn from data
without labels. Here they are made concrete on the reviews the pipeline already has: the book's 16-16-1 model
trained from a few labeled reviews, its first layer (10,000 words → 16 units) started three ways.

Design, and why:

- **Data.** The prepared IMDB splits, the book's 10,000-word multi-hot input. The data mirror holds only the
  50,000 labeled reviews (aclImdb's 50,000 unlabeled ones were left out), so the unlabeled pool is a fold's
  training reviews with their labels hidden.
- **Folds.** The first ``repeats`` repeats of an existing protocol's folds (``kfold_by_movie``: grouped by movie,
  the basis of the folded claims; the same file its training jobs read). Per fold, the pool is the fold's training
  part (about 18,750 reviews); its validation part is never pretrained on and never labeled; the test split is
  read by the final fits only.
- **Labeled sets.** Per fold and seed, the first n of one random order of the pool, for each n of ``labeled``:
  nested, so a larger set adds reviews to a smaller one (a learning curve adds data, it does not redraw it). Each
  seed draws its own order: with 100 labels, which 100 is a large part of the variation, and the intervals cover it.
- **Starts** of the first layer (the later layers are Glorot from the run's seed, the same in every start):

  ``scratch``: Glorot uniform, as Keras (the book).

  ``self_supervised``: masked words. Every pool review hides a share ``hide`` of its words (at least one; redrawn
  every pass), the words it still shows go through Dense(16, relu), and a softmax over all 10,000 words predicts
  the hidden ones (the mean cross-entropy of the hidden words); the Dense(16) layer is kept as learned. Half the
  words rather than one: every review then gives dozens of targets a pass instead of one, for the same cost. A
  full softmax, not a sampled one (negative sampling): a pass over a fold's pool takes a few seconds on two cores
  (the job's log times it), so sampling would save little and add an approximation. The output's biases start at
  the words' log frequencies, so that the task starts where guessing from word frequencies alone ends; its RMSprop
  runs at ``learning_rate`` (0.01: at the book's 0.001, four passes left the model worse on the held-out reviews
  than the frequency guess, in development on one fold). The table records the task's own scores on each fold's
  validation reviews.

  As learned, the layer's units take inputs about 20 times Glorot's and each is on for a few percent of the
  reviews. Under RMSprop's fixed-size steps such a layer moves little in fine-tuning: it stays what the pretext
  learned. Measured once, on the same folds: scaled per unit to Glorot's input size (``glorot_scaled``), the start
  learned faster and lost its advantage at 100 labeled reviews (validation accuracy 0.704 against scratch's 0.705,
  where as learned it is several points above). So the start is kept as learned, and what it buys is partly that
  the few labels cannot undo it.

  ``unsupervised``: the truncated SVD (latent semantic analysis) of the pool's multi-hot matrix: its 16 leading
  right singular vectors as the layer's columns, each signed so that the pool's mean review projects on it
  positively (a ReLU unit that most reviews switch off learns little), and scaled (``glorot_scaled``) so that each
  unit's input over the pool has the root-mean-square a Glorot column gives a review of average length ("Glorot's
  range" in what the next layer sees). Scaled instead to Glorot's weight sd, the first component (on the frequent
  words every review holds) fed the next layer inputs many times Glorot's, and the start learned worse than scratch
  (one development fold): a direction of the data, not a size, is what this start is meant to bring.

- **Fine-tuning.** The three starts train as one stack of the engine (``engine.train``): the same batches in the
  same order from the same later layers, only the first layer differs, so the starts compare paired by run (fold ×
  seed). The book's settings (RMSprop at 1e-3, batch 512, the edition's binary cross-entropy), every layer
  trainable, the run's initialisation and shuffle seeds those of the protocol's runs (``overfit.experiments``).
- **Epochs.** Every run trains its size's ``epochs`` (more for fewer labels: 100 reviews are one batch an epoch)
  and is validated after each; per start and labeled size, the
  epoch where the mean validation accuracy over the runs is highest is that start's (early stopping chosen on the
  validation folds, as the final fits choose theirs on ``kfold_by_movie``). Choosing it on the same runs makes the
  value slightly optimistic, equally for every start; the test set, which chooses nothing, measures it.
- **Test once.** After the folds, per start and size, ``final_seeds`` fits: pretrained on the whole training split
  (labels hidden), fine-tuned on n reviews drawn from it for that start's chosen epochs, scored on the test split
  after their last epoch, once.

The table: one row per run, epoch, split and metric (loss, acc), with its start, labeled size, repeat, fold and
seed; the pretext task's own scores on the validation rows (the masked word's cross-entropy and accuracy, and the
cross-entropy of guessing from word frequencies alone) with split ``pretext``; the final fits' with split ``test``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from overfit.data.imdb import SparseReviews
from overfit.engine.batches import batched_rows
from overfit.engine.model import ModelSpec
from overfit.engine.optim import keras_optimizer
from overfit.engine.train import Run, Trainer, TrainingSpec, train_stack
from overfit.errors import ConfigError
from overfit.protocols import Fold
from overfit.seeds import stable_seed

log = logging.getLogger(__name__)

STARTS = ("scratch", "self_supervised", "unsupervised")
KEPT_METRICS = ("loss", "acc")  # what the table keeps of the engine's metrics
NAME = "pretraining"  # the study's name in its seeds (with the protocol's, so its draws are its own)


@dataclass(frozen=True)
class Settings:
    """The ``pretraining:`` block of the config (config/config.yaml says what each key is)."""

    protocol: str
    repeats: int
    seeds: int
    labeled: tuple[int, ...]
    epochs: tuple[int, ...]  # one per labeled size, in the same order
    pretext_epochs: int
    final_seeds: int
    hide: float = 0.5
    pretext_learning_rate: float = 1e-3

    @classmethod
    def from_config(cls, config: dict) -> "Settings":
        block = config["pretraining"]
        pretext = block["self_supervised"]
        if len(block["epochs"]) != len(block["labeled"]):
            raise ConfigError(f"pretraining.epochs gives {len(block['epochs'])} numbers for {len(block['labeled'])} "
                              f"labeled sizes: give one per size, in the order of `labeled`")
        if len(set(block["labeled"])) != len(block["labeled"]):
            raise ConfigError(f"pretraining.labeled lists a size twice ({list(block['labeled'])}): give each once")
        labeled, epochs = zip(*sorted(zip((int(n) for n in block["labeled"]), (int(e) for e in block["epochs"]))))
        return cls(block["protocol"], int(block["repeats"]), int(block["seeds"]), labeled, epochs,
                   int(pretext["epochs"]), int(block["final_seeds"]), float(pretext["hide"]),
                   float(pretext["learning_rate"]))


def check_sizes(settings: Settings, folds: list[Fold]) -> None:
    """Every fold must validate on training reviews (the test set is for the final fits only), and every labeled
    size must leave reviews unlabeled in every fold's pool (else there is nothing to compare)."""
    elsewhere = sorted({f.validation_split for f in folds} - {"train"})
    if elsewhere:
        raise ConfigError(f"pretraining.protocol {settings.protocol} validates on the {', '.join(elsewhere)} split: "
                          f"the study looks at the test set once, at the end; use a K-fold of the training reviews "
                          f"(kfold_by_movie)")
    smallest_pool = min(len(f.train_rows) for f in folds)
    if settings.labeled[-1] >= smallest_pool:
        raise ConfigError(f"pretraining.labeled reaches {settings.labeled[-1]} reviews, but a fold of "
                          f"{settings.protocol} has only {smallest_pool} training reviews: use sizes below it")


# --- the unlabeled starts ------------------------------------------------------------------------------------------

def glorot_std(fan_in: int, fan_out: int) -> float:
    """The standard deviation of Keras' Glorot uniform: limit sqrt(6 / (in + out)), sd limit / sqrt(3)."""
    return math.sqrt(2.0 / (fan_in + fan_out))


def multi_hot(reviews: SparseReviews, num_words: int):
    """The book's multi-hot matrix, sparse (scipy CSR, float32): one row per review, a 1 per word it holds."""
    from scipy import sparse

    data = np.ones(len(reviews.ids), np.float32)
    return sparse.csr_matrix((data, reviews.ids, reviews.offsets), shape=(len(reviews), num_words))


def glorot_scaled(kernel: np.ndarray, bias: np.ndarray, pool: SparseReviews) -> tuple[np.ndarray, np.ndarray]:
    """The layer with each unit's kernel column and bias multiplied by one positive factor, so that the unit's input
    over the pool has the root-mean-square a Glorot column gives a review of the pool's mean length. One positive
    factor keeps which reviews switch the (ReLU) unit on and how strongly relative to each other: the start keeps
    what it learned, in the size the book's fine-tuning (RMSprop's fixed steps) expects of a first layer."""
    num_words, width = kernel.shape
    inputs = np.asarray(multi_hot(pool, num_words) @ kernel) + bias
    rms = np.sqrt(np.mean(inputs ** 2, axis=0))
    factor = glorot_std(num_words, width) * math.sqrt(np.diff(pool.offsets).mean()) / np.where(rms > 0, rms, 1.0)
    return (kernel * factor).astype(np.float32), (bias * factor).astype(np.float32)


def svd_layer(pool: SparseReviews, num_words: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The unsupervised start: the pool's ``width`` leading right singular vectors as a (num_words, width) kernel,
    each signed so the pool's mean review projects positively, scaled as ``glorot_scaled``; zero biases."""
    from scipy.sparse.linalg import svds

    matrix = multi_hot(pool, num_words)
    start = np.random.default_rng(seed).standard_normal(min(matrix.shape))  # ARPACK's start: decided by the seed
    _, values, rows = svds(matrix, k=width, v0=start)
    rows = rows[np.argsort(-values)].astype(np.float64)
    mean_projection = np.asarray(matrix.mean(axis=0)).ravel() @ rows.T
    rows *= np.where(mean_projection < 0, -1.0, 1.0)[:, None]
    return glorot_scaled(rows.T, np.zeros(width), pool)


@dataclass(frozen=True)
class Pretext:
    """The masked-word task's settings: ``epochs`` passes over the pool, each review with a share ``hide`` of its
    words hidden (redrawn every pass; at least one), RMSprop of the book's edition at ``learning_rate``."""

    epochs: int
    hide: float = 0.5
    learning_rate: float = 1e-3
    batch_size: int = 512
    edition: int = 1


def _padded(reviews: SparseReviews) -> tuple[np.ndarray, np.ndarray]:
    """Each review's word ids in one row of a (reviews, longest) matrix (0-padded), and their lengths."""
    lengths = np.diff(reviews.offsets).astype(np.int32)
    ids = np.zeros((len(reviews), max(int(lengths.max()), 1)), np.int32)
    rows = np.repeat(np.arange(len(reviews)), lengths)
    ids[rows, np.arange(len(reviews.ids)) - np.repeat(reviews.offsets[:-1], lengths)] = reviews.ids
    return ids, lengths


def word_frequencies(pool: SparseReviews, num_words: int) -> np.ndarray:
    """How often each word is among the pool's words: the chance it is hidden when a review's words are equally
    likely to be (the frequency guess; a word the pool never holds gets a floor of 1e-12, not 0)."""
    return np.maximum(np.bincount(pool.ids, minlength=num_words) / len(pool.ids), 1e-12)


def _hidden(key, lengths, slots: int, share: float):
    """Which words of each row are hidden: each with chance ``share``, and one drawn position at least."""
    present = jnp.arange(slots)[None, :] < lengths[:, None]
    first, draws = jax.random.split(key)
    at = jnp.minimum((jax.random.uniform(first, lengths.shape) * lengths).astype(jnp.int32), jnp.maximum(lengths - 1, 0))
    hidden = (jax.random.uniform(draws, (lengths.shape[0], slots)) < share) | (jnp.arange(slots)[None, :] == at[:, None])
    return present & hidden, present & ~hidden


def _masked_word_losses(params, ids, hidden, read):
    """Per row: the mean cross-entropy of its hidden words, predicted by a softmax over the vocabulary from the
    words it reads (summed through Dense(width, relu)); and whether the top guess is one of them."""
    kernel, bias, out_kernel, out_bias = params
    h = jax.nn.relu(jnp.einsum("rs,rsw->rw", read.astype(jnp.float32), kernel[ids]) + bias)
    logits = h @ out_kernel + out_bias
    hidden = hidden.astype(jnp.float32)
    count = jnp.maximum(hidden.sum(axis=1), 1.0)
    of_hidden = (jnp.take_along_axis(logits, ids, axis=1) * hidden).sum(axis=1) / count
    top = jnp.argmax(logits, axis=1)
    hit = ((ids == top[:, None]) & (hidden > 0)).any(axis=1)
    return jax.nn.logsumexp(logits, axis=1) - of_hidden, hit


def masked_word_layer(pool: SparseReviews, num_words: int, width: int, pretext: Pretext, seed: int,
                      validation: SparseReviews | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The self-supervised start: Dense(width, relu) trained to predict the hidden words of each pool review from
    the rest of its bag of words (a softmax over the vocabulary); returns its (kernel, bias) and, where
    ``validation`` reviews are given, the task's scores on them (words hidden as in training, drawn once):
    cross-entropy, the share whose top guess is a hidden word, and the cross-entropy of guessing from the pool's
    word frequencies alone (what the 16 units add to that)."""
    keep = np.flatnonzero(np.diff(pool.offsets) >= 2)  # a word to hide and at least one to read
    ids, lengths = _padded(pool.subset(keep))
    rng = np.random.default_rng(seed)
    init = jax.nn.initializers.glorot_uniform()
    keys = jax.random.split(jax.random.key(seed), 3)
    # the output's biases start at the words' log frequencies: the task starts where guessing from frequencies
    # alone ends, and what the 16 units learn is what the rest of a review adds to that
    params = (init(keys[0], (num_words, width), jnp.float32), jnp.zeros(width, jnp.float32),
              init(keys[1], (width, num_words), jnp.float32), jnp.asarray(np.log(word_frequencies(pool, num_words)),
                                                                           jnp.float32))
    optimizer = keras_optimizer("rmsprop", pretext.learning_rate, pretext.edition)
    opt_state = optimizer.init(params)
    device_ids, device_lengths = jnp.asarray(ids), jnp.asarray(lengths)

    def loss(params, rows, key):
        safe, weights = jnp.maximum(rows, 0), (rows >= 0).astype(jnp.float32)
        hidden, read = _hidden(key, device_lengths[safe], ids.shape[1], pretext.hide)
        losses, _ = _masked_word_losses(params, device_ids[safe], hidden, read)
        return jnp.sum(losses * weights) / jnp.maximum(weights.sum(), 1.0)

    @jax.jit
    def epoch(params, opt_state, batches, key):
        def step(carry, inputs):
            params, opt_state = carry
            rows, step_key = inputs
            value, grads = jax.value_and_grad(loss)(params, rows, step_key)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (jax.tree.map(jnp.add, params, updates), opt_state), value

        steps = jax.random.split(key, batches.shape[0])
        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (batches, steps))
        return params, opt_state, losses.mean()

    for e in range(1, pretext.epochs + 1):
        order = rng.permutation(len(lengths)).astype(np.int32)
        params, opt_state, value = epoch(params, opt_state, jnp.asarray(batched_rows(order, pretext.batch_size)),
                                         jax.random.fold_in(keys[2], e))
        log.info("masked words, epoch %d of %d: training cross-entropy %.4f", e, pretext.epochs, float(value))
    scores = {} if validation is None else _pretext_scores(params, pool.subset(keep), validation, num_words,
                                                           pretext.hide, seed)
    return np.asarray(params[0]), np.asarray(params[1]), scores


def _pretext_scores(params, pool: SparseReviews, validation: SparseReviews, num_words: int, share: float,
                    seed: int) -> dict:
    """The masked-word task on reviews it never trained on, words hidden once (drawn from ``seed``)."""
    keep = np.flatnonzero(np.diff(validation.offsets) >= 2)
    ids, lengths = _padded(validation.subset(keep))
    hidden, read = (np.asarray(a) for a in _hidden(jax.random.key(stable_seed(seed, "pretext validation")),
                                                   jnp.asarray(lengths), ids.shape[1], share))
    losses, hits = [], []
    for begin in range(0, len(lengths), 1024):
        part = slice(begin, begin + 1024)
        loss, hit = _masked_word_losses(params, jnp.asarray(ids[part]), jnp.asarray(hidden[part]),
                                        jnp.asarray(read[part]))
        losses.append(np.asarray(loss))
        hits.append(np.asarray(hit))
    chance = word_frequencies(pool, num_words)
    frequency = (-np.log(chance[ids]) * hidden).sum(axis=1) / np.maximum(hidden.sum(axis=1), 1)
    return {"loss": float(np.concatenate(losses).mean()), "acc": float(np.concatenate(hits).mean()),
            "frequency_loss": float(frequency.mean())}


# --- fine-tuning: the three starts as one stack -----------------------------------------------------------------

class StartsTrainer(Trainer):
    """The engine's trainer of a stack of identical models, each starting from its own first layer.

    ``first_layers[i]``: (kernel, bias) of model i's first layer, or None for Keras' Glorot from the run's seed;
    every other layer is Glorot from the run's seed in every model. Set before each call of ``train_stack``."""

    def __init__(self, spec: ModelSpec, training: TrainingSpec, starts: int):
        super().__init__((spec,) * starts, training)
        if len(self.groups) != 1:
            raise ValueError("the starts must share one architecture")
        self.width = spec.hidden[0]
        self.first_layers: list[tuple[np.ndarray, np.ndarray] | None] = [None] * starts

    def init(self, seed: int):
        (group,), _ = super().init(seed)
        kernel, bias = group["kernels"][0], group["biases"][0]
        for i, layer in enumerate(self.first_layers):
            if layer is not None:
                columns = slice(i * self.width, (i + 1) * self.width)
                kernel, bias = kernel.at[:, columns].set(layer[0]), bias.at[columns].set(layer[1])
        params = ({"kernels": [kernel, *group["kernels"][1:]], "biases": [bias, *group["biases"][1:]]},)
        return params, self.optimizer.init(params)


def labeled_sets(fold: Fold, sizes: tuple[int, ...], seed: int) -> dict[int, np.ndarray]:
    """The labeled rows of each size: the first n of one random order of the fold's training rows (nested)."""
    order = np.random.default_rng(seed).permutation(len(fold.train_rows))
    return {n: np.sort(fold.train_rows[order[:n]]) for n in sizes}


def first_layers(pool: SparseReviews, num_words: int, width: int, pretext: Pretext, seed: int,
                 validation: SparseReviews | None = None) -> tuple[dict, dict]:
    """Each start's first layer from this pool (None: scratch), and the pretext task's scores."""
    kernel, bias, scores = masked_word_layer(pool, num_words, width, pretext, stable_seed(seed, "masked word"),
                                             validation)
    layers = {"scratch": None, "self_supervised": (kernel, bias),
              "unsupervised": svd_layer(pool, num_words, width, stable_seed(seed, "svd"))}
    return layers, scores


def _tidy(tables: list[list[dict]], starts, labeled: int, pool_size: int) -> list[dict]:
    """The engine's rows of each start, labeled with the start, the labeled size and the pool; loss and acc only."""
    return [{"start": start, "labeled": labeled, **{k: v for k, v in row.items() if k != "protocol"},
             "pool_size": pool_size}
            for start, rows in zip(starts, tables) for row in rows if row["metric"] in KEPT_METRICS]


def run_folds(splits: dict[str, SparseReviews], folds: list[Fold], settings: Settings, spec: ModelSpec,
              training: TrainingSpec, seed: int) -> pd.DataFrame:
    """Every fold: its pool's starts, then every (labeled size, seed) run fine-tuned from each, validated each epoch."""
    check_sizes(settings, folds)
    trainer = StartsTrainer(spec, training, len(STARTS))
    pretext = Pretext(settings.pretext_epochs, settings.hide, settings.pretext_learning_rate, training.batch_size,
                      training.edition)
    rows = []
    for fold in folds:
        pool = splits["train"].subset(fold.train_rows)  # labels hidden: only word ids are read
        layers, scores = first_layers(pool, spec.input_dim, spec.hidden[0], pretext,
                                      stable_seed(seed, NAME, settings.protocol, fold.repeat, fold.fold),
                                      splits[fold.validation_split].subset(fold.validation_rows))
        rows += [{"start": "self_supervised", "labeled": 0, "repeat": fold.repeat, "fold": fold.fold, "seed": 0,
                  "epoch": settings.pretext_epochs, "split": "pretext", "metric": metric, "value": value,
                  "diverged": False, "train_size": len(pool), "validation_size": len(fold.validation_rows),
                  "pool_size": len(pool)}
                 for metric, value in scores.items()]
        log.info("fold %d.%d: masked word on its validation reviews: cross-entropy %.3f (word frequencies alone: "
                 "%.3f), accuracy %.3f", fold.repeat, fold.fold, scores["loss"], scores["frequency_loss"], scores["acc"])
        trainer.first_layers = [layers[start] for start in STARTS]
        drawn = [labeled_sets(fold, settings.labeled,
                              stable_seed(seed, NAME, "labeled", settings.protocol, fold.repeat, fold.fold, s))
                 for s in range(settings.seeds)]
        for n, epochs in zip(settings.labeled, settings.epochs):
            runs = [Run(settings.protocol, dataclasses.replace(fold, train_rows=drawn[s][n]), s,
                        init_seed=stable_seed(seed, "init", settings.protocol, fold.repeat, fold.fold, s),
                        shuffle_seed=stable_seed(seed, "shuffle", settings.protocol, fold.repeat, fold.fold, s))
                    for s in range(settings.seeds)]
            tables = train_stack(trainer.specs, runs, dataclasses.replace(training, epochs=epochs), splits,
                                 trainer=trainer, names=STARTS)
            rows += _tidy(tables, STARTS, n, len(pool))
    return pd.DataFrame(rows)


def chosen_epochs(table: pd.DataFrame) -> pd.Series:
    """Per (start, labeled size): the epoch of the highest mean validation accuracy over the runs."""
    validation = table[(table.split == "validation") & (table.metric == "acc") & ~table.diverged.astype(bool)]
    means = validation.groupby(["start", "labeled", "epoch"]).value.mean()
    return means.groupby(level=["start", "labeled"]).idxmax().map(lambda key: key[2]).rename("epoch")


def run_final(splits: dict[str, SparseReviews], settings: Settings, spec: ModelSpec, training: TrainingSpec,
              epochs: pd.Series, seed: int) -> pd.DataFrame:
    """The test set, once: per start and size, fits pretrained on the whole training split and fine-tuned for the
    start's chosen epochs, each scored on the test split after its last epoch."""
    pool = splits["train"]
    pretext = Pretext(settings.pretext_epochs, settings.hide, settings.pretext_learning_rate, training.batch_size,
                      training.edition)
    layers, _ = first_layers(pool, spec.input_dim, spec.hidden[0], pretext, stable_seed(seed, NAME, "final"))
    everything = Fold(0, 0, np.arange(len(pool)), "test", np.arange(len(splits["test"])))
    rows = []
    for start in STARTS:
        trainer = None
        for n in settings.labeled:
            chosen = int(epochs.loc[(start, n)])
            one = dataclasses.replace(training, epochs=chosen)
            trainer = trainer or StartsTrainer(spec, one, 1)
            trainer.training = one  # the compiled functions do not read the epoch count
            trainer.first_layers = [layers[start]]
            runs = [Run(NAME, dataclasses.replace(everything, train_rows=labeled_sets(
                        everything, (n,), stable_seed(seed, NAME, "final labeled", s))[n]), s,
                        init_seed=stable_seed(seed, "init", NAME, "final", s),
                        shuffle_seed=stable_seed(seed, "shuffle", NAME, "final", s),
                        evaluate_every_epoch=False, evaluation_name="test")
                    for s in range(settings.final_seeds)]
            (table,) = train_stack(trainer.specs, runs, one, splits, trainer=trainer, names=(start,))
            rows += [row for row in _tidy([table], [start], n, len(pool)) if row["split"] == "test"]
    return pd.DataFrame(rows)


def run(splits: dict[str, SparseReviews], folds: list[Fold], settings: Settings, spec: ModelSpec,
        training: TrainingSpec, seed: int) -> pd.DataFrame:
    """The whole study: the folds, then the test set once. Returns the tidy table (module docstring)."""
    folds = [f for f in folds if f.repeat < settings.repeats]
    if not folds:
        raise ConfigError(f"pretraining.repeats is {settings.repeats}: {settings.protocol} has no such repeats")
    table = run_folds(splits, folds, settings, spec, training, seed)
    epochs = chosen_epochs(table)
    log.info("chosen epochs (highest mean validation accuracy):\n%s", epochs.unstack("labeled").to_string())
    final = run_final(splits, settings, spec, training, epochs, seed)
    return pd.concat([table, final], ignore_index=True)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Labeled size × start: the mean validation accuracy over the runs at the start's chosen epoch (for the log)."""
    epochs = chosen_epochs(table)
    validation = table[(table.split == "validation") & (table.metric == "acc")]
    at = validation.merge(epochs.reset_index(), on=["start", "labeled", "epoch"])
    return at.groupby(["labeled", "start"]).value.mean().unstack("start")
