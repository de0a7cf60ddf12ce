"""The data sources of the config, as objects the data stage uses (derived in one place)."""

from __future__ import annotations

from overfit.data.imdb import Encoding
from overfit.data.sources import Source

IMDB_ARCHIVE = "aclImdb_v1.tar.gz"


def imdb_source(data_config: dict) -> Source:
    entry = data_config["imdb"]
    return Source(
        name=IMDB_ARCHIVE,
        url=entry["url"],
        accept=list(entry["accept"]),
        mirror_names=list(entry.get("mirror_names", [IMDB_ARCHIVE])),
        download_hash=entry.get("download_hash"),
    )


def imdb_encoding(data_config: dict) -> Encoding:
    entry = data_config["imdb"]
    return Encoding(entry["num_words"], entry["start_char"], entry["oov_char"], entry["index_from"])


def fashion_mnist_source(data_config: dict, name: str) -> Source:
    """``name`` is an IDX file name without .gz, e.g. ``train-images-idx3-ubyte``."""
    entry = data_config["fashion_mnist"]
    checks = entry["files"][name]
    # The official .gz files are recognised by their md5; a re-gzipped copy
    # (Debian's, our mirror's) only by the sha256 of the IDX content inside.
    accept = [{"md5": checks["md5"]}] if "md5" in checks else []
    accept.append({"gunzip_sha256": checks["content_sha256"]})
    folders = entry.get("mirror_folders", ["."])
    return Source(
        name=f"{name}.gz",
        url=f"{entry['base_url']}{name}.gz",
        accept=accept,
        mirror_names=[f"{folder}/{name}.gz" for folder in folders],
        download_hash=f"md5:{checks['md5']}" if "md5" in checks else None,
    )


def fashion_mnist_content_sha256(data_config: dict) -> dict[str, str]:
    return {name: checks["content_sha256"] for name, checks in data_config["fashion_mnist"]["files"].items()}


# the prepared image files the experiments on images can train on (overfit.images: a study's `input`)
IMAGE_INPUTS = {"fashion_mnist": "results/data/fashion_mnist/train.npz", "clock": "results/data/clock/faces.npz"}


def study_inputs(study: dict) -> set[str]:
    """The inputs a study's arms read (each arm's own `input`, else its study's, else Fashion-MNIST): one, in a
    valid config (overfit.checks)."""
    return {arm.get("input", study.get("input", "fashion_mnist")) for arm in study["arms"].values()}
