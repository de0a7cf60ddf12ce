"""The IMDB reviews: read the archive, verify its content, tokenize, vectorize as Keras did.

Keras' ``imdb.load_data(num_words=10000)`` encodes a review as word indices:
index 1 starts every review, index 2 stands for any word outside the kept
vocabulary, and a word of frequency rank r (1 = most frequent) gets index
r + 3, kept only when that index is below ``num_words``. The book's models
see a review as the multi-hot set of those indices, so what we store per
review is its sorted unique indices: a compact sparse row (about 140 ids)
instead of a dense row of 10,000.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tarfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from overfit.data import prepared
from overfit.errors import DataError
from overfit.files import atomic_path

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
_REVIEW_PATH = re.compile(r"^(?:\./)?aclImdb/(train|test)/(neg|pos)/(\d+)_(\d+)\.txt$")
_URLS_PATH = re.compile(r"^(?:\./)?aclImdb/(train|test)/urls_(neg|pos)\.txt$")
_MOVIE_ID = re.compile(r"/title/tt(\d+)")
# The reviews carry HTML line breaks ("<br /><br />"); they separate words.
_MARKUP = re.compile(r"<br\s*/?>", re.IGNORECASE)
# A word is a run of letters or digits, keeping inner apostrophes ("don't", "director's").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
RULE = "prepare_imdb"  # the rule that writes the prepared splits: what a refusal tells the user to rerun


@dataclass(frozen=True)
class Encoding:
    """Keras' imdb.load_data conventions."""

    num_words: int = 10000
    start_char: int = 1
    oov_char: int = 2
    index_from: int = 3


@dataclass
class Review:
    split: str
    label: int
    review_id: int
    rating: int
    text: str
    movie_id: int = -1


def tokenize(text: str) -> list[str]:
    """Lower-case words of a review, with the ``<br />`` markup and punctuation removed."""
    return _WORD.findall(_MARKUP.sub(" ", text).lower())


def reviews_digest(files: dict[str, bytes]) -> str:
    """sha256 over the sorted relative paths and bytes of the review files.

    It identifies the data set whatever archive carried it (the official
    tarball and a repack hold the same reviews but differ as files).
    """
    digest = hashlib.sha256()
    for path in sorted(files):
        content = files[path]
        digest.update(path.encode() + b"\0" + len(content).to_bytes(8, "little"))
        digest.update(content)
    return digest.hexdigest()


def read_archive(archive: str | Path) -> tuple[list[Review], str]:
    """Read every labeled review and movie URL; return the reviews and their content digest."""
    archive = Path(archive)
    files: dict[str, bytes] = {}
    urls: dict[tuple[str, str], list[str]] = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                review, url_list = _REVIEW_PATH.match(member.name), _URLS_PATH.match(member.name)
                if review or url_list:
                    content = tar.extractfile(member).read()
                    if review:
                        files[member.name.removeprefix("./").removeprefix("aclImdb/")] = content
                    else:
                        urls[url_list.groups()] = content.decode().splitlines()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{archive.name}: cannot be read as a tar.gz archive ({exc}); it is truncated or "
            "corrupted. Delete it and run again to fetch a fresh copy"
        ) from exc

    reviews = []
    for path, content in files.items():
        split, label, review_id, rating = _REVIEW_PATH.match("aclImdb/" + path).groups()
        reviews.append(Review(split, LABELS[label], int(review_id), int(rating), content.decode("utf-8")))
    for split in SPLITS:
        for label_name, label in LABELS.items():
            if not any(r.split == split and r.label == label for r in reviews):
                raise DataError(f"{archive.name}: holds no {split}/{label_name} reviews; it is not the IMDB archive")
    for review in reviews:
        label_name = "pos" if review.label else "neg"
        lines = urls.get((review.split, label_name))
        if lines is None or review.review_id >= len(lines):
            raise DataError(f"{archive.name}: {review.split}/urls_{label_name}.txt lacks review {review.review_id}")
        match = _MOVIE_ID.search(lines[review.review_id])
        review.movie_id = int(match.group(1)) if match else -1
    return reviews, reviews_digest(files)


def build_vocabulary(token_lists, encoding: Encoding) -> list[tuple[int, str, int]]:
    """Rank words by frequency (ties alphabetically); keep those whose index is below num_words.

    Returns (index, word, count) rows, index = rank + index_from.
    """
    counts = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows = []
    for rank, (word, count) in enumerate(ranked, start=1):
        index = rank + encoding.index_from
        if index >= encoding.num_words:
            break
        rows.append((index, word, count))
    return rows


def encode(tokens: list[str], word_index: dict[str, int], encoding: Encoding) -> np.ndarray:
    """The review's multi-hot set: sorted unique indices, the start index included."""
    ids = {encoding.start_char}
    oov = encoding.oov_char
    for token in tokens:
        ids.add(word_index.get(token, oov))
    return np.array(sorted(ids), dtype=np.uint16)


def keras_order(reviews: list[Review], seed: int) -> list[list[Review]]:
    """Each split in a canonical order (label, id), then shuffled as Keras' load_data(seed=113) does.

    The 3.5 hold-out takes the *first* 10,000 training reviews, so the order must
    mix labels as Keras' arrays do; one RandomState drives both splits, as in Keras.
    """
    rng = np.random.RandomState(seed)
    ordered = []
    for split in SPLITS:
        rows = sorted((r for r in reviews if r.split == split), key=lambda r: (r.label, r.review_id))
        ordered.append([rows[i] for i in rng.permutation(len(rows))])
    return ordered


def save_split(path: Path, reviews: list[Review], ids: list[np.ndarray], digest: str) -> None:
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in ids], out=offsets[1:])
    with atomic_path(path) as partial, open(partial, "wb") as stream:
        np.savez(
            stream,
            ids=np.concatenate(ids) if ids else np.zeros(0, np.uint16),
            offsets=offsets,
            label=np.array([r.label for r in reviews], dtype=np.uint8),
            rating=np.array([r.rating for r in reviews], dtype=np.uint8),
            review_id=np.array([r.review_id for r in reviews], dtype=np.int32),
            movie_id=np.array([r.movie_id for r in reviews], dtype=np.int64),
            reviews_sha256=np.array(digest),
        )


def prepare(archive, out_dir, expected_digest: str | None, encoding: Encoding, order_seed: int) -> dict:
    """Verify, tokenize and vectorize the archive into ``out_dir``; return the manifest."""
    out_dir = Path(out_dir)
    reviews, digest = read_archive(archive)
    if expected_digest is not None and digest != expected_digest:
        raise DataError(
            f"{Path(archive).name}: its {len(reviews)} labeled reviews have content digest {digest}, "
            f"expected {expected_digest}. The archive is not the IMDB data set this pipeline "
            "reproduces; delete it and fetch it again"
        )
    splits = keras_order(reviews, order_seed)
    tokens = [[tokenize(r.text) for r in split] for split in splits]
    vocabulary = build_vocabulary(tokens[0], encoding)  # training reviews only
    word_index = {word: index for index, word, _ in vocabulary}
    summary = {}
    for name, split, split_tokens in zip(SPLITS, splits, tokens):
        ids = [encode(t, word_index, encoding) for t in split_tokens]
        save_split(out_dir / f"{name}.npz", split, ids, digest)
        summary[name] = {
            "reviews": len(split),
            "positive": int(sum(r.label for r in split)),
            "mean_unique_ids": float(np.mean([len(i) for i in ids])),
        }
    with atomic_path(out_dir / "vocabulary.tsv") as partial:
        lines = ["index\tword\ttraining_count", f"{encoding.start_char}\t<start>\t", f"{encoding.oov_char}\t<oov>\t"]
        lines += [f"{index}\t{word}\t{count}" for index, word, count in vocabulary]
        partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # last: the manifest's digests say that the three files above are complete (overfit.data.prepared)
    manifest = prepared.write_manifest(
        out_dir, [out_dir / f"{name}.npz" for name in SPLITS] + [out_dir / "vocabulary.tsv"], RULE,
        reviews_sha256=digest, encoding=encoding.__dict__, order_seed=order_seed, splits=summary,
        vocabulary_size=len(vocabulary))
    log.info("IMDB prepared: %s", json.dumps(manifest["splits"]))
    return manifest


@dataclass
class SparseReviews:
    """One split as loaded by training: CSR rows of word ids plus per-review fields."""

    ids: np.ndarray
    offsets: np.ndarray
    label: np.ndarray
    rating: np.ndarray
    review_id: np.ndarray
    movie_id: np.ndarray
    reviews_sha256: str

    def __len__(self) -> int:
        return len(self.label)

    def subset(self, rows: np.ndarray) -> "SparseReviews":
        rows = np.asarray(rows)
        lengths = np.diff(self.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        gather = np.repeat(self.offsets[rows] - offsets[:-1], lengths) + np.arange(offsets[-1])
        return SparseReviews(
            self.ids[gather], offsets, self.label[rows], self.rating[rows],
            self.review_id[rows], self.movie_id[rows], self.reviews_sha256,
        )

    def dense(self, num_words: int) -> np.ndarray:
        """The multi-hot matrix the book builds (float32): for references and tests only."""
        matrix = np.zeros((len(self), num_words), dtype=np.float32)
        rows = np.repeat(np.arange(len(self)), np.diff(self.offsets))
        matrix[rows, self.ids] = 1.0
        return matrix


def load_split(path: str | Path) -> SparseReviews:
    """A prepared split, verified against its manifest's digest and checked (word ids inside the vocabulary, rows
    that agree); anything else is refused with the file named and how to rebuild it."""
    manifest = prepared.verify(path, RULE)
    try:
        with np.load(path, allow_pickle=False) as data:
            reviews = SparseReviews(
                ids=data["ids"], offsets=data["offsets"], label=data["label"], rating=data["rating"],
                review_id=data["review_id"], movie_id=data["movie_id"], reviews_sha256=str(data["reviews_sha256"]),
            )
    except (OSError, ValueError, KeyError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a prepared IMDB split ({type(exc).__name__}: {exc}); it was overwritten or cut "
                        f"short; {prepared.rebuild(RULE)}") from exc
    _check_split(reviews, path, manifest)
    return reviews


def _check_split(reviews: SparseReviews, path, manifest: dict) -> None:
    """What the digest cannot vouch for: a split whose manifest was rewritten over it must still be one the engine
    can read without reading outside its arrays (the compiled kernel indexes its table by word id)."""
    def require(condition, what):
        prepared.require(condition, path, what, RULE)

    fields = {name: getattr(reviews, name) for name in ("ids", "offsets", "label", "rating", "review_id", "movie_id")}
    for name, array in fields.items():
        require(array.ndim == 1 and array.dtype.kind in "iu", f"its {name} are {array.dtype} of shape {array.shape}, "
                f"not a row of integers")
    n = len(reviews.label)
    require(n > 0, "it holds no reviews")
    for name in ("rating", "review_id", "movie_id"):
        require(len(fields[name]) == n, f"{len(fields[name])} {name} values for {n} labels")
    offsets = reviews.offsets
    require(len(offsets) == n + 1 and offsets[0] == 0 and offsets[-1] == len(reviews.ids)
            and bool(np.all(np.diff(offsets) >= 0)),
            f"its arrays do not agree ({n} labels, {len(offsets)} offsets, {len(reviews.ids)} ids): the offsets must "
            f"run from 0 to the number of ids, never decreasing, one more than the labels")
    require(bool(np.isin(reviews.label, (0, 1)).all()), "its labels are not all 0 or 1")
    num_words = manifest.get("encoding", {}).get("num_words")
    require(isinstance(num_words, int), "its manifest records no vocabulary size (encoding.num_words)")
    if len(reviews.ids):
        low, high = int(reviews.ids.min()), int(reviews.ids.max())
        require(low >= 0 and high < num_words, f"word ids run from {low} to {high}, outside the vocabulary of "
                f"{num_words} words it was prepared with (0 to {num_words - 1})")
    expected = manifest.get("splits", {}).get(Path(path).stem, {}).get("reviews")
    require(expected in (None, n), f"it holds {n} reviews, its manifest says {expected}")
    require(reviews.reviews_sha256 == manifest.get("reviews_sha256"),
            "it was prepared from other reviews than its manifest names (reviews_sha256)")
