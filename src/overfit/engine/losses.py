"""Binary cross-entropy and accuracy as Keras reports them, and Keras' weight penalties."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

KERAS_EPSILON = 1e-7


def binary_crossentropy(logits: jax.Array, labels: jax.Array, clipped: bool = True) -> jax.Array:
    """Per-example loss. ``clipped``: Keras' form, on the sigmoid output clipped to [1e-7, 1 - 1e-7].

    The clip bounds each example's loss at about 16.1 and zeroes the gradient of
    confidently wrong examples, which is what the book's curves were made with.
    ``clipped=False`` is the exact loss from logits.
    """
    if not clipped:
        return jnp.logaddexp(0.0, logits) - labels * logits
    p = jnp.clip(jax.nn.sigmoid(logits), KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -(labels * jnp.log(p) + (1.0 - labels) * jnp.log(1.0 - p))


def correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Keras' binary accuracy: round(sigmoid) == label; 0.5 rounds to 0 (half to even)."""
    return (jax.nn.sigmoid(logits) > 0.5).astype(jnp.float32) == labels


def kernel_penalty(kernel: jax.Array, l1, l2, axis=None) -> jax.Array:
    """Keras' regularizers.l1_l2: l1 * sum|w| + l2 * sum w² (added to the loss, not weight decay).

    ``axis``: the axes to sum; the others index the models of a stack, with ``l1`` and ``l2`` one per model.
    """
    penalty = jnp.zeros((), kernel.dtype)
    if np.any(l1):
        penalty += l1 * jnp.sum(jnp.abs(kernel), axis=axis)
    if np.any(l2):
        penalty += l2 * jnp.sum(jnp.square(kernel), axis=axis)
    return penalty
