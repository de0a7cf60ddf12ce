"""What the checks know of the data before any job runs: its sizes, and the sizes derived from them.

The defaults are the real data sets': IMDB's 50,000 labelled reviews (the
``reviews_sha256`` of config/config.yaml), with the reviews of each of its
training movies (``imdb_movies``), and Fashion-MNIST's official files. A config
for other data (the tests' tiny copies) gives its own under ``data.imdb`` and
``data.fashion_mnist``. Every size check reads them here, so none is skipped for
want of a size. Free of JAX: the Snakefile runs the checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from overfit.checks.imdb_movies import REVIEWS_PER_MOVIE
from overfit.errors import ConfigError
from overfit.protocols import build_folds

IMDB = {"train_reviews_per_movie": REVIEWS_PER_MOVIE, "test_reviews": 25_000, "train_positive": 12_500,
        "test_positive": 12_500}
FASHION_MNIST = {"train_images": 60_000}
# The kinds whose folds hold whole movies (and shuffled_holdout with group_by_movie).
GROUPED_FOLDS = ("grouped_kfold", "nested_kfold")
WHOLE_MOVIE_KINDS = (*GROUPED_FOLDS, "time_holdout")
FOR_OTHER_DATA = ("give every size of data.imdb (" + ", ".join(IMDB) + ") for data other than IMDB's, "
                  "or none for IMDB's")


@dataclass(frozen=True)
class Sizes:
    """The data's sizes, as far as a config's values depend on them."""

    train_reviews_per_movie: tuple[int, ...]  # the training split's, in ascending IMDb title number
    test_reviews: int
    train_positive: int
    test_positive: int
    train_images: int  # Fashion-MNIST's training images: what image studies and the last-layer table read
    clock_faces: int | None  # the clock's generated training faces (clock.faces.train), where there is a clock

    @property
    def train_reviews(self) -> int:
        return sum(self.train_reviews_per_movie)

    @property
    def train_movies(self) -> int:
        return len(self.train_reviews_per_movie)

    @property
    def most_reviews_per_movie(self) -> int:
        return max(self.train_reviews_per_movie)

    def movie_ids(self) -> np.ndarray:
        """Each training review's movie as the split builders see it: its place in title order (overfit.checks.
        imdb_movies); the reviews' order changes no fold's size."""
        return np.repeat(np.arange(self.train_movies), self.train_reviews_per_movie)

    def image_input(self, name: str) -> int | None:
        """The images an image study's input holds (overfit.data.catalog.IMAGE_INPUTS)."""
        return {"fashion_mnist": self.train_images, "clock": self.clock_faces}[name]


def known_sizes(config: dict) -> Sizes:
    """The data's sizes: the config's own where it gives them, else the real data sets'."""
    data = config.get("data", {})
    own = data.get("imdb", {})
    imdb = {**IMDB, **{k: v for k, v in own.items() if k in IMDB}}
    fashion = {**FASHION_MNIST, **{k: v for k, v in data.get("fashion_mnist", {}).items() if k in FASHION_MNIST}}
    sizes = Sizes(**{**imdb, "train_reviews_per_movie": tuple(imdb["train_reviews_per_movie"])}, **fashion,
                  clock_faces=config.get("clock", {}).get("faces", {}).get("train"))
    _check_consistent(sizes, own.get("train_reviews", sizes.train_reviews))
    return sizes


def _check_consistent(sizes: Sizes, train_reviews: int) -> None:
    """Sizes that cannot describe one data set: some given for other data, the rest left at IMDB's."""
    if train_reviews != sizes.train_reviews:
        raise ConfigError(f"data.imdb.train_reviews: {train_reviews}, but data.imdb.train_reviews_per_movie adds up "
                          f"to {sizes.train_reviews}; {FOR_OTHER_DATA}")
    for key, positive, reviews in (("train", sizes.train_positive, sizes.train_reviews),
                                   ("test", sizes.test_positive, sizes.test_reviews)):
        if positive >= reviews:
            raise ConfigError(f"data.imdb.{key}_positive: {positive} leaves no negative review of the {key} split's "
                              f"{reviews}; {FOR_OTHER_DATA}")


def check_encoding(config: dict) -> None:
    """Every index a review holds must be a first-layer input: below num_words."""
    imdb = config["data"]["imdb"]
    num_words = imdb["num_words"]
    for marker in ("start_char", "oov_char"):
        if imdb[marker] >= num_words:
            raise ConfigError(f"data.imdb.{marker}: {imdb[marker]} is not below num_words ({num_words}): every "
                              f"review would hold an index past the model's inputs; use at most {num_words - 1}")
    if imdb["index_from"] + 1 >= num_words:  # the most frequent word's index is index_from + 1
        raise ConfigError(f"data.imdb.num_words: {num_words} keeps no word (a word's index is its frequency rank + "
                          f"index_from, {imdb['index_from']}, kept below num_words); use at least "
                          f"{imdb['index_from'] + 2}")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def most_folds(reviews: int, movies: int | None = None) -> int:
    """The most folds a K-fold can cut: two reviews a fold (one review's answer is no score), and where folds
    are grouped by movie, a movie a fold (scikit-learn's GroupKFold refuses more)."""
    return reviews // 2 if movies is None else min(reviews // 2, movies)


def kfold_side(n: int, folds: int) -> int:
    """A K-fold's smallest training side of ``n`` rows (scikit-learn's KFold: the first n % K folds hold one more;
    GroupKFold deals shuffled movies out so)."""
    return n - ceil_div(n, folds)


def split_training(n: int, fraction: float) -> int:
    """Training rows Keras' validation_split leaves of ``n`` (overfit.protocols.validation_split_last)."""
    return int(n * (1.0 - fraction))


def largest_fraction(n: int) -> float:
    """The largest validation share, to four decimals, that leaves a training row of ``n``."""
    steps = math.floor((1 - 1 / n) * 10_000)
    while steps > 0 and split_training(n, steps / 10_000) < 1:  # 1 - 0.9 is 0.0999…: int(10 × it) is 0
        steps -= 1
    return steps / 10_000


def holds_whole_movies(entry: dict) -> bool:
    return entry["kind"] in WHOLE_MOVIE_KINDS or entry.get("group_by_movie", False)


def largest_validation(entry: dict, sizes: Sizes) -> int:
    """A hold-out's largest validation_size sure to leave training reviews: all but one; where whole movies are held
    out until at least validation_size reviews are, the last movie taken can add all but one of its reviews."""
    return sizes.train_reviews - (sizes.most_reviews_per_movie if holds_whole_movies(entry) else 1)


def training_side(entry: dict, sizes: Sizes, seed: int) -> int:
    """The fewest training reviews of the protocol's folds, drawn as its folds job draws them (every repeat: a
    training job subsamples every fold it loads), from the movies' sizes alone."""
    n = sizes.train_reviews
    labels = np.zeros(n, np.uint8)  # a sorted hold-out's sides have its sizes whatever the labels
    folds = build_folds(entry, n, sizes.test_reviews, sizes.movie_ids(), seed, labels)
    return min(len(fold.train_rows) for fold in folds)
