"""Experiments on images: the 2nd edition's (chapter 5) and section 4.3's value normalization and missing values.

Each study of ``images:`` in the config is a few arms that differ in one
thing (what is appended to the pixels, the labels, the learning rate, the
model, how the values are scaled, what is missing), trained over the same
seeds: the seed decides a run's initial weights, its batch order and, under
K-fold, its fold, the same in every arm, so arms compare paired by seed.
Runs validate under K-fold (``images.folds``: seed s on fold s of the
shuffled images, a new shuffle every ``folds`` seeds), as the IMDB
experiments do, so that a claim's interval covers the split as well as the
initialisation; an arm may instead take the 2nd edition's split (``split:
last``, Keras' ``validation_split``: the last 20% of the training file, taken
before shuffling) or the pitfall of section 4.2 (``split: class_sorted``: the
same after sorting the images by class). RMSprop and the cross-entropy as
tf.keras 2 computed them (the exact loss from the logits; an arm may ask for
Keras 3's clipped one), batch 128.

The book ran these on MNIST; the mirror has no MNIST, so Fashion-MNIST,
its drop-in (same shapes, harder), stands in. A study's ``input`` names
what it trains on (``overfit.data.catalog.IMAGE_INPUTS``): Fashion-MNIST, or the clock faces of
``overfit.data.clock`` labelled by their hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit.engine.dense import DenseRun, DenseSpec, DenseTrainer, DenseTraining, train
from overfit.engine.progress import Progress
from overfit.protocols import Fold, validation_split_last
from overfit.seeds import stable_seed
from overfit.studies.image_settings import DEFAULTS, settings  # noqa: F401 (the study's settings, JAX-free)

SCALES = ("raw", "unit", "standardized", "heterogeneous")
SPLITS = ("kfold", "last", "class_sorted")


def load_input(name: str, path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 n × 28 × 28, class labels) of an input: Fashion-MNIST's ten classes, or the clock faces
    labelled by their hour (twelve classes)."""
    from overfit.data import clock, fashion_mnist

    if name == "clock":
        faces = clock.load(path, "train")
        return faces["images"], (faces["minutes"] // 60).astype(np.int32)
    images, labels = fashion_mnist.load(path)
    return images, labels.astype(np.int32)


def scale(x: np.ndarray, how: str, train_rows: np.ndarray) -> np.ndarray:
    """Grey levels 0–255 as a model reads them; statistics come from the training rows only.

    ``raw``: 0–255 as they are; ``unit``: divided by 255 (the book's); ``standardized``: each pixel to mean 0 and
    sd 1 over the training rows; ``heterogeneous``: the book's example of what not to feed a network, "one feature
    in the range 0–1 and another in the range 100–200": every other pixel 0–1, the rest 100–200.
    """
    x = x.astype(np.float32)
    if how == "raw":
        return x
    if how == "unit":
        return x / 255.0
    if how == "standardized":
        mean, sd = x[train_rows].mean(axis=0), x[train_rows].std(axis=0)
        return (x - mean) / np.where(sd > 0, sd, 1.0)
    if how == "heterogeneous":
        unit = x / 255.0
        unit[:, 1::2] = 100.0 + 100.0 * unit[:, 1::2]
        return unit
    raise ValueError(f"no scale {how!r}: use one of {', '.join(SCALES)}")


def extra_channels(x: np.ndarray, kind: str, seed: int) -> np.ndarray:
    """The 2nd edition's listing 5.1: 784 white-noise channels (uniform 0–1) or 784 zeros, appended to the pixels."""
    if kind == "none":
        return x
    extra = np.random.default_rng(seed).random(x.shape, dtype=np.float32) if kind == "noise" else np.zeros_like(x)
    return np.concatenate([x, extra], axis=1)


def missing_patch(x: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A copy of ``x`` (rows of 28 × 28 images) with a ``size`` × ``size`` square at a random place of each image
    missing, i.e. 0, as the book advises inputting missing values."""
    rng = np.random.default_rng(seed)
    images = x.reshape(len(x), 28, 28).copy()
    corners = rng.integers(0, 28 - size + 1, (len(x), 2))
    rows, cols = np.arange(size)[None, :] + corners[:, :1], np.arange(size)[None, :] + corners[:, 1:]
    images[np.arange(len(x))[:, None, None], rows[:, :, None], cols[:, None, :]] = 0
    return images.reshape(len(x), -1)


def split_of(labels: np.ndarray, how: str, seed: int, validation_split: float, folds: int, base_seed: int) -> Fold:
    """Which rows run ``seed`` trains and validates on. ``kfold``: fold ``seed % folds`` of a K-fold over the rows in
    a seeded random order (a new order every ``folds`` seeds; the same in every study of as many rows); ``last``:
    Keras' ``validation_split``, the last share of the rows as they are; ``class_sorted``: the same once the rows are
    sorted by class (stable), the pitfall of section 4.2: the last classes are validated on and never trained on."""
    n = len(labels)
    if how == "kfold":
        repeat, fold = divmod(seed, folds)
        order = np.random.default_rng(stable_seed(base_seed, "images", "folds", n, repeat)).permutation(n)
        parts = np.array_split(order, folds)
        return Fold(repeat, fold, np.sort(np.concatenate(parts[:fold] + parts[fold + 1:])), "train", np.sort(parts[fold]))
    (last,) = validation_split_last(n, validation_split)
    if how == "last":
        return last
    if how == "class_sorted":
        order = np.argsort(labels, kind="stable")
        return Fold(0, 0, order[last.train_rows], "train", order[last.validation_rows])
    raise ValueError(f"no split {how!r}: use one of {', '.join(SPLITS)}")


def arm_runs(images: np.ndarray, labels: np.ndarray, study_name: str, study: dict, arm: str, seeds: int,
             validation_split: float, base_seed: int, folds: int = 5) -> list[tuple[np.ndarray, np.ndarray, DenseRun]]:
    """(x, y, run) per seed: the arm's inputs and labels, and which rows it trains and is scored on."""
    s = settings(study, arm)
    x, y = images.reshape(len(images), -1), labels.astype(np.int32)
    if s["rows"]:
        x, y = x[:s["rows"]], y[:s["rows"]]
    out = []
    for seed in range(seeds):
        fold = split_of(y, s["split"], seed, validation_split, folds, base_seed)
        scaled = scale(x, s["scale"], fold.train_rows)  # a standardization's statistics: this run's training rows
        # the same in every arm: initial weights, batch order, the noise and the missing squares drawn
        init_seed = stable_seed(base_seed, "images", study_name, seed)
        x_arm, y_arm = extra_channels(scaled, s["extra_channels"], init_seed + 1), y
        if s["labels"] == "shuffled":  # the book shuffles every label, the validation rows' too
            y_arm = np.random.default_rng(init_seed + 2).permutation(y)
        train_rows, validation = fold.train_rows, (x_arm[fold.validation_rows], y_arm[fold.validation_rows])
        evaluations = {"validation": validation}
        if s["patch"]:
            evaluations["validation_missing"] = (missing_patch(validation[0], s["patch"], init_seed + 3), validation[1])
        if s["augment"]:  # the book's advice: copies of training images with the likely missing values dropped
            copies = [missing_patch(x_arm[train_rows], s["patch"], init_seed + 4 + c) for c in range(s["augment"])]
            x_arm = np.concatenate([x_arm[train_rows], *copies])
            y_arm = np.concatenate([y_arm[train_rows]] * (1 + s["augment"]))
            train_rows = np.arange(len(x_arm))
        run = DenseRun({"study": study_name, "arm": arm, "seed": seed, "fold": fold.fold, "split_by": s["split"],
                        "train_rows": len(train_rows), "validation_rows": len(fold.validation_rows)},
                       train_rows, evaluations,
                       init_seed=init_seed, shuffle_seed=init_seed + 5)
        out.append((x_arm, y_arm, run))
    return out


def clipped_loss(s: dict, editions: dict) -> bool:
    """Whether an arm trains on the clipped cross-entropy: its own ``loss``, else its edition's."""
    return (s["loss"] or editions[str(s["edition"])]["loss"]) == "keras_clipped"


def run_study(images: np.ndarray, labels: np.ndarray, study_name: str, study: dict, seeds: int,
              validation_split: float, base_seed: int, editions: dict,
              folds: int = 5) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every arm of a study over seeds: (tidy metric rows: study, arm, seed, epoch, split, metric, value, ...;
    the last epoch's class scores on every evaluation set, ``arm/seed/split`` -> scores, ``…/labels`` -> labels),
    so that the table's last loss and accuracy can be checked against the predictions."""
    arms = {arm: settings(study, arm) for arm in study["arms"]}
    progress = Progress(len(arms) * seeds, max(s["epochs"] for s in arms.values()), ("model",))
    rows, predictions = [], {}
    for arm, s in arms.items():
        spec = DenseSpec(tuple(s["hidden"]), int(labels.max()) + 1)
        training = DenseTraining(epochs=s["epochs"], batch_size=s["batch_size"], optimizer=s["optimizer"],
                                 learning_rate=s["learning_rate"], edition=s["edition"],
                                 clipped_loss=clipped_loss(s, editions))
        items = arm_runs(images, labels, study_name, study, arm, seeds, validation_split, base_seed, folds)
        trainer = DenseTrainer(spec, items[0][0].shape[1], training)
        table, params = train(items, spec, training, trainer=trainer, keep=True, progress=progress)
        rows.extend(table)
        for (_, _, run), weights in zip(items, params):
            for split, (x, y) in run.evaluations.items():
                predictions[f"{arm}/{run.labels['seed']}/{split}"] = trainer.predict(weights, x)
                predictions[f"{arm}/{run.labels['seed']}/{split}/labels"] = y
    return pd.DataFrame(rows), predictions
