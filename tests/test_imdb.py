import numpy as np
import pytest

from conftest import make_reviews, write_archive
from overfit.data import imdb
from overfit.errors import DataError


def test_tokenizer_lowercases_drops_markup_and_punctuation_keeps_inner_apostrophes():
    text = "I <br />didn't LIKE it...<br/>Great, the director's cut!! 10/10 'quoted' rock_n_roll café"
    assert imdb.tokenize(text) == [
        "i", "didn't", "like", "it", "great", "the", "director's", "cut", "10", "10", "quoted", "rock", "n", "roll", "café",
    ]


def test_vocabulary_ranks_by_training_frequency_ties_alphabetical_and_shifts_by_index_from():
    tokens = [["b", "a", "c", "a"], ["c", "a", "d", "e"]]  # a:3, c:2, then b, d, e once each
    encoding = imdb.Encoding(num_words=8, index_from=3)
    rows = imdb.build_vocabulary(tokens, encoding)
    # rank 1 ("a") gets index 4; with num_words=8 only indices 4..7 keep their own feature
    assert rows == [(4, "a", 3), (5, "c", 2), (6, "b", 1), (7, "d", 1)]


def test_encode_is_sorted_unique_with_start_and_oov():
    encoding = imdb.Encoding(num_words=8)
    word_index = {"a": 4, "c": 5}
    ids = imdb.encode(["c", "zzz", "a", "c", "unknown"], word_index, encoding)
    assert ids.tolist() == [1, 2, 4, 5]
    assert imdb.encode(["a"], word_index, encoding).tolist() == [1, 4]  # no oov when none is unknown


def test_digest_identifies_content_not_archive(tmp_path):
    files = make_reviews(per_folder=3)
    first = write_archive(tmp_path / "a.tar.gz", files)
    # the same reviews, other order and an extra non-review file: same digest
    reordered = dict(reversed(list(files.items())))
    reordered["aclImdb/train/labeledBow.feat"] = b"1 0:1\n"
    second = write_archive(tmp_path / "b.tar.gz", reordered)
    assert first.read_bytes() != second.read_bytes()
    assert imdb.read_archive(first)[1] == imdb.read_archive(second)[1]
    changed = dict(files)
    changed["aclImdb/test/pos/0_" + next(k.split("_")[-1] for k in files if k.startswith("aclImdb/test/pos/0_"))] += b"!"
    assert imdb.read_archive(write_archive(tmp_path / "c.tar.gz", changed))[1] != imdb.read_archive(first)[1]


def test_prepare_writes_sparse_rows_labels_ratings_and_movie_ids(tmp_path):
    files = make_reviews(per_folder=5)
    archive = write_archive(tmp_path / "a.tar.gz", files)
    manifest = imdb.prepare(archive, tmp_path / "out", None, imdb.Encoding(num_words=12), order_seed=113)
    train = imdb.load_split(tmp_path / "out" / "train.npz")
    assert len(train) == 10 and train.label.sum() == 5
    assert manifest["splits"]["test"] == {"reviews": 10, "positive": 5, "mean_unique_ids": pytest.approx(manifest["splits"]["test"]["mean_unique_ids"])}
    for row in range(len(train)):
        ids = train.ids[train.offsets[row]:train.offsets[row + 1]]
        assert ids[0] == 1 and np.all(np.diff(ids) > 0) and ids.max() < 12
        # the rating and the movie come from the file name and urls_*.txt
        label = "pos" if train.label[row] else "neg"
        assert f"aclImdb/train/{label}/{train.review_id[row]}_{train.rating[row]}.txt" in files
        assert train.movie_id[row] == train.review_id[row] // 3
    assert (train.rating[train.label == 1] >= 7).all() and (train.rating[train.label == 0] <= 4).all()
    # labels are mixed by the Keras-style shuffle, not sorted
    assert 0 < train.label[:5].sum() < 5 or 0 < train.label[5:].sum() < 5
    vocabulary = (tmp_path / "out" / "vocabulary.tsv").read_text().splitlines()
    assert vocabulary[0] == "index\tword\ttraining_count" and vocabulary[1].startswith("1\t<start>")
    assert [line.split("\t")[0] for line in vocabulary[3:]] == [str(i) for i in range(4, 12)]


def test_prepare_refuses_reviews_that_do_not_match_the_digest(tmp_path):
    archive = write_archive(tmp_path / "a.tar.gz", make_reviews(per_folder=2))
    with pytest.raises(DataError, match="content digest .* expected 0000"):
        imdb.prepare(archive, tmp_path / "out", "0" * 64, imdb.Encoding(), 113)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_truncated_archive_is_a_clear_data_error(tmp_path):
    archive = write_archive(tmp_path / "a.tar.gz", make_reviews(per_folder=20))
    truncated = tmp_path / "t.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DataError, match="t.tar.gz: cannot be read"):
        imdb.read_archive(truncated)


def test_subset_and_dense_agree(tmp_path):
    archive = write_archive(tmp_path / "a.tar.gz", make_reviews(per_folder=4))
    imdb.prepare(archive, tmp_path / "out", None, imdb.Encoding(num_words=15), 113)
    train = imdb.load_split(tmp_path / "out" / "train.npz")
    rows = np.array([5, 0, 3])
    assert np.array_equal(train.subset(rows).dense(15), train.dense(15)[rows])
