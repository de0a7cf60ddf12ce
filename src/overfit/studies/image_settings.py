"""What an image study's arm trains with: its own settings, else its study's, else the defaults (config `images:`).

Kept free of JAX (overfit.images trains; this only reads the config), so that Snakemake can size and order the
image-study jobs while it builds the DAG (overfit.resources).
"""

from __future__ import annotations

# the 2nd edition's listings: Dense(512) → Dense(10) on Fashion-MNIST scaled to 0–1, RMSprop 1e-3, batch 128, trained
# as tf.keras 2 did (edition 2: its exact loss)
DEFAULTS = {"input": "fashion_mnist", "hidden": [512], "epochs": 10, "batch_size": 128, "optimizer": "rmsprop",
            "learning_rate": 1e-3, "edition": 2, "loss": None, "scale": "unit", "extra_channels": "none",
            "labels": "true", "augment": 0, "rows": None, "patch": 0, "split": "kfold"}
FOLDS = 5  # images.folds unless the config says: a fifth of the rows validated, as Keras' validation_split=0.2
IMAGES = {"fashion_mnist": 60000, "clock": 10000}  # the rows of each input's training file
CLASSES = {"fashion_mnist": 10, "clock": 12}


def settings(study: dict, arm: str) -> dict:
    """An arm's settings: its own, else its study's, else ``DEFAULTS``."""
    return {key: study["arms"][arm].get(key, study.get(key, default)) for key, default in DEFAULTS.items()}


def training_flops(study: dict, seeds: int, validation_split: float, folds: int = FOLDS) -> float:
    """The float operations a study's training needs: per arm and seed, its epochs × (6 × its training rows + 2 ×
    its validation rows) × the model's multiply-adds (784 pixels, twice that with extra channels)."""
    total = 0.0
    for arm in study["arms"]:
        s = settings(study, arm)
        rows = s["rows"] or IMAGES[s["input"]]
        validation = rows / folds if s["split"] == "kfold" else rows * validation_split
        inputs = 784 * (2 if s["extra_channels"] != "none" else 1)
        widths = (inputs, *s["hidden"], CLASSES[s["input"]])
        macs = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
        total += seeds * s["epochs"] * (6 * (rows - validation) * (1 + s["augment"]) + 2 * validation) * macs
    return total
