"""Prepared data is verified, not assumed (issue 28).

Every prepared file's digest sits in its folder's manifest and is checked on
every load; what a digest cannot see (a manifest rewritten over a wrong
file) the loaders check: word ids inside the vocabulary, rows inside their
split. Files corrupted at random (Hypothesis) are refused with the file
named, or leave the data as it was: never a crash, never a silent change.
"""

import json
import logging
import shutil
import sys
import tempfile
from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import make_reviews, run_snakemake, write_archive, write_fashion_mnist
from overfit import jobs, protocols
from overfit.data import clock, fashion_mnist, imdb, prepared
from overfit.engine.batches import DeviceSplit
from overfit.errors import DataError

NUM_WORDS = 30
SIZES = {"train": 24, "test": 24}  # the tiny archive: 6 reviews per split and label folder, 2 labels
CLOCK_FACES = {"train": 12, "test": 4}


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> Path:
    """One folder per kind of prepared file, each written by the code the data stage runs."""
    root = tmp_path_factory.mktemp("prepared")
    archive = write_archive(root / "a.tar.gz", make_reviews(per_folder=6))
    imdb.prepare(archive, root / "imdb", None, imdb.Encoding(num_words=NUM_WORDS), 113)
    folds = protocols.kfold_splits(SIZES["train"], 3, 1, seed=1) + protocols.test_as_validation(SIZES["train"], SIZES["test"])
    protocols.save_folds(folds, root / "folds" / "folds.npz")
    digests = write_fashion_mnist(root / "fashion_raw", n_train=30, n_test=10)
    fashion_mnist.prepare(root / "fashion_raw", root / "fashion", digests)
    clock.prepare(root / "clock" / "faces.npz", CLOCK_FACES, 0)
    return root


# kind: (folder, file, load)
KINDS = {
    "imdb train": ("imdb", "train.npz", imdb.load_split),
    "imdb test": ("imdb", "test.npz", imdb.load_split),
    "folds": ("folds", "folds.npz", lambda path: protocols.load_folds(path, SIZES)),
    "fashion": ("fashion", "train.npz", fashion_mnist.load),
    "clock train": ("clock", "faces.npz", lambda path: clock.load(path, "train")),
    "clock test": ("clock", "faces.npz", lambda path: clock.load(path, "test")),
}


def flat(loaded) -> list:
    """What a loader returned, as a list of arrays and strings, to compare two loads."""
    if isinstance(loaded, imdb.SparseReviews):
        return [np.asarray(x) for x in astuple(loaded)]
    if isinstance(loaded, dict):
        return [loaded[k] for k in sorted(loaded)]
    if isinstance(loaded, list):  # folds
        return [np.asarray(x) for fold in loaded for x in astuple(fold)]
    return list(loaded)


def same(a, b) -> bool:
    a, b = flat(a), flat(b)
    return len(a) == len(b) and all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(map(np.asarray, a), map(np.asarray, b)))


def copy_of(originals: Path, kind: str, scratch: Path) -> Path:
    folder, name, _ = KINDS[kind]
    shutil.copytree(originals / folder, scratch / folder)
    return scratch / folder / name


def reason(error: DataError) -> str:
    """The kind of refusal, for Hypothesis' statistics (pytest --hypothesis-show-statistics)."""
    text = str(error)
    for kind in ("digest", "manifest", "word ids", "offsets", "labels", "not a prepared", "not a file of folds",
                 "outside", "holds no", "dtype", "shape", "agree", "differ"):
        if kind in text:
            return kind
    return text.split(": ", 1)[-1][:30]


def refused_naming(error: DataError, *paths: Path) -> bool:
    return any(str(path) in str(error) for path in paths)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_prepared_file_loads_as_written_and_its_manifest_lists_its_digest(originals, kind):
    folder, name, load = KINDS[kind]
    manifest = json.loads((originals / folder / "manifest.json").read_text())
    assert manifest["files"][name]["blake2b"] == prepared.digest(originals / folder / name)
    assert same(load(originals / folder / name), load(originals / folder / name))
    if folder == "imdb":  # the vocabulary, written with the splits, is listed too
        assert prepared.verify(originals / "imdb" / "vocabulary.tsv", imdb.RULE)["rule"] == "prepare_imdb"


def test_a_file_without_its_manifest_or_changed_after_it_is_refused_with_the_file_and_the_rebuild_command(originals, tmp_path):
    path = copy_of(originals, "imdb train", tmp_path)
    path.write_bytes(path.read_bytes()[:-1] + bytes([path.read_bytes()[-1] ^ 1]))
    with pytest.raises(DataError, match=r"train\.npz: its blake2b digest is .* --forcerun prepare_imdb"):
        imdb.load_split(path)
    (path.parent / "manifest.json").unlink()
    with pytest.raises(DataError, match=r"train\.npz: there is no .*manifest\.json beside it"):
        imdb.load_split(path)
    # another prepared file of the same kind copied over it is just as refused: the digest is of the file itself
    other = copy_of(originals, "folds", tmp_path)
    shutil.copy(originals / "imdb" / "test.npz", path)
    shutil.copy(originals / "imdb" / "manifest.json", path.parent)
    with pytest.raises(DataError, match="digest"):
        imdb.load_split(path)
    assert same(protocols.load_folds(other, SIZES), KINDS["folds"][2](originals / "folds" / "folds.npz"))


# ---- corruption of the bytes: the manifest is the one the data stage wrote --------------------------------------

byte_corruptions = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 0.999)),
    st.tuples(st.just("flip"), st.tuples(st.floats(0, 0.999), st.integers(1, 255))),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("empty"), st.none()),
)


def corrupt_bytes(path: Path, corruption) -> None:
    how, arg = corruption
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[:int(arg * len(data))]
    elif how == "flip":
        at = int(arg[0] * len(data))
        data[at] ^= arg[1]
    elif how == "append":
        data += arg
    else:
        data = bytearray()
    path.write_bytes(bytes(data))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(KINDS)), target=st.sampled_from(["file", "manifest"]), corruption=byte_corruptions)
def test_corrupted_bytes_are_refused_with_the_file_named_or_leave_the_data_as_it_was(originals, kind, target, corruption):
    _, _, load = KINDS[kind]
    with tempfile.TemporaryDirectory() as scratch:
        path = copy_of(originals, kind, Path(scratch))
        manifest = path.parent / "manifest.json"
        corrupt_bytes(path if target == "file" else manifest, corruption)
        try:
            loaded = load(path)
        except DataError as error:
            assert refused_naming(error, path, manifest), str(error)
            event(f"refused: {reason(error)}")
            return
        event("loaded, unchanged")
        # a change of the manifest's bytes that leaves its meaning (a count of words in a summary, a space)
        assert target == "manifest", "a prepared file changed after its manifest was written and was not refused"
        assert same(loaded, load(originals / path.parent.name / path.name))


# ---- corruption of the arrays, with the manifest rewritten over them (as a writer of wrong files would) ----------

DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.float32, np.float64]
array_corruptions = st.one_of(
    st.tuples(st.just("set"), st.tuples(st.floats(0, 0.999), st.integers(-2**40, 2**40))),
    st.tuples(st.just("cast"), st.sampled_from(DTYPES)),
    st.tuples(st.just("empty"), st.none()),
    st.tuples(st.just("shorten"), st.floats(0, 0.999)),
    st.tuples(st.just("drop"), st.none()),
    st.tuples(st.just("swap"), st.integers(0, 100)),
)


def rewrite(path: Path, corruption, pick: int) -> None:
    """Change one array of the .npz at ``path``, then record the new file's digest in the manifest, as if the data
    stage had written it."""
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    names = sorted(arrays)
    name = names[pick % len(names)]
    how, arg = corruption
    array = arrays[name]
    if how == "set" and array.size and array.dtype.kind in "iuf":
        flat_array = array.reshape(-1).copy()
        info = np.iinfo(array.dtype) if array.dtype.kind in "iu" else np.finfo(array.dtype)
        flat_array[int(arg[0] * flat_array.size)] = np.clip(arg[1], info.min, info.max)
        arrays[name] = flat_array.reshape(array.shape)
    elif how == "cast" and array.dtype.kind != "U":
        arrays[name] = array.astype(arg)
    elif how == "empty":
        arrays[name] = array[:0] if array.ndim else np.array("")
    elif how == "shorten":
        arrays[name] = array[:int(arg * len(array))] if array.ndim else array
    elif how == "drop":
        del arrays[name]
    elif how == "swap":
        other = names[(pick + 1 + arg) % len(names)]
        arrays[name], arrays[other] = arrays[other], arrays[name]
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    manifest_path = path.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][path.name] = {"blake2b": prepared.digest(path), "bytes": path.stat().st_size}
    manifest_path.write_text(json.dumps(manifest))


def usable(kind: str, loaded) -> bool:
    """What the engine needs of a load to stay inside its arrays, checked here independently of the loaders."""
    if kind.startswith("imdb"):
        r = loaded
        n = len(r.label)
        return (n > 0 and len(r.offsets) == n + 1 and r.offsets[0] == 0 and r.offsets[-1] == len(r.ids)
                and (np.diff(r.offsets) >= 0).all() and (len(r.ids) == 0 or (r.ids.min() >= 0 and r.ids.max() < NUM_WORDS))
                and set(np.unique(r.label)) <= {0, 1} and len(r.movie_id) == len(r.rating) == len(r.review_id) == n)
    if kind == "folds":
        return len(loaded) > 0 and all(
            len(f.train_rows) == 0 or (0 <= f.train_rows.min() and f.train_rows.max() < SIZES["train"])
            for f in loaded) and all(f.validation_split in SIZES and (len(f.validation_rows) == 0 or (
                0 <= f.validation_rows.min() and f.validation_rows.max() < SIZES[f.validation_split])) for f in loaded)
    if kind == "fashion":
        images, labels = loaded
        return (images.dtype == np.uint8 and images.shape[1:] == (28, 28) and len(labels) == len(images) > 0
                and 0 <= labels.min() and labels.max() < 10)
    n = len(loaded["images"])
    return (n > 0 and loaded["images"].shape == (n, 28, 28) and all(len(v) == n for v in loaded.values())
            and 0 <= loaded["minutes"].min() and loaded["minutes"].max() < 720
            and all(np.isfinite(loaded[k]).all() for k in ("centre", "minute_tip", "hour_tip")))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(sorted(KINDS)), corruption=array_corruptions, pick=st.integers(0, 50))
def test_wrong_arrays_under_a_rewritten_manifest_are_refused_or_still_safe_to_train_on(originals, kind, corruption, pick):
    """A manifest rewritten over a wrong file cannot be told from the data stage's own: there the loaders guarantee
    what the engine relies on (word ids inside the vocabulary, rows inside their split, labels inside their classes,
    arrays that agree), so that a job refuses the file, naming it, rather than crash or read outside an array."""
    _, _, load = KINDS[kind]
    with tempfile.TemporaryDirectory() as scratch:
        path = copy_of(originals, kind, Path(scratch))
        rewrite(path, corruption, pick)
        try:
            loaded = load(path)
        except DataError as error:
            assert refused_naming(error, path), str(error)
            event(f"refused: {reason(error)}")
            return
        event(f"loaded after '{corruption[0]}' (what the engine needs still holds)")
        assert usable(kind, loaded), f"{kind} loaded after {corruption} of array {pick} but is not safe to use"


@pytest.mark.parametrize("value", [NUM_WORDS, 2 * NUM_WORDS, 60_000])
def test_a_word_id_past_the_vocabulary_is_refused_on_load_naming_the_file(originals, tmp_path, value):
    path = copy_of(originals, "imdb train", tmp_path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["ids"][5] = value
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    manifest = json.loads((path.parent / "manifest.json").read_text())
    manifest["files"]["train.npz"]["blake2b"] = prepared.digest(path)
    (path.parent / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match=rf"{path}: word ids run from \d+ to {value}, outside the vocabulary of {NUM_WORDS}"):
        imdb.load_split(path)


def test_the_engine_refuses_a_split_whose_ids_do_not_fit_its_first_layer(originals):
    """The loader checks the vocabulary the data was prepared with; the engine, the model's: both paths (the compiled
    kernel, XLA's CSR, which would clip the id) then see only ids inside the table."""
    split = imdb.load_split(originals / "imdb" / "train.npz")
    assert DeviceSplit.from_reviews(split, NUM_WORDS).ids.shape == split.ids.shape
    with pytest.raises(DataError, match="do not fit a first layer of 20 words"):
        DeviceSplit.from_reviews(split, 20)


# ---- every failure reaches the job's log -------------------------------------------------------------------------

class Job:
    def __init__(self, log: Path):
        self.log, self.rule, self.wildcards = [str(log)], "train", ["holdout", "narrow"]


@pytest.mark.parametrize("raised, terminal", [
    (ValueError("an index past the end"), "ValueError: an index past the end. This is not a problem of the data"),
    (DataError("x.npz: cut short; rebuild it"), "x.npz: cut short; rebuild it"),
])
def test_every_failure_is_written_with_its_traceback_to_the_jobs_log_and_named_in_one_terminal_line(
        tmp_path, capsys, raised, terminal):
    log_file = tmp_path / "logs" / "train.log"

    def task(job):
        logging.getLogger("overfit").info("loading")
        raise raised

    with pytest.raises(SystemExit) as exit_:
        jobs.run(Job(log_file), task)
    assert exit_.value.code == 1
    written = log_file.read_text()
    assert terminal in written and "Traceback (most recent call last)" in written and "in task" in written
    err = capsys.readouterr().err
    line = [line for line in err.splitlines() if "ERROR" in line]
    assert len(line) == 1 and "train holdout/narrow: ERROR" in line[0] and str(log_file) in line[0]
    assert terminal in line[0] and "Traceback" not in err
    logging.basicConfig(handlers=[logging.StreamHandler(sys.stderr)], force=True)  # release the log file


@pytest.mark.pipeline
def test_a_corrupted_split_stops_the_jobs_that_read_it_with_the_file_in_their_log(tiny_workflow):
    """The user's path: the data stage ran, then a prepared split changed on disk (here one byte). Snakemake sees
    it newer and reruns what reads it; each such job refuses it in its own log, and leaves no output behind."""
    target = "results/data/folds/holdout/folds.npz"

    def snakemake(*args):
        return run_snakemake(tiny_workflow["dir"], "--configfile", str(tiny_workflow["config"]), "--cores", "2", *args,
                             mirror=tiny_workflow["mirror"])

    assert snakemake(target).returncode == 0
    train = tiny_workflow["dir"] / "results" / "data" / "imdb" / "train.npz"
    data = bytearray(train.read_bytes())
    data[len(data) // 2] ^= 0x40
    train.write_bytes(bytes(data))
    again = snakemake(target)
    assert again.returncode != 0
    log = (tiny_workflow["dir"] / "logs" / "folds" / "holdout.log").read_text()
    assert f"{train.relative_to(tiny_workflow['dir'])}: its blake2b digest is" in log and "--forcerun prepare_imdb" in log
    assert "logs/folds/holdout.log" in again.stderr
    folds = tiny_workflow["dir"] / target
    assert not folds.exists() and not list(folds.parent.glob(".*.part"))


def test_only_the_verifying_loaders_read_a_prepared_file():
    """A job reads prepared data through imdb.load_split, protocols.load_folds, fashion_mnist.load or clock.load,
    each of which verifies the digest first: no other module of the package opens an .npz itself."""
    from conftest import REPO

    package = REPO / "src" / "overfit"
    readers = {str(path.relative_to(package)) for path in package.rglob("*.py") if "np.load(" in path.read_text()}
    assert readers == {"data/imdb.py", "data/fashion_mnist.py", "data/clock.py", "protocols.py"}
    for name in readers:
        text = (package / name).read_text()
        assert text.count("np.load(") == text.count("prepared.verify("), name  # each read behind a verify
