"""Prepared files and their manifest: each written with its digest, each verified on every load.

A job of the data stage writes its files (atomically, ``overfit.files``),
then, last, the ``manifest.json`` of its folder: each file's blake2b digest
and size, and the rule that rebuilds it. A job that loads a prepared file
hashes it first and compares: a file that changed under the pipeline (cut
short, overwritten, edited by hand, left by an older version) is refused,
naming the file, the digest expected and the command that rebuilds it. It
is never trained on. Hashing costs about 1 ms per MB (README, "Reliability").

Why one manifest per folder, not per file: the files a job writes together
are one unit (the two splits and the vocabulary they were encoded with), and
a manifest written after all of them says the unit is complete. So each job
that prepares files has a folder of its own (``results/data/folds/{protocol}/``).

The loaders (``imdb.load_split``, ``protocols.load_folds``,
``fashion_mnist.load``, ``clock.load``) then check what a digest cannot: that
the arrays make sense (word ids inside the vocabulary, rows inside the
split), for a file whose manifest was rewritten over it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from overfit.errors import DataError
from overfit.files import atomic_path

MANIFEST = "manifest.json"
ALGORITHM = "blake2b"


def digest(path: str | Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, ALGORITHM).hexdigest()


def rebuild(rule: str) -> str:
    """What a refusal tells the user to do."""
    return (f"delete it and run again (make reproduce, or snakemake --cores all --forcerun {rule}): the rule {rule} "
            f"rebuilds it, and only what depends on it reruns")


def write_manifest(folder: str | Path, files: list[str | Path], rule: str, **fields) -> dict:
    """Write ``folder/manifest.json`` listing ``files`` (already written) with their digests; return it."""
    entries = {Path(path).name: {ALGORITHM: digest(path), "bytes": Path(path).stat().st_size} for path in files}
    manifest = {**fields, "rule": rule, "files": entries}
    with atomic_path(Path(folder) / MANIFEST) as partial:
        partial.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(path: str | Path, rule: str) -> dict:
    """The manifest of the folder that holds the prepared file ``path``."""
    where = Path(path).parent / MANIFEST
    try:
        manifest = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: there is no {where} beside it, so nothing says that the file is complete and "
                        f"unchanged; {rebuild(rule)}") from None
    except (OSError, ValueError) as exc:  # ValueError: bad JSON, bad UTF-8
        raise DataError(f"{where}: not a readable manifest ({type(exc).__name__}: {exc}); {rebuild(rule)}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DataError(f"{where}: not a manifest of prepared files (no 'files' table); {rebuild(rule)}")
    return manifest


def verify(path: str | Path, rule: str) -> dict:
    """Refuse ``path`` unless its digest is the one its manifest recorded; return the manifest."""
    manifest = read_manifest(path, rule)
    entry = manifest["files"].get(Path(path).name)
    expected = entry.get(ALGORITHM) if isinstance(entry, dict) else None
    if not isinstance(expected, str):
        raise DataError(f"{path}: not listed in {Path(path).parent / MANIFEST} (with its {ALGORITHM} digest); "
                        f"{rebuild(rule)}")
    try:
        found = digest(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}); {rebuild(rule)}") from exc
    if found != expected:
        raise DataError(f"{path}: its {ALGORITHM} digest is {found[:16]}…, but the manifest beside it recorded "
                        f"{expected[:16]}… when the data stage wrote it: the file changed since (cut short, "
                        f"overwritten or edited); {rebuild(rule)}")
    return manifest


def require(condition: bool, path: str | Path, what: str, rule: str) -> None:
    """A loader's check of what a digest cannot see (a manifest rewritten over a wrong file)."""
    if not condition:
        raise DataError(f"{path}: {what}; {rebuild(rule)}")
