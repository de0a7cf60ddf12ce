"""The book's multi-layer perceptron, read top to bottom.

Input: a review as its set of word ids (the multi-hot vector the book builds,
without building it). Dense(h1, relu) -> [Dropout] -> Dense(h2, relu) ->
[Dropout] -> Dense(1, sigmoid); the sigmoid is applied in the loss, the
model returns the logit.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from flax import nnx

from overfit.engine import sparse
from overfit.engine.losses import kernel_penalty
from overfit.engine.sparse import SparseBatch


@dataclass(frozen=True)
class ModelSpec:
    """What distinguishes the chapter's models; one entry per hidden layer."""

    hidden: tuple[int, ...]
    l1: tuple[float, ...]
    l2: tuple[float, ...]
    dropout: tuple[float, ...]  # rate after each hidden layer, 0 = none
    input_dim: int = 10000

    @classmethod
    def build(cls, hidden, l1=0.0, l2=0.0, dropout=0.0, input_dim=10000) -> "ModelSpec":
        """Scalars apply to every hidden layer, lists give one value per layer."""
        n = len(hidden)

        def per_layer(value):
            values = tuple(float(v) for v in value) if isinstance(value, (list, tuple)) else (float(value),) * n
            if len(values) != n:
                raise ValueError(f"{len(values)} values for {n} hidden layers")
            return values

        return cls(tuple(int(h) for h in hidden), per_layer(l1), per_layer(l2), per_layer(dropout), int(input_dim))


def glorot_dense(in_features: int, out_features: int, rngs: nnx.Rngs) -> nnx.Linear:
    # Keras' Dense defaults; Flax's own default kernel init is lecun_normal.
    return nnx.Linear(in_features, out_features, kernel_init=nnx.initializers.glorot_uniform(),
                      bias_init=nnx.initializers.zeros_init(), rngs=rngs)


class MLP(nnx.Module):
    def __init__(self, spec: ModelSpec, rngs: nnx.Rngs):
        self.spec = spec
        widths = (spec.input_dim, *spec.hidden)
        self.hidden = nnx.List([glorot_dense(a, b, rngs) for a, b in zip(widths[:-1], widths[1:])])
        self.output = glorot_dense(widths[-1], 1, rngs)

    def first_layer(self, x, how: str) -> jax.Array:
        layer = self.hidden[0]
        if isinstance(x, SparseBatch):
            # Multi-hot @ kernel is the sum of the kernel rows of the review's words:
            # about 130 rows instead of a 10,000-long dot product per unit.
            return sparse.first_layer(layer.kernel[...], x, how) + layer.bias[...]
        return layer(x)

    def __call__(self, x, dropout_key: jax.Array | None = None, how: str = "segment") -> jax.Array:
        """Logits. ``x``: a SparseBatch or a dense multi-hot matrix; ``how``: the sparse kernel to use (sparse.KERNELS)."""
        h = self.first_layer(x, how)
        for i, rate in enumerate(self.spec.dropout):
            if i > 0:
                h = self.hidden[i](h)
            h = jax.nn.relu(h)
            if rate > 0 and dropout_key is not None:
                # Inverted dropout, as Keras: kept units scaled by 1 / (1 - rate) in training only.
                keep = jax.random.bernoulli(jax.random.fold_in(dropout_key, i), 1.0 - rate, h.shape)
                h = jnp.where(keep, h / (1.0 - rate), 0.0)
        return self.output(h)[..., 0]

    def penalty(self) -> jax.Array:
        total = jnp.zeros((), jnp.float32)
        for layer, l1, l2 in zip(self.hidden, self.spec.l1, self.spec.l2):
            total += kernel_penalty(layer.kernel[...], l1, l2)
        return total
