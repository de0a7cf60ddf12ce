"""The book's Keras model beside the engine, on the same prepared data: seconds per model-epoch and their ratio.

    .venv/bin/pip install -e '.[bench]'      # Keras 3, an optional benchmark dependency
    .venv/bin/python benchmarks/keras_book.py [--widths 4 16 512 1024] [--epochs 2] [--rounds 2]

Keras 3 on its JAX backend trains what the book's listing trains:
Dense(w, relu) → Dense(w, relu) → Dense(1, sigmoid) on the 10,000-wide
multi-hot vectors, RMSprop(1e-3), binary cross-entropy, batch 512, with the
validation pass each epoch (``validation_data``). The engine trains the same
model on the same rows (the 3.5 hold-out: 15,000 training, 10,000 validation
reviews). Rounds alternate engine and Keras; each side's first epoch
(compilation) is left out. Keras' numbers include its own input pipeline
(slicing the dense multi-hot arrays), as the book's code ran it.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
from engine import TRAIN_ROWS, VALIDATION_ROWS, load, seconds_per_model_epoch  # noqa: E402


def keras_model(width: int):
    import keras

    model = keras.Sequential([keras.Input((10000,)), keras.layers.Dense(width, activation="relu"),
                              keras.layers.Dense(width, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def keras_seconds(model, data, epochs: int) -> float:
    x, y, xv, yv = data
    start = time.perf_counter()
    model.fit(x, y, batch_size=512, epochs=epochs, validation_data=(xv, yv), verbose=0)
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="+", default=[4, 16, 512, 1024])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import keras

    from overfit.engine.model import ModelSpec

    splits, trainers = load(), {}
    train = splits["train"]
    dense = train.dense(10000)
    data = (dense[TRAIN_ROWS], train.label[TRAIN_ROWS].astype("float32"),
            dense[VALIDATION_ROWS], train.label[VALIDATION_ROWS].astype("float32"))
    del dense
    print(f"Keras {keras.__version__} ({keras.backend.backend()} backend) against the engine, seconds per model-epoch,")
    print(f"median of {args.rounds} alternating rounds of {args.epochs} epochs (15,000 train + 10,000 validation reviews)")
    print(f"{'width':>6} {'Keras':>8} {'engine':>8} {'Keras/engine':>13}")
    for width in args.widths:
        model = keras_model(width)
        keras_seconds(model, data, 1)  # compile
        times = {"keras": [], "engine": []}
        for _ in range(args.rounds):
            times["engine"].append(seconds_per_model_epoch((ModelSpec.build([width, width]),), args.epochs, splits, trainers))
            times["keras"].append(keras_seconds(model, data, args.epochs))
        k, e = np.median(times["keras"]), np.median(times["engine"])
        print(f"{width:>6} {k:>8.3f} {e:>8.3f} {k / e:>12.1f}x", flush=True)


if __name__ == "__main__":
    main()
