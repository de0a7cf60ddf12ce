"""What a model-epoch cannot beat on this machine: its FLOPs at the matmul rate plus its unavoidable memory traffic.

Shared by benchmarks/engine.py (one model) and benchmarks/pipeline.py (a whole run).

- FLOPs (float32): the first layer is two sparse products per training step
  (forward, and the kernel gradient; the input needs no gradient), one in
  validation, each 2 · word ids · width; each dense layer after it costs
  2 · rows · in · out forward and twice that backward.
- Traffic: every step reads and writes every parameter and its RMSprop
  accumulator (16 bytes each) and reads the first-layer rows of the batch's
  distinct words.
- Rates, measured when called (the best of several tries): a float32
  512 × 1024 × 1024 matmul (through XLA; under benchmarks/engine.py
  --isa avx2, numpy's OpenBLAS limited to AVX2), and an in-place
  RMSprop-like update of a 10,000 × 1024 kernel (the optimizer's own
  access pattern).
"""

from __future__ import annotations

import time

import numpy as np


def timed(fn, repeats: int = 5) -> float:
    import jax

    jax.block_until_ready(fn())
    start = time.perf_counter()
    for _ in range(repeats):
        jax.block_until_ready(fn())
    return (time.perf_counter() - start) / repeats


def machine_rates(matmul: str = "xla") -> tuple[float, float]:
    """(FLOP/s, bytes/s) of this machine, measured now; the matmul through XLA, or ``"openblas"``: numpy's.

    numpy's OpenBLAS obeys OPENBLAS_CORETYPE (Haswell: AVX2 only); XLA's matmul (a YNNPACK call) picks its kernel by
    the CPU and ignores XLA_FLAGS=--xla_cpu_max_isa, so an AVX2-only floor on a machine with AVX-512 needs numpy's.
    """
    a, b = np.ones((512, 1024), np.float32), np.ones((1024, 1024), np.float32)
    if matmul == "openblas":
        def product():
            return a @ b
        for _ in range(100):  # OpenBLAS starts its threads and touches its buffers on the first calls
            product()
    else:
        import jax
        import jax.numpy as jnp

        a, b, jitted = jnp.asarray(a), jnp.asarray(b), jax.jit(lambda a, b: a @ b)

        def product():
            return jitted(a, b)
    # the best of several tries: the machine's limit, not a moment when something else ran
    flops = max(2 * 512 * 1024 * 1024 / timed(product, 20) for _ in range(10))

    return flops, 16 * 10000 * 1024 / update_seconds((10000, 1024))


def update_seconds(shape: tuple[int, int], steps: int = 20) -> float:
    """Seconds per step of an in-place RMSprop-like update of a kernel and its accumulator (the best of 4 tries)."""
    import jax
    import jax.numpy as jnp

    def updates(w, acc):
        def step(carry, _):
            w, acc = carry
            acc = 0.9 * acc + 0.1 * (w * w)
            return (w - 1e-3 * w / (jnp.sqrt(acc) + 1e-8), acc), None
        return jax.lax.scan(step, (w, acc), None, length=steps)[0]

    stream = jax.jit(updates, donate_argnums=(0, 1))
    state = [jnp.ones(shape, jnp.float32), jnp.ones(shape, jnp.float32)]

    def run():
        state[:] = stream(*state)
        return state[0]

    return min(timed(run, 2) for _ in range(4)) / steps


def review_stats(reviews, batch_size: int = 512, seed: int = 0) -> tuple[float, float]:
    """Mean word ids per review, and mean distinct words per batch of ``batch_size`` random reviews."""
    lengths = np.diff(reviews.offsets)
    rng = np.random.default_rng(seed)
    distinct = []
    for _ in range(8):
        rows = rng.choice(len(lengths), batch_size, replace=False)
        distinct.append(len(np.unique(np.concatenate([reviews.ids[reviews.offsets[r]:reviews.offsets[r + 1]] for r in rows]))))
    return float(lengths.mean()), float(np.mean(distinct))


def model_epoch_floor(hidden: list[int], n_train: int, n_evaluated: int, ids_per_review: float, distinct_per_batch: float,
                      rates: tuple[float, float], input_dim: int = 10000, batch_size: int = 512) -> float:
    """Seconds: one model-epoch on ``n_train`` reviews, plus a forward pass over ``n_evaluated`` reviews."""
    flops_rate, bandwidth = rates
    h1, sizes = hidden[0], [*hidden, 1]
    dense_macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    flops = 2 * (2 * ids_per_review * n_train * h1 + 3 * n_train * dense_macs
                 + ids_per_review * n_evaluated * h1 + n_evaluated * dense_macs)
    params = input_dim * h1 + h1 + sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    steps = -(-n_train // batch_size)
    traffic = steps * (16 * params + 4 * distinct_per_batch * h1)
    return flops / flops_rate + traffic / bandwidth
