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

# a + b·h1 + c·h1·h2 seconds (h1, h2: the first two layer widths), fitted to the
# K-fold jobs of a full run (18,750 + 6,250 reviews per epoch, two jobs sharing
# the machine): 0.19 s at width 16, 1.9 s at 512, 4.0 s at 1024.
SECONDS_PER_MODEL_EPOCH = (0.19, 3.0e-3, 7.4e-7)


def train_runtime_minutes(hidden: list[int], epochs: int, models: int) -> int:
    """A generous limit: three times the expected time, plus five minutes for start-up."""
    first, second = hidden[0], hidden[1] if len(hidden) > 1 else 1
    a, b, c = SECONDS_PER_MODEL_EPOCH
    expected = models * epochs * (a + b * first + c * first * second)
    return 5 + math.ceil(3 * expected / 60)


def train_mem_mb(hidden: list[int], vocabulary: int = 10000) -> int:
    first_layer_mb = vocabulary * hidden[0] * 4 / 2**20
    # measured peaks: 550 MB at width 16, 785 MB at width 1024 (one model at a time)
    return int(1000 + 8 * first_layer_mb)


# an image study's effective float32 rate on the dense path, fitted to the three largest studies of a full run (two
# jobs sharing the 2-core machine): 36–39 GFLOP/s
IMAGE_FLOPS_PER_SECOND = 36e9


def image_study_runtime_minutes(images: dict, study: str) -> int:
    """An image study's limit, as ``train_runtime_minutes``: three times the expected time, plus five minutes."""
    from overfit.studies.image_settings import FOLDS, training_flops

    expected = training_flops(images["studies"][study], images["seeds"], images["validation_split"],
                              images.get("folds", FOLDS))
    return 5 + math.ceil(3 * expected / IMAGE_FLOPS_PER_SECOND / 60)
