"""Obtain a raw data file from a local mirror or its official URL, and verify it.

Every file is accepted only when it passes one of its configured checks
(archive size + sha256, the official md5, or the sha256 of its gunzipped
content). The file is written beside its destination under a temporary name
and moved into place only once verified, so an interrupted or failed fetch
never leaves a file that a later run would trust.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from overfit.errors import DataError
from overfit.files import atomic_path

log = logging.getLogger(__name__)

MIRROR_VARIABLE = "OVERFIT_DATA_MIRROR"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Source:
    """Where a raw file comes from and how it is recognised."""

    name: str  # the file name under resources/
    url: str  # the official download address
    accept: list[dict] = field(default_factory=list)  # any one check passing accepts the file
    mirror_names: list[str] = field(default_factory=list)  # names to look for in a mirror folder
    download_hash: str | None = None  # "sha256:..." or "md5:..." of the official file, for pooch


def _file_digests(path: Path) -> dict:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return {"sha256": sha256.hexdigest(), "md5": md5.hexdigest(), "size": size}


def _gunzip_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path.name}: not a complete gzip file ({exc})") from exc
    return digest.hexdigest()


def check_file(path: Path, source: Source) -> None:
    """Raise DataError unless ``path`` passes one of the source's accepted checks."""
    digests = _file_digests(path)
    content_sha256 = None
    for check in source.accept:
        if "gunzip_sha256" in check:
            try:
                content_sha256 = content_sha256 or _gunzip_sha256(path)
            except DataError:
                continue
            if content_sha256 == check["gunzip_sha256"]:
                return
        elif all(digests[key] == value for key, value in check.items()):
            return
    expected = "; ".join(", ".join(f"{k} {v}" for k, v in check.items()) for check in source.accept)
    raise DataError(
        f"{source.name}: checksum mismatch: got size {digests['size']} bytes, "
        f"sha256 {digests['sha256']}; expected one of: {expected}. "
        f"The file is truncated, corrupted or not the data set; delete it from where it came from "
        f"and download it again from {source.url}"
    )


def find_in_mirror(source: Source, mirror: str | os.PathLike) -> Path:
    mirror = Path(mirror)
    if not mirror.is_dir():
        raise DataError(
            f"{MIRROR_VARIABLE}={mirror} is not a folder. Point it at a folder holding "
            f"{source.name} (or unset it to download from {source.url})"
        )
    for name in source.mirror_names:
        candidate = mirror / name
        if candidate.is_file():
            return candidate
    raise DataError(
        f"{source.name}: not found in the mirror folder {mirror} (looked for "
        f"{', '.join(source.mirror_names)}). Put the file there, or unset {MIRROR_VARIABLE} "
        f"to download it from {source.url}"
    )


def _download(source: Source, target: Path) -> None:
    import pooch  # imported here: only the no-mirror path needs it

    target.unlink(missing_ok=True)  # pooch would otherwise take the empty placeholder as done
    try:
        pooch.retrieve(
            source.url,
            known_hash=source.download_hash,
            fname=target.name,
            path=target.parent,
            progressbar=False,
        )
    except ValueError as exc:  # pooch's hash mismatch
        raise DataError(f"{source.name}: the download from {source.url} failed its checksum ({exc})") from exc
    except Exception as exc:  # no network, DNS failure, HTTP error
        raise DataError(
            f"{source.name}: could not download {source.url} ({type(exc).__name__}: {exc}). "
            f"Without network, set {MIRROR_VARIABLE} to a folder holding {source.name}"
        ) from exc


def fetch(source: Source, destination: str | os.PathLike, mirror: str | None = None) -> Path:
    """Place a verified copy of ``source`` at ``destination``; the mirror, if given, comes first."""
    destination = Path(destination)
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_VARIABLE) or None
    with atomic_path(destination) as partial:
        if mirror:
            origin = find_in_mirror(source, mirror)
            log.info("copying %s from the mirror %s", source.name, origin)
            shutil.copyfile(origin, partial)
        else:
            log.info("downloading %s from %s", source.name, source.url)
            _download(source, partial)
        check_file(partial, source)
    log.info("%s verified", destination)
    return destination
