"""How one setting changes an experiment entry: the axes a sweep varies and a search draws from.

Free of JAX: Snakemake reads it.
"""

from __future__ import annotations

import copy


def _hidden(entry, key, value):
    depth = len(entry["hidden"])
    entry["hidden"] = [int(value)] * depth if key == "width" else [entry["hidden"][0]] * int(value)
    if isinstance(entry.get("dropout"), list):
        entry["dropout"] = [entry["dropout"][0]] * len(entry["hidden"])


def _regularizer(entry, key, value):
    entry["regularizer"] = {**entry.get("regularizer", {}), key: float(value)}
    if not any(entry["regularizer"].values()):
        del entry["regularizer"]


def _setting(entry, key, value):
    entry[key] = value


# axis -> (how it changes an experiment entry, what it means); ``experiment`` (the base) is applied first,
# ``width`` before ``depth`` (a depth repeats the first width)
AXES = {
    "experiment": (None, "the base experiment (another experiment's entry)"),
    "width": (_hidden, "units of every hidden layer"),
    "depth": (_hidden, "number of hidden layers"),
    "l1": (_regularizer, "L1 factor on every hidden kernel"),
    "l2": (_regularizer, "L2 factor on every hidden kernel"),
    "dropout": (_setting, "dropout rate after every hidden layer"),
    "weight_decay": (_setting, "decoupled weight decay of the hidden kernels, per step: w -= learning_rate × decay × w"),
    "train_size": (_setting, "training reviews of each fold: a nested random subset"),
    "label_noise": (_setting, "share of each run's training labels shuffled among them (memorization)"),
    "epochs": (_setting, "epochs"),
    "batch_size": (_setting, "batch size"),
    "learning_rate": (_setting, "RMSprop's learning rate"),
    "loss": (_setting, "the cross-entropy it trains on and is scored with: keras_clipped (the book's) or exact"),
}
ORDER = list(AXES)


def applied(entry: dict, settings: dict) -> dict:
    """A copy of ``entry`` with ``settings`` (axis -> value, ``experiment`` aside) applied in ``ORDER``."""
    out = copy.deepcopy(entry)
    for axis in ORDER[1:]:
        if axis in settings:
            AXES[axis][0](out, axis, settings[axis])
    return out
