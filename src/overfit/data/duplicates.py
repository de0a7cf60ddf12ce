"""Redundancy in IMDB (section 4.2's third pitfall): reviews that are the same, or nearly, as the model sees them.

The model sees a review as its set of word ids (multi-hot, 10,000 words), so
two reviews are *duplicates* when their sets are equal and *near-duplicates*
when their Jaccard similarity (shared words / words of either) is at least
``NEAR``. Near pairs are found with MinHash banding (4 bands of 4 hashes over
the words outside the 100 most frequent, which every review shares) and then
checked exactly; a pair the banding misses is not counted, so near-duplicate
counts are lower bounds (a pair at similarity 0.8 is found with probability
about 0.9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from overfit.data.imdb import SparseReviews

NEAR = 0.8
BANDS, ROWS = 4, 4
COMMON = 103  # word ids below this are the 100 most frequent words (and the start/OOV marks)
LARGEST_BUCKET = 500  # a bucket this large is common words colliding, not duplicates: skipped


def _sets(reviews: SparseReviews) -> list[frozenset]:
    return [frozenset(reviews.ids[a:b].tolist()) for a, b in zip(reviews.offsets[:-1], reviews.offsets[1:])]


def _minhashes(reviews: SparseReviews, vocabulary: int, seed: int) -> np.ndarray:
    """(reviews, BANDS × ROWS) MinHash signatures of each review's less common words."""
    rng = np.random.default_rng(seed)
    ids = reviews.ids.astype(np.int64)
    rare = ids >= COMMON
    owner = np.repeat(np.arange(len(reviews)), np.diff(reviews.offsets))[rare]
    out = np.full((len(reviews), BANDS * ROWS), vocabulary, np.int64)  # a review of common words only: no bucket
    for k in range(BANDS * ROWS):
        ranks = rng.permutation(vocabulary)[ids[rare]]
        np.minimum.at(out[:, k], owner, ranks)
    return out


def find_pairs(train: SparseReviews, test: SparseReviews, vocabulary: int, seed: int = 0) -> pd.DataFrame:
    """Every duplicate and near-duplicate pair found, within and across the splits: one row per pair."""
    both = [("train", i) for i in range(len(train))] + [("test", i) for i in range(len(test))]
    sets = _sets(train) + _sets(test)
    signatures = np.concatenate([_minhashes(train, vocabulary, seed), _minhashes(test, vocabulary, seed)])
    candidates = set()
    for band in range(BANDS):
        keys = pd.DataFrame(signatures[:, band * ROWS:(band + 1) * ROWS])
        valid = keys.iloc[:, 0] < vocabulary
        for _, members in keys[valid].groupby(list(keys.columns)).groups.items():
            if 1 < len(members) <= LARGEST_BUCKET:
                members = sorted(members)
                candidates.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    rows = []
    for a, b in sorted(candidates):
        shared = len(sets[a] & sets[b])
        jaccard = shared / (len(sets[a]) + len(sets[b]) - shared)
        if jaccard >= NEAR:
            rows.append({"split_a": both[a][0], "row_a": both[a][1], "split_b": both[b][0], "row_b": both[b][1],
                         "jaccard": jaccard, "identical": sets[a] == sets[b]})
    return pd.DataFrame(rows, columns=["split_a", "row_a", "split_b", "row_b", "jaccard", "identical"])


def summary(pairs: pd.DataFrame, n_train: int, n_test: int) -> pd.DataFrame:
    """Pairs and the reviews in them, per kind (identical / near) and where (within train, within test, across)."""
    rows = []
    where = np.where(pairs.split_a == pairs.split_b, "within " + pairs.split_a, "train × test")
    for kind, chosen in (("identical", pairs.identical), ("near (Jaccard ≥ %.1f)" % NEAR, np.ones(len(pairs), bool))):
        for place in ("within train", "within test", "train × test"):
            part = pairs[np.asarray(chosen, bool) & (where == place)]
            reviews = set(zip(part.split_a, part.row_a)) | set(zip(part.split_b, part.row_b))
            rows.append({"kind": kind, "where": place, "pairs": len(part), "reviews": len(reviews),
                         "share_of_train": sum(1 for s, _ in reviews if s == "train") / n_train,
                         "share_of_test": sum(1 for s, _ in reviews if s == "test") / n_test})
    return pd.DataFrame(rows)
