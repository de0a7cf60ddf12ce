"""The first-layer kernel chosen by measurement (overfit.engine.choice): once per machine and width, kept, forced."""

import json

import numpy as np
import pytest

from overfit.engine import choice, native
from overfit.engine.model import ModelSpec
from overfit.engine.train import Trainer, TrainingSpec

needs_kernel = pytest.mark.skipif(not native.available(), reason="the compiled kernel cannot be built here")


@pytest.fixture
def measured(tmp_path, monkeypatch):
    """choice with its cache in tmp_path, two candidates and a stand-in stopwatch: the calls it made."""
    calls = []
    monkeypatch.delenv(choice.VARIABLE, raising=False)
    monkeypatch.setattr(choice, "cache_path", lambda: tmp_path / "kernel-choice.json")
    monkeypatch.setattr(choice, "candidates", lambda: ("native", "csr"))
    monkeypatch.setattr(choice, "machine", lambda: {"backend": "cpu", "device": "cpu", "cpu": "Test CPU",
                                                    "cpu_flags": "abc", "isa": "avx2", "jaxlib": "1",
                                                    "kernel_build": "k.so", "xla_flags": ""})

    def stopwatch(kernels, columns, input_dim):
        calls.append(columns)
        return {"native": 0.2, "csr": 0.1} if columns >= 512 else {"native": 0.1, "csr": 0.3}

    monkeypatch.setattr(choice, "measure", stopwatch)
    return calls


def test_the_faster_kernel_is_kept_per_width_bucket_and_measured_once(measured, tmp_path):
    assert choice.choose(16, 10000) == "native"
    assert choice.choose(500, 10000) == "csr"  # bucket 512
    assert choice.choose(300, 10000) == "csr"  # the same bucket: read back, not measured
    assert measured == [16, 512]
    kept = json.loads((tmp_path / "kernel-choice.json").read_text())
    entry = next(e for e in kept.values() if e["columns"] == 512)
    assert entry["kernel"] == "csr" and entry["seconds"] == {"native": 0.2, "csr": 0.1} and entry["cpu"] == "Test CPU"


def test_another_machine_or_jaxlib_measures_anew(measured, monkeypatch):
    choice.choose(16, 10000)
    monkeypatch.setattr(choice, "machine", lambda: {"backend": "cpu", "device": "cpu", "cpu": "Other CPU",
                                                    "cpu_flags": "def", "isa": "avx512f", "jaxlib": "2",
                                                    "kernel_build": "k.so", "xla_flags": ""})
    choice.choose(16, 10000)
    assert measured == [16, 16]


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", '{"x": 1}'])
def test_an_unreadable_or_partial_cache_is_measured_over(measured, tmp_path, content):
    (tmp_path / "kernel-choice.json").write_text(content)
    assert choice.choose(1024, 10000) == "csr"
    assert measured == [1024]
    assert json.loads((tmp_path / "kernel-choice.json").read_text())  # whole again
    assert not list(tmp_path.glob("*.part"))


def test_a_kept_choice_the_machine_cannot_run_now_is_measured_again(measured, tmp_path, monkeypatch):
    choice.choose(16, 10000)
    monkeypatch.setattr(choice, "candidates", lambda: ("csr", "segment"))
    monkeypatch.setattr(choice, "measure", lambda kernels, c, d: measured.append(c) or {"csr": 0.2, "segment": 0.1})
    assert choice.choose(16, 10000) == "segment"
    assert measured == [16, 16]


def test_the_environment_forces_a_kernel_without_measuring(measured, monkeypatch):
    monkeypatch.setenv(choice.VARIABLE, "csr")
    assert choice.choose(16, 10000) == "csr"
    monkeypatch.setenv(choice.VARIABLE, "auto")
    assert choice.choose(16, 10000) == "native"
    assert measured == [16]


def test_an_unknown_forced_kernel_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(choice.VARIABLE, "fastest")
    with pytest.raises(ValueError, match="OVERFIT_SPARSE_KERNEL='fastest'.*native"):
        choice.forced()


def test_a_trainer_on_auto_trains_with_the_chosen_kernel_and_a_named_one_is_kept(monkeypatch):
    seen = []
    monkeypatch.setattr(choice, "choose", lambda columns, input_dim: seen.append((columns, input_dim)) or "csr")
    stack = (ModelSpec.build([16, 16], input_dim=500), ModelSpec.build([16, 16], input_dim=500),
             ModelSpec.build([4, 4], input_dim=500))
    assert Trainer(stack, TrainingSpec()).kernel == "csr"
    assert seen == [(36, 500)]  # the stack's first-layer columns, all groups together
    assert Trainer(stack, TrainingSpec(sparse_kernel="segment")).kernel == "segment"
    assert Trainer(stack, TrainingSpec(input_mode="dense")).kernel is None
    assert len(seen) == 1


def test_width_buckets():
    assert [choice.bucket(c) for c in (1, 4, 5, 16, 17, 512, 513, 1024, 2000)] == [4, 4, 8, 16, 32, 512, 1024, 1024,
                                                                                    2048]


def test_the_synthetic_reviews_are_shaped_like_imdbs():
    reviews = choice.synthetic_reviews(2000, 10000)
    lengths = np.diff(reviews.offsets)
    assert abs(lengths.mean() - choice.MEAN_WORDS) < 15 and lengths.min() >= 10
    assert 0 <= reviews.ids.min() and reviews.ids.max() < 10000
    assert all(np.all(np.diff(reviews.ids[a:b]) > 0) for a, b in zip(reviews.offsets[:-1], reviews.offsets[1:]))


@needs_kernel
def test_a_real_measurement_times_each_kernel():
    seconds = choice.measure(("native", "csr"), 32, 1000)
    assert set(seconds) == {"native", "csr"} and all(0 < s < 60 for s in seconds.values())
