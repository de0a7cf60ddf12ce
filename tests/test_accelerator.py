"""The engine where the compiled kernel does not exist (a GPU): XLA's CSR and segment kernels, chosen by measurement.

The first two tests run everywhere: they put the CPU in the accelerator's place (the compiled kernel ruled out),
so that the path a GPU takes is tested on every machine. The last runs only on an accelerator (the device
machine; benchmarks/accelerator.py gives its times).
"""

import json

import jax
import numpy as np
import pytest

from overfit.engine import choice
from overfit.engine.model import ModelSpec
from overfit.engine.train import Run, Trainer, TrainingSpec, train_models
from overfit.protocols import Fold

VOCABULARY = 300


def reviews(n, seed):
    return choice.synthetic_reviews(n, VOCABULARY, seed)


def small_runs():
    return [Run("holdout", Fold(0, 0, np.arange(40), "test", np.arange(20)), 0, init_seed=3, shuffle_seed=7)]


def losses(how: str) -> np.ndarray:
    splits = {"train": reviews(40, 1), "test": reviews(20, 2)}
    spec = ModelSpec.build([32, 8], input_dim=VOCABULARY)
    rows = train_models(spec, small_runs(), TrainingSpec(epochs=3, batch_size=16, sparse_kernel=how,
                                                         learning_rate=0.01), splits)
    return np.array([r["value"] for r in rows if r["metric"] == "loss"])


@pytest.fixture
def no_compiled_kernel(tmp_path, monkeypatch):
    """This machine as an accelerator sees it: XLA's two kernels to choose from, a cache of its own."""
    monkeypatch.delenv(choice.VARIABLE, raising=False)
    monkeypatch.setattr(choice, "candidates", lambda: ("csr", "segment"))
    monkeypatch.setattr(choice, "cache_path", lambda: tmp_path / "kernel-choice.json")


def test_without_the_compiled_kernel_auto_measures_xlas_two_and_trains_with_one(no_compiled_kernel, tmp_path):
    spec = ModelSpec.build([32, 8], input_dim=VOCABULARY)
    chosen = Trainer(spec, TrainingSpec()).kernel
    assert chosen in ("csr", "segment")
    kept = next(iter(json.loads((tmp_path / "kernel-choice.json").read_text()).values()))
    assert set(kept["seconds"]) == {"csr", "segment"} and kept["kernel"] == chosen


def test_xlas_two_kernels_train_the_same_model(no_compiled_kernel):
    """What a GPU trains with, either kernel: the same losses to float32 rounding (segment sums in another order)."""
    np.testing.assert_allclose(losses("csr"), losses("segment"), rtol=2e-5, atol=1e-6)


@pytest.mark.skipif(jax.default_backend() == "cpu", reason="needs an accelerator (a GPU through JAX)")
def test_on_the_accelerator_the_engine_agrees_with_the_cpu_and_with_itself():
    chosen = Trainer(ModelSpec.build([32, 8], input_dim=VOCABULARY), TrainingSpec()).kernel
    assert chosen in ("csr", "segment")
    first, again = losses(chosen), losses(chosen)
    np.testing.assert_array_equal(first, again)  # the same seed, the same numbers
    with jax.default_device(jax.devices("cpu")[0]):
        on_cpu = losses("csr")
    np.testing.assert_allclose(first, on_cpu, rtol=1e-4, atol=1e-6)
