"""Fetching raw files: the mirror first, then the official URL; only verified files land."""

import gzip

import pytest

from conftest import make_reviews, write_archive, write_fashion_mnist, file_sha256
from overfit.data import catalog, fashion_mnist, sources
from overfit.errors import DataError


def imdb_source(archive):
    return sources.Source(
        name="aclImdb_v1.tar.gz",
        url="http://127.0.0.1:9/aclImdb_v1.tar.gz",  # nothing listens there: "no network"
        accept=[{"size": archive.stat().st_size, "sha256": file_sha256(archive)}],
        mirror_names=["aclImdb_v1.tar.gz", "aclImdb_v1_labeled.tar.gz"],
    )


@pytest.fixture()
def archive(tmp_path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    return write_archive(folder / "aclImdb_v1_labeled.tar.gz", make_reviews(per_folder=3))


def nothing_left(folder):
    return not folder.exists() or list(folder.iterdir()) == []


def test_fetch_takes_the_mirror_copy_under_any_known_name(tmp_path, archive):
    destination = tmp_path / "resources" / "aclImdb_v1.tar.gz"
    sources.fetch(imdb_source(archive), destination, mirror=str(archive.parent))
    assert destination.read_bytes() == archive.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_mirror_archive_is_refused_and_nothing_is_left(tmp_path, archive, damage):
    source = imdb_source(archive)
    content = archive.read_bytes()
    if damage == "truncate":
        archive.write_bytes(content[: len(content) - 100])
    else:
        archive.write_bytes(content[:500] + bytes([content[500] ^ 0xFF]) + content[501:])
    with pytest.raises(DataError, match=r"aclImdb_v1.tar.gz: checksum mismatch.*download it again from http"):
        sources.fetch(source, tmp_path / "resources" / "aclImdb_v1.tar.gz", mirror=str(archive.parent))
    assert nothing_left(tmp_path / "resources")


def test_mirror_without_the_file_names_it_and_the_variable(tmp_path, archive):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"not found in the mirror folder .*empty.*OVERFIT_DATA_MIRROR"):
        sources.fetch(imdb_source(archive), tmp_path / "resources" / "a.tar.gz", mirror=str(empty))
    assert nothing_left(tmp_path / "resources")


def test_mirror_that_is_not_a_folder(tmp_path, archive):
    with pytest.raises(DataError, match="is not a folder"):
        sources.fetch(imdb_source(archive), tmp_path / "resources" / "a.tar.gz", mirror=str(tmp_path / "nope"))


def test_no_network_and_no_mirror_says_how_to_provide_the_data(tmp_path, archive, monkeypatch):
    monkeypatch.delenv(sources.MIRROR_VARIABLE, raising=False)
    with pytest.raises(DataError, match=r"could not download http://127.0.0.1:9/.*set OVERFIT_DATA_MIRROR"):
        sources.fetch(imdb_source(archive), tmp_path / "resources" / "aclImdb_v1.tar.gz")
    assert nothing_left(tmp_path / "resources")


def test_mirror_variable_is_read_from_the_environment(tmp_path, archive, monkeypatch):
    monkeypatch.setenv(sources.MIRROR_VARIABLE, str(archive.parent))
    destination = sources.fetch(imdb_source(archive), tmp_path / "r" / "aclImdb_v1.tar.gz")
    assert destination.stat().st_size == archive.stat().st_size


def test_fashion_mnist_regzipped_copy_is_accepted_by_content_and_damage_refused(tmp_path):
    digests = write_fashion_mnist(tmp_path / "mirror" / "fashion-mnist")
    data = {"fashion_mnist": {"base_url": "http://127.0.0.1:9/", "mirror_folders": ["fashion-mnist"],
                              "files": {n: {"md5": "0" * 32, "content_sha256": d} for n, d in digests.items()}}}
    source = catalog.fashion_mnist_source(data, "t10k-labels-idx1-ubyte")
    sources.fetch(source, tmp_path / "r" / source.name, mirror=str(tmp_path / "mirror"))
    # recompressed at another level: other bytes, same content, still accepted
    original = tmp_path / "mirror" / "fashion-mnist" / source.name
    original.write_bytes(gzip.compress(gzip.decompress(original.read_bytes()), compresslevel=1))
    sources.fetch(source, tmp_path / "r2" / source.name, mirror=str(tmp_path / "mirror"))
    original.write_bytes(original.read_bytes()[:-8])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: checksum mismatch"):
        sources.fetch(source, tmp_path / "r3" / source.name, mirror=str(tmp_path / "mirror"))
    assert nothing_left(tmp_path / "r3")


def test_idx_parsing_and_its_errors():
    from conftest import idx_bytes
    import numpy as np

    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    assert np.array_equal(fashion_mnist.parse_idx(idx_bytes(images)), images)
    assert fashion_mnist.parse_idx(idx_bytes(np.array([3, 1, 4]))).tolist() == [3, 1, 4]
    with pytest.raises(DataError, match="bad magic"):
        fashion_mnist.parse_idx(b"\x01\x00\x08\x01")
    with pytest.raises(DataError, match="expected"):
        fashion_mnist.parse_idx(idx_bytes(images)[:-1])
