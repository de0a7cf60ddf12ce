"""Fixtures: a tiny aclImdb-shaped archive and Fashion-MNIST files, made by the tests themselves."""

from __future__ import annotations

import copy
import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

# Two reviews per (split, label) would do for the tokenizer; the training
# tests need enough to learn something, so the words carry the sentiment.
POSITIVE = ["great", "wonderful", "loved", "excellent", "brilliant", "fun"]
NEGATIVE = ["awful", "boring", "hated", "terrible", "waste", "dull"]
NEUTRAL = ["the", "movie", "film", "plot", "actor", "scene", "story", "it", "was", "and"]


def make_reviews(per_folder: int, seed: int = 0) -> dict[str, bytes]:
    """Relative path -> bytes, in the layout of aclImdb (review files and urls files)."""
    rng = np.random.default_rng(seed)
    files = {"aclImdb/README": b"tiny test copy\n", "aclImdb/imdb.vocab": b"the\n"}
    for split in ("train", "test"):
        for label, words in (("pos", POSITIVE), ("neg", NEGATIVE)):
            urls = []
            for review_id in range(per_folder):
                rating = int(rng.integers(7, 11) if label == "pos" else rng.integers(1, 5))
                n = int(rng.integers(8, 30))
                tokens = list(rng.choice(NEUTRAL, n)) + list(rng.choice(words, 3))
                rng.shuffle(tokens)
                text = " ".join(tokens).capitalize() + ".<br /><br />The END!"
                files[f"aclImdb/{split}/{label}/{review_id}_{rating}.txt"] = text.encode()
                movie = 1000 * (split == "test") + review_id // 3  # three reviews per movie
                urls.append(f"http://www.imdb.com/title/tt{movie:07d}/usercomments")
            files[f"aclImdb/{split}/urls_{label}.txt"] = ("\n".join(urls) + "\n").encode()
    return files


def write_archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    return path


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def write_fashion_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> dict[str, str]:
    """Four .gz IDX files; returns their content sha256 by name."""
    import hashlib

    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, array in (
            ("images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28))),
            ("labels-idx1-ubyte", np.arange(n) % 10),
        ):
            content = idx_bytes(array)
            name = f"{prefix}-{kind}"
            (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
            digests[name] = hashlib.sha256(content).hexdigest()
    return digests


def file_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def base_config() -> dict:
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture()
def mirror(tmp_path) -> dict:
    """A mirror folder with a tiny IMDB archive and Fashion-MNIST, and a config that expects them."""
    return build_mirror(tmp_path / "mirror")


def build_mirror(folder: Path) -> dict:
    from overfit.data.imdb import reviews_digest

    folder.mkdir()
    files = make_reviews(per_folder=12)
    archive = write_archive(folder / "aclImdb_v1.tar.gz", files)
    fashion = write_fashion_mnist(folder / "fashion-mnist")
    reviews = {k.removeprefix("aclImdb/"): v for k, v in files.items() if k.endswith(".txt") and "urls" not in k}
    data = {
        "imdb": {
            "url": "http://127.0.0.1:9/aclImdb_v1.tar.gz",
            "mirror_names": ["aclImdb_v1.tar.gz"],
            "accept": [{"size": archive.stat().st_size, "sha256": file_sha256(archive)}],
            "reviews_sha256": reviews_digest(reviews),
            "num_words": 30,
            "start_char": 1,
            "oov_char": 2,
            "index_from": 3,
            "order_seed": 113,
        },
        "fashion_mnist": {
            "base_url": "http://127.0.0.1:9/",
            "mirror_folders": ["fashion-mnist"],
            "files": {name: {"content_sha256": digest} for name, digest in fashion.items()},
        },
    }
    return {"folder": folder, "archive": archive, "data": data, "files": files}


def write_config(path: Path, base: dict, **overrides) -> Path:
    config = copy.deepcopy(base)
    config.update(overrides)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_snakemake(workdir: Path, *args: str, mirror: Path | None = None, timeout: int = 600,
                  snakefile: Path = REPO / "Snakefile") -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("OVERFIT_DATA_MIRROR", None)
    if mirror is not None:
        env["OVERFIT_DATA_MIRROR"] = str(mirror)
    return subprocess.run(
        [*SNAKEMAKE, "--snakefile", str(snakefile), "--directory", str(workdir), *args],
        capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL,
    )


@pytest.fixture()
def tiny_workflow(tmp_path, mirror) -> dict:
    """A work folder with the .test config (small grid) on the tiny data."""
    config = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())
    config["data"] = mirror["data"]
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return {"dir": tmp_path, "config": path, "mirror": mirror["folder"], "settings": config}
