"""The losses and accuracies as Keras reports them (binary, and the dense path's multi-class and regression), and
Keras' weight penalties."""

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


def sparse_categorical_crossentropy(scores: jax.Array, labels: jax.Array, clipped: bool = True) -> jax.Array:
    """Per-example loss of a softmax output.

    ``clipped`` (``scores`` are the softmax's probabilities): as Keras 3 and Keras 2.0.8 compute it
    (``from_logits=False``): the scores rescaled to sum to 1, clipped to [1e-7, 1 − 1e-7], then −log of the true
    class's. The clip bounds a row's loss at about 16.1 and zeroes the gradient of a row whose true class scores
    below 1e-7, as the binary loss's clip does.
    ``clipped=False`` (``scores`` are the logits): the exact loss, as tf.keras 2 (the 2nd edition's) computed it
    inside ``fit``, where it unwraps a softmax output to its logits.
    """
    if not clipped:
        logits = scores
        return jax.nn.logsumexp(logits, axis=-1) - jnp.take_along_axis(
            logits, labels[:, None].astype(jnp.int32), axis=-1)[:, 0]
    p = scores / jnp.sum(scores, axis=-1, keepdims=True)
    p = jnp.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)
    return -jnp.take_along_axis(jnp.log(p), labels[:, None].astype(jnp.int32), axis=-1)[:, 0]


def sparse_categorical_correct(probabilities: jax.Array, labels: jax.Array) -> jax.Array:
    """Keras' sparse categorical accuracy: the first highest score is the true class."""
    return (jnp.argmax(probabilities, axis=-1) == labels).astype(jnp.float32)


def mean_squared_error(predictions: jax.Array, targets: jax.Array) -> jax.Array:
    """Per-example loss of a linear output: the mean over its targets, as Keras' ``mse``."""
    return jnp.mean(jnp.square(predictions - targets), axis=-1)


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
