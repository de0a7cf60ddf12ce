"""How often the book's 4-4-1 model stalls under Keras 3 itself: the 1st edition's code (section 4.4), many seeds.

    .venv/bin/pip install -e '.[bench]'      # Keras 3, an optional benchmark dependency
    OVERFIT_DATA_MIRROR=../shared/data .venv/bin/python benchmarks/keras_modes.py [--seeds 20] [--epochs 20]

Keras 3 on its JAX backend runs the book's listing as printed: Dense(4, relu) → Dense(4, relu) → Dense(1, sigmoid)
on the 10,000-wide multi-hot vectors of all 25,000 training reviews, ``compile(optimizer="rmsprop",
loss="binary_crossentropy", metrics=["acc"])``, ``fit(..., epochs=20, batch_size=512, validation_data=(x_test,
y_test))`` -- Keras' own initialisation and shuffle, seeded per run with ``keras.utils.set_random_seed(seed)``.
Per seed it writes the lowest validation loss and its epoch to ``src/overfit/reference/keras_modes.csv``; a seed
*stalls* when its lowest validation loss is above 0.35 (the book's curve reaches about 0.28).

The data: the pipeline's prepared IMDB (results/data/imdb) where it exists, else prepared here by the project's
loader (``overfit.data.imdb.prepare``) from the mirror's archive into a temporary folder.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "results" / "data" / "imdb"
OUT = ROOT / "src" / "overfit" / "reference" / "keras_modes.csv"
STALL = 0.35


def load_imdb(folder: Path | None):
    """(train, test) SparseReviews: the prepared data, else prepared from the mirror."""
    from overfit.data import imdb

    if folder is None and (DATA / "train.npz").is_file():
        folder = DATA
    if folder is None:
        config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["data"]["imdb"]
        mirror = Path(os.environ.get("OVERFIT_DATA_MIRROR") or ROOT.parent / "shared" / "data")
        archive = next(mirror / n for n in [*config["mirror_names"], "aclImdb_v1_labeled.tar.gz"] if (mirror / n).is_file())
        folder = Path(tempfile.mkdtemp(prefix="keras_modes_"))
        encoding = imdb.Encoding(config["num_words"], config["start_char"], config["oov_char"], config["index_from"])
        imdb.prepare(archive, folder, config["reviews_sha256"], encoding, config["order_seed"])
    return imdb.load_split(folder / "train.npz"), imdb.load_split(folder / "test.npz")


def book_model():
    """Section 4.4's smaller model, as the 1st edition's listing builds and compiles it."""
    import keras

    model = keras.Sequential([keras.Input((10000,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    return model


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} CPUs visible, {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--data", type=Path, default=None, help="a prepared IMDB folder (train.npz, test.npz)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--input-dtype", choices=("float32", "uint8"), default="float32",
                        help="the multi-hot arrays' type: float32 as the book's vectorize_sequences, or the same 0/1 "
                             "values as uint8 (the first Dense layer casts them to float32 exactly: the same history "
                             "for a quarter of the memory traffic)")
    args = parser.parse_args()
    import jax
    import keras

    train, test = load_imdb(args.data)
    x_train, y_train = train.dense(10000).astype(args.input_dtype), train.label.astype("float32")
    x_test, y_test = test.dense(10000).astype(args.input_dtype), test.label.astype("float32")
    rows, started = [], time.perf_counter()
    for seed in range(args.seeds):
        keras.utils.set_random_seed(seed)
        model = book_model()
        history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=512, validation_data=(x_test, y_test),
                            verbose=0).history
        val_loss = np.asarray(history["val_loss"])
        best = int(np.argmin(val_loss))
        rows.append((seed, float(val_loss[best]), best + 1, float(history["val_acc"][best]), float(val_loss[-1]),
                     bool(val_loss[best] > STALL)))
        print(f"seed {seed:>3}: lowest val_loss {val_loss[best]:.4f} at epoch {best + 1:>2}"
              f"{'  (stalled)' if rows[-1][-1] else ''}  [{time.perf_counter() - started:.0f} s]", flush=True)
        keras.backend.clear_session()
        write(args, rows, keras.__version__, keras.backend.backend(), jax.__version__)  # after each seed
    stalled = sum(row[-1] for row in rows)
    print(f"{stalled} of {len(rows)} seeds stalled (lowest val_loss > {STALL}); written to {args.out}")


def write(args, rows, keras_version: str, backend: str, jax_version: str) -> None:
    stalled = sum(row[-1] for row in rows)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    header = [
        "# The book's 4-4-1 model (DLwP 1st edition, section 4.4) run by Keras 3 itself, one row per seed:",
        f"# Keras {keras_version}, {backend} backend (jax {jax_version}), on {machine()}, {when}.",
        f"# All 25,000 training reviews, validation on the 25,000 test reviews, RMSprop 1e-3, batch 512, "
        f"{args.epochs} epochs; keras.utils.set_random_seed(seed); multi-hot input as {args.input_dtype}. "
        f"benchmarks/keras_modes.py wrote it.",
        f"# stalled: the lowest validation loss is above {STALL}. {stalled} of {len(rows)} seeds stalled.",
    ]
    lines = ["seed,lowest_val_loss,epoch,val_acc_at_lowest,last_val_loss,stalled"]
    lines += [f"{s},{v:.6f},{e},{a:.6f},{last:.6f},{str(st).lower()}" for s, v, e, a, last, st in rows]
    args.out.write_text("\n".join(header + lines) + "\n")


if __name__ == "__main__":
    main()
