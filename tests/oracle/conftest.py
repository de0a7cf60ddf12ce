"""Fixtures of the oracle tests: real data from the mirror (a subset), and Keras of each edition.

The data: IMDB prepared by the project's own loader (``overfit.data.imdb.prepare``, the 10,000 most frequent
words of the 25,000 training reviews, Keras' order) from the mirror's archive, then its first ``IMDB_TRAIN``
training reviews trained on and the first ``IMDB_VALIDATION`` test reviews scored; Fashion-MNIST's first
``FASHION_TRAIN`` training images (scaled to 0-1) and the first ``FASHION_VALIDATION`` test images. The mirror:
``OVERFIT_DATA_MIRROR``, else ``../shared/data`` beside the checkout; without it the tests skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml

# Keras 3 on the JAX backend (it reads this once, at its first import)
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[2]
IMDB_TRAIN, IMDB_VALIDATION = 2000, 1000
FASHION_TRAIN, FASHION_VALIDATION = 2000, 1000


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent and not item.get_closest_marker("oracle"):
            raise pytest.UsageError(f"{item.nodeid}: every test in tests/oracle must be marked oracle")


@pytest.fixture(scope="session")
def keras3():
    pytest.importorskip("keras", minversion="3", reason="the oracle extra (Keras 3) is not installed")
    import keras

    if keras.backend.backend() != "jax":
        pytest.skip(f"Keras 3 was imported with the {keras.backend.backend()} backend before the oracle set jax")
    return keras


@pytest.fixture(scope="session")
def tf_keras():
    tf = pytest.importorskip("tensorflow", reason="the oracle extra (TensorFlow) is not installed")
    module = pytest.importorskip("tf_keras", reason="the oracle extra (tf-keras) is not installed")
    try:  # the CI machine's two cores, shared with JAX in the same process
        tf.config.threading.set_intra_op_parallelism_threads(2)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised
    return module


def mirror() -> Path:
    folder = Path(os.environ.get("OVERFIT_DATA_MIRROR") or REPO.parent / "shared" / "data").resolve()
    if not folder.is_dir():
        pytest.skip(f"no data mirror at {folder} (set OVERFIT_DATA_MIRROR)")
    return folder


@pytest.fixture(scope="session")
def imdb(tmp_path_factory):
    """(train, validation): SparseReviews subsets of the real IMDB, 10,000 words."""
    from overfit.data import imdb as loader

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["data"]["imdb"]
    archive = next((mirror() / name for name in config.get("mirror_names", []) + ["aclImdb_v1_labeled.tar.gz"]
                    if (mirror() / name).is_file()), None)
    if archive is None:
        pytest.skip(f"no IMDB archive in the mirror {mirror()}")
    out = tmp_path_factory.mktemp("imdb")
    encoding = loader.Encoding(config["num_words"], config["start_char"], config["oov_char"], config["index_from"])
    loader.prepare(archive, out, config["reviews_sha256"], encoding, config["order_seed"])
    train, test = loader.load_split(out / "train.npz"), loader.load_split(out / "test.npz")
    return train.subset(np.arange(IMDB_TRAIN)), test.subset(np.arange(IMDB_VALIDATION))


@pytest.fixture(scope="session")
def imdb_dense(imdb):
    """The same reviews as the book's multi-hot matrices (Keras' input)."""
    train, validation = imdb
    return train.dense(10000), validation.dense(10000)


@pytest.fixture(scope="session")
def fashion_mnist():
    """((x, y) training, (x, y) validation): real Fashion-MNIST rows, pixels scaled to 0-1, labels 0-9."""
    from overfit.data.fashion_mnist import read_gz

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["data"]["fashion_mnist"]
    folder = mirror() / "fashion-mnist"
    if not folder.is_dir():
        pytest.skip(f"no Fashion-MNIST in the mirror {mirror()}")

    def split(prefix, n):
        images = read_gz(folder / f"{prefix}-images-idx3-ubyte.gz", config["files"][f"{prefix}-images-idx3-ubyte"]["content_sha256"])
        labels = read_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", config["files"][f"{prefix}-labels-idx1-ubyte"]["content_sha256"])
        return images[:n].reshape(n, -1).astype(np.float32) / 255.0, labels[:n].astype(np.int32)

    return split("train", FASHION_TRAIN), split("t10k", FASHION_VALIDATION)
