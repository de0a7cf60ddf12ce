"""Which first-layer kernel trains on this machine: chosen by measurement, once per machine and width.

The kernels of ``sparse.KERNELS`` give the same numbers (tests/test_native.py, tests/test_engine.py), so the choice
changes only the time. Which is faster depends on the machine: the compiled kernel (``native``) was tuned on an
AVX-512 Xeon, where it beats XLA's CSR kernel at every width; on a 2-core AVX2 EPYC it lost to it by 1.35× at
width 512 (issue 31). On a GPU the compiled kernel does not exist and the choice is between XLA's two (``csr``,
``segment``). So ``auto`` measures, on first use, one representative training epoch of each candidate at the
width in use and keeps the faster.

- The width in use is rounded up to a power of two (a *bucket*): a run trains a handful of widths, and a bucket
  of 512 decides for 300 to 512 columns, so a machine measures a few times, not once per experiment.
- The step measured is the engine's own (``Trainer.train_epoch`` on 6 batches of 512 synthetic reviews after a
  warm-up call that compiles it), the host's work for the CSR kernel (its transposed structure) included, as a
  training job overlaps it. The reviews imitate IMDB's: 131 distinct words a review on average (results/data,
  the training split), drawn with Zipf's law over the vocabulary, so a batch holds about as many word ids as a
  real one, the frequent words' rows as hot in cache.
- The choice is kept in ``kernel-choice.json`` beside the compiled library (``native.library_path``), keyed by
  what changes the answer: the CPU model and flags (or the accelerator), the jaxlib version, the kernel's build
  (its library's name hashes its source and flags), ``XLA_FLAGS``, the bucket and the vocabulary. Another machine, jaxlib or
  kernel source measures anew. Concurrent jobs measure one at a time (a lock file) and the file is replaced
  whole; an unreadable file is measured over, never trusted.
- ``OVERFIT_SPARSE_KERNEL`` (``native``, ``csr``, ``segment`` or ``auto``) forces the kernel of every ``auto``
  training: for a benchmark, or where a measurement cannot be trusted. A kernel named in code
  (``TrainingSpec(sparse_kernel=...)``) is never overridden.

Each choice is logged once, with the times that made it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import platform
import time
from pathlib import Path

import jax
import jaxlib
import numpy as np

from overfit.engine import native, sparse

log = logging.getLogger(__name__)

VARIABLE = "OVERFIT_SPARSE_KERNEL"
BATCHES, BATCH_SIZE, ROUNDS = 6, 512, 3
MEAN_WORDS, SD_WORDS = 131.0, 72.0  # distinct words a review, IMDB's training split (results/data/imdb/train.npz)


def forced() -> str | None:
    """The kernel ``OVERFIT_SPARSE_KERNEL`` forces, or None (unset or ``auto``); a name it does not know is refused."""
    value = os.environ.get(VARIABLE, "").strip()
    if value in ("", "auto"):
        return None
    if value not in sparse.KERNELS:
        raise ValueError(f"{VARIABLE}={value!r}: expected auto or one of {', '.join(sparse.KERNELS)} "
                         f"(unset it to let the engine measure)")
    if value == "native" and not native.available():
        raise ValueError(f"{VARIABLE}=native, but the compiled kernel cannot be used here (the log says why): "
                         f"set it to csr or unset it")
    return value


def candidates() -> tuple[str, ...]:
    """The kernels worth timing on this backend: the compiled one where it can be built, and XLA's CSR kernel;
    on an accelerator, XLA's two."""
    if jax.default_backend() != "cpu":
        return ("csr", "segment")
    return ("native", "csr") if native.available() else ("csr",)


def bucket(columns: int) -> int:
    """The width measured for a first layer of ``columns`` columns: the next power of two (at least 4)."""
    return max(4, 1 << (max(int(columns), 1) - 1).bit_length())


@functools.cache
def machine() -> dict:
    """What the answer depends on besides the width: the processor (or accelerator), jaxlib, the kernel's build."""
    model, flags = platform.machine(), ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and model == platform.machine():
                model = value.strip()
            elif name.strip() == "flags" and not flags:
                flags = value.strip()
    device = jax.devices()[0]
    return {"backend": jax.default_backend(), "device": device.device_kind, "cpu": model,
            "cpu_flags": hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest()[:12],
            "isa": " ".join(f for f in ("avx512f", "avx2", "fma") if f in flags.split()) or "baseline",
            "jaxlib": jaxlib.__version__, "kernel_build": native.library_path().name,
            "xla_flags": os.environ.get("XLA_FLAGS", "")}


def cache_path() -> Path:
    return native.library_path().parent / "kernel-choice.json"


def _key(columns: int, input_dim: int) -> str:
    m = machine()
    return "|".join([m["backend"], m["device"], m["cpu"], m["cpu_flags"], m["jaxlib"], m["kernel_build"],
                     m["xla_flags"], f"{bucket(columns)}x{input_dim}"])


def _read(path: Path) -> dict:
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: measured over
    return entries if isinstance(entries, dict) else {}


def _write(path: Path, entries: dict) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_text(json.dumps(entries, indent=1, sort_keys=True))
    os.replace(partial, path)


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process measures; the others wait, then read its answer
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def choose(columns: int, input_dim: int) -> str:
    """The kernel an ``auto`` training of a first layer of ``columns`` columns uses here (module docstring)."""
    if (kernel := forced()) is not None:
        return kernel
    options = candidates()
    if len(options) == 1:
        return options[0]
    path, key = cache_path(), _key(columns, input_dim)
    if (entry := _read(path).get(key)) and entry.get("kernel") in options:
        return entry["kernel"]
    with _locked(path):
        entries = _read(path)
        if (entry := entries.get(key)) and entry.get("kernel") in options:
            return entry["kernel"]
        seconds = measure(options, bucket(columns), input_dim)
        kernel = min(seconds, key=seconds.get)
        entries[key] = {"kernel": kernel, "seconds": seconds, "columns": bucket(columns), "vocabulary": input_dim,
                        **machine(),
                        "measured": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        _write(path, entries)
    log.info("first-layer kernel for %d columns on %s (%s, %s): %s; an epoch of %d batches took %s (kept in %s; "
             "%s=csr or native forces one)", bucket(columns), machine()["cpu"] if machine()["backend"] == "cpu"
             else machine()["device"], machine()["backend"], machine()["isa"], kernel, BATCHES,
             ", ".join(f"{how} {s * 1e3:.0f} ms" for how, s in seconds.items()), path, VARIABLE)
    return kernel


def synthetic_reviews(rows: int, vocabulary: int, seed: int = 0):
    """``rows`` reviews shaped like IMDB's: lengths around 131 distinct words, words drawn by Zipf's law."""
    from overfit.data.imdb import SparseReviews

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocabulary + 1)
    p /= p.sum()
    sigma = np.sqrt(np.log1p((SD_WORDS / MEAN_WORDS) ** 2))
    lengths = np.clip(rng.lognormal(np.log(MEAN_WORDS) - sigma**2 / 2, sigma, rows), 10, vocabulary).astype(int)
    reviews = [np.unique(rng.choice(vocabulary, size=2 * n, p=p))[:n] for n in lengths]
    offsets = np.zeros(rows + 1, np.int64)
    np.cumsum([len(r) for r in reviews], out=offsets[1:])
    zeros = np.zeros(rows, np.int64)
    return SparseReviews(np.concatenate(reviews).astype(np.int32), offsets, (rng.random(rows) < 0.5).astype(np.int8),
                         zeros, zeros, zeros, "synthetic")


def measure(kernels: tuple[str, ...], columns: int, input_dim: int) -> dict[str, float]:
    """Seconds of one training epoch of ``BATCHES`` batches of a [columns, 16] model with each kernel: the best of
    ``ROUNDS``, the kernels taking turns (so that a busy moment of the machine falls on both), after a call each
    that compiles."""
    from overfit.engine.batches import DeviceSplit, EpochInputs, batched_rows, max_slots, round_up
    from overfit.engine.model import ModelSpec
    from overfit.engine.train import Trainer, TrainingSpec

    reviews = synthetic_reviews(BATCHES * BATCH_SIZE, input_dim)
    split = DeviceSplit.from_reviews(reviews, input_dim)
    rows = batched_rows(np.arange(len(reviews), dtype=np.int32), BATCH_SIZE)
    slots = round_up(max_slots(rows, split.host_lengths))
    key, state, best = jax.random.key(0), {}, {how: float("inf") for how in kernels}
    for how in kernels:
        trainer = Trainer(ModelSpec.build([columns, 16], input_dim=input_dim), TrainingSpec(sparse_kernel=how))
        inputs = EpochInputs(reviews, split.host_lengths, input_dim, slots, trainer.kernel == "csr")
        state[how] = (trainer, inputs, *trainer.init(0))
    for attempt in range(ROUNDS + 1):
        for how in kernels:
            trainer, inputs, params, opt_state = state[how]
            start = time.perf_counter()
            params, opt_state, metrics = trainer.train_epoch(params, opt_state, split.arrays(), *inputs(rows), key,
                                                             slots)
            jax.block_until_ready(metrics)
            state[how] = (trainer, inputs, params, opt_state)
            if attempt:  # the first call compiles
                best[how] = min(best[how], time.perf_counter() - start)
    return best
