"""The config's experiments and protocols as the engine's objects: defaults and derived values live here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overfit.engine.model import ModelSpec
from overfit.engine.train import Run, TrainingSpec
from overfit.errors import ConfigError
from overfit.protocols import Fold, nested_subset, test_as_validation
from overfit.seeds import stable_seed

TRAINING_KEYS = ("epochs", "batch_size", "edition", "learning_rate", "loss", "weight_decay", "optimizer")


def loss(config: dict, settings: dict) -> str:
    """The loss an experiment trains on: its own ``loss`` (or the ``training`` block's), else its edition's
    (``editions``: how that edition's Keras computed the cross-entropy)."""
    if settings.get("loss"):
        return settings["loss"]
    editions = config.get("editions", {})
    if str(settings["edition"]) not in editions:
        raise ConfigError(f"edition {settings['edition']}: the config's editions do not say which loss its Keras "
                          f"computed (have: {', '.join(editions) or 'none'}); add it to `editions` or set `loss`")
    return editions[str(settings["edition"])]["loss"]


@dataclass(frozen=True)
class Experiment:
    name: str
    model: ModelSpec
    training: TrainingSpec


def experiment(config: dict, name: str, entry: dict | None = None, protocol: str | None = None) -> Experiment:
    """An experiment's model and training settings: the config's ``training`` defaults, then its own, then the
    ``epochs`` of ``protocol`` where it sets them.

    ``entry``: its entry where it is not in ``experiments`` (a sweep's point or a search's configuration,
    overfit.sweeps.entries).
    """
    if entry is None:
        if name not in config["experiments"]:
            raise ConfigError(f"no experiment {name!r} in the config (have: {', '.join(config['experiments'])})")
        entry = config["experiments"][name]
    settings = {"weight_decay": 0.0, "optimizer": "rmsprop", **config["training"],
                **{k: entry[k] for k in TRAINING_KEYS if k in entry}}
    if protocol is not None and "epochs" in config["protocols"][protocol]:
        settings["epochs"] = config["protocols"][protocol]["epochs"]
    regularizer = entry.get("regularizer", {})
    model = ModelSpec.build(entry["hidden"], l1=regularizer.get("l1", 0.0), l2=regularizer.get("l2", 0.0),
                            dropout=entry.get("dropout", 0.0), input_dim=config["data"]["imdb"]["num_words"])
    training = TrainingSpec(
        epochs=settings["epochs"], batch_size=settings["batch_size"], edition=settings["edition"],
        learning_rate=settings["learning_rate"], clipped_loss=loss(config, settings) == "keras_clipped",
        weight_decay=settings["weight_decay"], optimizer=settings["optimizer"],
    )
    return Experiment(name, model, training)


def protocol_runs(config: dict, protocol: str, folds: list[Fold], train_size: int | None = None,
                  label_noise: float = 0.0) -> list[Run]:
    """One run per fold (and repeat) of the protocol, and per seed where it has ``seeds``.

    Initialisation and shuffling seeds depend on the protocol, repeat and fold
    but not on the experiment: every experiment sees the same folds, the same
    batch order and (where shapes agree) the same initial weights, so
    comparisons between experiments are paired.

    ``train_size``: each run trains on that many of its fold's training rows,
    a random subset nested across sizes (a learning curve); validation rows stay.
    ``label_noise``: that share of each run's training rows have their labels
    shuffled among them (memorization); validation labels stay.
    """
    if protocol not in config["protocols"]:
        raise ConfigError(f"no protocol {protocol!r} in the config (have: {', '.join(config['protocols'])})")
    seed, entry = config["seed"], config["protocols"][protocol]
    if train_size is not None:
        folds = [nested_subset(f, train_size, stable_seed(seed, "subset", protocol, f.repeat, f.fold)) for f in folds]
    return [
        Run(protocol, f, s, init_seed=stable_seed(seed, "init", protocol, f.repeat, f.fold, s),
            shuffle_seed=stable_seed(seed, "shuffle", protocol, f.repeat, f.fold, s), label_noise=label_noise,
            noise_seed=stable_seed(seed, "noise", protocol, f.repeat, f.fold, s),
            evaluate_test=entry.get("evaluate_test", False))
        for f in folds for s in range(entry.get("seeds", 1))
    ]


def final_runs(config: dict, name: str, n_train: int, n_test: int) -> list[Run]:
    """A final fit: all training reviews, one run per seed, the test set looked at once after the last epoch."""
    seed = config["seed"]
    return [
        Run(name, test_as_validation(n_train, n_test)[0], s, init_seed=stable_seed(seed, "init", name, s),
            shuffle_seed=stable_seed(seed, "shuffle", name, s), evaluate_every_epoch=False, evaluation_name="test")
        for s in range(config["final"]["seeds"])
    ]
