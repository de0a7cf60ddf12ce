"""RMSprop exactly as each edition's Keras computed it, and Keras' Adam, as optax transformations.

Where epsilon sits matters here: the 10,000-wide first layer has many rare
words whose accumulators stay tiny, and ``g / (sqrt(a) + 1e-8)`` (Keras
2.0.8, 1st edition) takes different first steps from ``g / (sqrt(a) + 1e-7)``
(tf.keras 2, 2nd edition: optimizer_v2's RMSprop without momentum computes
``var - lr * g / (sqrt(rms) + epsilon)`` itself; only with momentum does it
call ApplyRMSProp, epsilon inside), from ``g / sqrt(a + 1e-7)`` (Keras 3, 3rd
edition) and from optax.rmsprop's default. All keep a zero-initialised
accumulator and no bias correction. tests/oracle checks each against that Keras.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

EDITIONS = {
    1: {"epsilon": 1e-8, "epsilon_inside_sqrt": False},  # Keras 2.0.8
    2: {"epsilon": 1e-7, "epsilon_inside_sqrt": False},  # tf.keras 2.x (optimizer_v2, momentum 0)
    3: {"epsilon": 1e-7, "epsilon_inside_sqrt": True},  # Keras 3
}


class AdamState(NamedTuple):
    count: jax.Array
    first: optax.Params  # running mean of gradients
    second: optax.Params  # running mean of squared gradients


def keras_adam(learning_rate: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-7) -> optax.GradientTransformation:
    """Adam as Keras (2.x and 3) computes it: the bias correction folded into the step size and epsilon added to
    the uncorrected ``sqrt(v)``, ``p - lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``. ``optax.adam``
    adds epsilon to the corrected ``sqrt(v_hat)``: the same until ``v`` is about epsilon² in size."""
    def init(params):
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        return AdamState(jnp.zeros((), jnp.int32), zeros(), zeros())

    def update(grads, state, params=None):
        del params
        count = state.count + 1
        first = jax.tree.map(lambda m, g: m + (g - m) * (1.0 - beta_1), state.first, grads)
        second = jax.tree.map(lambda v, g: v + (g * g - v) * (1.0 - beta_2), state.second, grads)
        t = count.astype(jnp.float32)
        rate = learning_rate * jnp.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
        updates = jax.tree.map(lambda m, v: -rate * m / (jnp.sqrt(v) + epsilon), first, second)
        return updates, AdamState(count, first, second)

    return optax.GradientTransformation(init, update)


class RMSpropState(NamedTuple):
    accumulator: optax.Params  # running mean of squared gradients, starts at zero


def keras_rmsprop(learning_rate: float = 1e-3, rho: float = 0.9, epsilon: float = 1e-8,
                  epsilon_inside_sqrt: bool = False) -> optax.GradientTransformation:
    def init(params):
        return RMSpropState(jax.tree.map(jnp.zeros_like, params))

    def update(grads, state, params=None):
        del params
        accumulator = jax.tree.map(lambda a, g: rho * a + (1.0 - rho) * g * g, state.accumulator, grads)
        if epsilon_inside_sqrt:
            step = lambda g, a: -learning_rate * g / jnp.sqrt(a + epsilon)
        else:
            step = lambda g, a: -learning_rate * g / (jnp.sqrt(a) + epsilon)
        return jax.tree.map(step, grads, accumulator), RMSpropState(accumulator)

    return optax.GradientTransformation(init, update)


def rmsprop_for_edition(edition: int, learning_rate: float = 1e-3) -> optax.GradientTransformation:
    return keras_rmsprop(learning_rate=learning_rate, rho=0.9, **EDITIONS[edition])


def with_weight_decay(optimizer: optax.GradientTransformation, step_decay: float) -> optax.GradientTransformation:
    """``optimizer``, then every hidden kernel shrunk by ``step_decay`` × itself each step (decoupled weight decay,
    as AdamW's: the shrinking bypasses RMSprop's scaling, unlike an L2 penalty's gradient, which RMSprop divides
    by its running gradient size). Biases and the output kernel are left alone, as the book's L2 leaves them.
    0: the optimizer unchanged (bit for bit).
    """
    if not step_decay:
        return optimizer

    def hidden_kernels(params):
        return jax.tree.map(lambda _: False, params) | {"kernels": [True] * (len(params["kernels"]) - 1) + [False]} \
            if isinstance(params, dict) else tuple(hidden_kernels(p) for p in params)

    return optax.chain(optimizer, optax.add_decayed_weights(-step_decay, mask=hidden_kernels))


OPTIMIZERS = ("rmsprop", "adam", "sgd")


def keras_optimizer(name: str, learning_rate: float, edition: int) -> optax.GradientTransformation:
    """The optimizer a config names: "rmsprop" (the edition's Keras), "adam" (Keras' defaults but the rate) or
    "sgd" (Keras' SGD without momentum, ``w -= learning_rate × gradient``: where an L2 penalty and weight decay are
    one update, as the book's "also called weight decay" means)."""
    if name == "rmsprop":
        return rmsprop_for_edition(edition, learning_rate)
    if name == "adam":
        return keras_adam(learning_rate)
    if name == "sgd":
        return optax.sgd(learning_rate)
    raise ValueError(f"no optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")
