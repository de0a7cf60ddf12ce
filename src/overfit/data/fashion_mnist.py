"""Fashion-MNIST: parse the IDX files into one compact array file per split."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
import zlib
from pathlib import Path

import numpy as np

from overfit.data import prepared
from overfit.errors import DataError
from overfit.files import atomic_path

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_UBYTE = 0x08
RULE = "prepare_fashion_mnist"  # the rule that writes the prepared arrays: what a refusal tells the user to rerun
SIDE, CLASSES = 28, 10


def parse_idx(content: bytes, name: str = "IDX file") -> np.ndarray:
    """An IDX array: magic (0, 0, type 0x08 = uint8, ndim), big-endian int32 dims, then the data."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number)")
    if content[2] != _UBYTE:
        raise DataError(f"{name}: IDX element type 0x{content[2]:02x} is not unsigned byte")
    ndim = content[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(content[4:header], dtype=">i4"))
    expected = header + int(np.prod(shape))
    if len(content) != expected:
        raise DataError(f"{name}: {len(content)} bytes, expected {expected} for shape {shape}")
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def read_gz(path: Path, expected_sha256: str | None) -> np.ndarray:
    try:
        content = gzip.decompress(Path(path).read_bytes())
    except (OSError, EOFError) as exc:
        raise DataError(f"{Path(path).name}: not a complete gzip file ({exc}); delete it and fetch it again") from exc
    digest = hashlib.sha256(content).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise DataError(f"{Path(path).name}: content sha256 {digest}, expected {expected_sha256}")
    return parse_idx(content, Path(path).name)


def prepare(raw_dir, out_dir, content_sha256: dict[str, str]) -> dict:
    """Write ``{train,test}.npz`` (images uint8 N×28×28, labels uint8) from the four .gz files."""
    summary, written = {}, []
    for split, (images_name, labels_name) in FILES.items():
        images = read_gz(Path(raw_dir) / f"{images_name}.gz", content_sha256.get(images_name))
        labels = read_gz(Path(raw_dir) / f"{labels_name}.gz", content_sha256.get(labels_name))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"Fashion-MNIST {split}: images {images.shape} do not match labels {labels.shape}")
        with atomic_path(Path(out_dir) / f"{split}.npz") as partial, open(partial, "wb") as stream:
            np.savez(stream, images=images, labels=labels)
        written.append(Path(out_dir) / f"{split}.npz")
        summary[split] = {"images": int(len(images)), "classes": int(len(np.unique(labels)))}
    prepared.write_manifest(out_dir, written, RULE, splits=summary)
    return summary


def load(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 n × 28 × 28, labels 0–9) of a prepared split, verified against its manifest and checked."""
    prepared.verify(path, RULE)
    try:
        with np.load(path, allow_pickle=False) as data:
            images, labels = data["images"], data["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise DataError(f"{path}: not a prepared Fashion-MNIST split ({type(exc).__name__}: {exc}); "
                        f"{prepared.rebuild(RULE)}") from exc
    def require(condition, what):
        prepared.require(condition, path, what, RULE)

    require(images.dtype == np.uint8 and images.ndim == 3 and images.shape[1:] == (SIDE, SIDE),
            f"its images are {images.dtype} of shape {images.shape}, not uint8 n × {SIDE} × {SIDE}")
    require(labels.ndim == 1 and labels.dtype.kind in "iu" and len(labels) == len(images),
            f"its labels ({labels.dtype}, shape {labels.shape}) are not one integer per image ({len(images)})")
    require(len(images) > 0, "it holds no images")
    require(int(labels.min()) >= 0 and int(labels.max()) < CLASSES, f"its labels run from {labels.min()} to "
            f"{labels.max()}, outside the {CLASSES} classes (0 to {CLASSES - 1})")
    return images, labels
