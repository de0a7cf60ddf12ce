"""What a training job asks of a scheduler, from the model's width and the protocol's size.

Kept free of JAX so that Snakemake can import it while it builds the DAG.
The coefficients come from the `benchmark:` files of a full run on our
2-core machine (see README, "Run on a cluster"): peak memory grows with the
first layer (parameters, gradient and RMSprop accumulator, 10,000 × width
each), time per model-epoch with the width (first layer) and its square
(second layer).
"""

from __future__ import annotations

import math

SECONDS_PER_MODEL_EPOCH = (0.15, 1.0e-3, 2.5e-6)  # a + b·h1 + c·h1·h2 (h1, h2: first two layer widths)


def models_in(protocol: dict | None, final_seeds: int) -> int:
    if protocol is None:
        return final_seeds
    return protocol.get("folds", 1) * protocol.get("repeats", 1)


def train_runtime_minutes(hidden: list[int], epochs: int, models: int) -> int:
    """A generous limit: three times the expected time, plus five minutes for start-up."""
    first, second = hidden[0], hidden[1] if len(hidden) > 1 else 1
    a, b, c = SECONDS_PER_MODEL_EPOCH
    expected = models * epochs * (a + b * first + c * first * second)
    return 5 + math.ceil(3 * expected / 60)


def train_mem_mb(hidden: list[int], vocabulary: int = 10000) -> int:
    first_layer_mb = vocabulary * hidden[0] * 4 / 2**20
    return int(1500 + 8 * first_layer_mb)
