"""Models trained side by side, as arrays with a member axis.

A stack is grouped by architecture: a *group* is models with the same widths
and dropout rates (their penalties may differ). A group's first-layer
kernels sit side by side in one (vocabulary, members × width) array, so that
one sparse product of the batch serves every model; each later layer is one
(members, in, out) array applied as one batched matmul. Every model is
initialised as ``MLP`` initialises it alone, sees the same batches and (with
the same step key) the same dropout masks, and its parameters, optimizer
state and gradient are its own slices: it computes what it would alone, up
to float rounding. A model trained alone is a group of one.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from overfit.engine.losses import kernel_penalty
from overfit.engine.model import MLP, ModelSpec


@dataclass(frozen=True)
class Group:
    specs: tuple[ModelSpec, ...]
    members: tuple[int, ...]  # their places in the stack

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.specs[0].hidden

    @property
    def columns(self) -> int:
        """Its columns of the stack's first-layer product."""
        return len(self.specs) * self.hidden[0]


def groups_of(specs: tuple[ModelSpec, ...]) -> list[Group]:
    """The stack's models grouped by architecture, in order of first appearance."""
    by_shape: dict = {}
    for index, spec in enumerate(specs):
        by_shape.setdefault((spec.hidden, spec.dropout, spec.input_dim), []).append(index)
    return [Group(tuple(specs[i] for i in members), tuple(members)) for members in by_shape.values()]


def init(group: Group, seed: int) -> dict:
    """Each model's initial weights as alone (Keras' Glorot uniform from ``seed``), side by side."""
    models = [MLP(spec, nnx.Rngs(params=seed)) for spec in group.specs]
    layers = [[*m.hidden, m.output] for m in models]
    kernels = [[layer.kernel[...] for layer in model] for model in layers]
    biases = [[layer.bias[...] for layer in model] for model in layers]
    return {
        "kernels": [jnp.concatenate([k[0] for k in kernels], axis=1),
                    *(jnp.stack([k[i] for k in kernels]) for i in range(1, len(kernels[0])))],
        "biases": [jnp.concatenate([b[0] for b in biases]),
                   *(jnp.stack([b[i] for b in biases]) for i in range(1, len(biases[0])))],
    }


def logits(group: Group, params: dict, first: jax.Array, dropout_key: jax.Array | None) -> jax.Array:
    """(rows, members) logits from the group's columns of the first-layer product (``multi_hot @ kernel``)."""
    rows, width = first.shape[0], group.hidden[0]
    # members first: each later layer is then a plain batched matmul (for one model, a matmul)
    h = (first + params["biases"][0]).reshape(rows, len(group.specs), width).transpose(1, 0, 2)
    for i, rate in enumerate(group.specs[0].dropout):
        if i > 0:
            h = jnp.matmul(h, params["kernels"][i]) + params["biases"][i][:, None, :]
        h = jax.nn.relu(h)
        if rate > 0 and dropout_key is not None:
            # the mask a model alone draws (inverted dropout, as Keras), shared by the group's models
            keep = jax.random.bernoulli(jax.random.fold_in(dropout_key, i), 1.0 - rate, (rows, h.shape[-1]))
            h = jnp.where(keep[None], h / (1.0 - rate), 0.0)
    out = jnp.matmul(h, params["kernels"][-1]) + params["biases"][-1][:, None, :]
    return out[..., 0].T


def penalties(group: Group, params: dict) -> jax.Array:
    """(members,) Keras' l1 · Σ|w| + l2 · Σw² over each model's hidden kernels."""
    l1 = np.array([spec.l1 for spec in group.specs], np.float32)  # (members, hidden layers)
    l2 = np.array([spec.l2 for spec in group.specs], np.float32)
    total = jnp.zeros(len(group.specs), jnp.float32)
    for i in range(len(group.hidden)):
        if not (np.any(l1[:, i]) or np.any(l2[:, i])):
            continue  # no penalty on this layer
        kernel = params["kernels"][i]
        if i == 0 and len(group.specs) > 1:
            # (vocabulary, members × width): summed over the words first, in place (a model's columns side by
            # side; moving its members first would copy the whole kernel every step), then over each model's columns
            width = group.hidden[0]
            columns = kernel_penalty(kernel, np.repeat(l1[:, i], width), np.repeat(l2[:, i], width), axis=0)
            total += columns.reshape(len(group.specs), width).sum(axis=1)
            continue
        if i == 0:  # one model: all its weights, in whichever layout (engine.native's blocks)
            kernel = kernel.reshape(1, -1, kernel.shape[-1])
        total += kernel_penalty(kernel, l1[:, i], l2[:, i], axis=(1, 2))
    return total
