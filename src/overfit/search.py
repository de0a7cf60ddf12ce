"""A random search (``search:`` in the config): the tuning loop whose validation score section 4.2 warns leaks.

    search:
      configs: 24                 # configurations drawn, each an experiment named search-01, search-02, …
      space: {width: [2, 4, 8, 16, 32], depth: [1, 2], dropout: [0, 0.5], l2: [0, 0.001], learning_rate: [0.001, 0.003]}
      set: {train_size: 4000}     # what every configuration shares (optional)

Each configuration is an ordinary experiment entry (``hidden``, ``dropout``,
``regularizer``, ``learning_rate``); a protocol trains them all when it says
``experiments: search``. They are narrow, so each protocol trains them as stacks
(one per learning rate) that share each step. scikit-learn's ``ParameterSampler``
draws them without replacement from the config's seed. Free of JAX.
"""

from __future__ import annotations

import numpy as np

from overfit.axes import applied
from overfit.seeds import stable_seed

PREFIX = "search-"
BASE = {"hidden": [16, 16]}


def configs(config: dict) -> dict[str, dict]:
    """The drawn configurations as experiment entries, by name (none without a ``search`` block)."""
    search = config.get("search")
    if not search:
        return {}
    draws = draw(search["space"], search["configs"], stable_seed(config["seed"], "search"))
    # in a seeded random order: a draw of the whole space comes in the grid's order, and a protocol that tunes the
    # first few (``configs``) must get a random few
    order = np.random.default_rng(stable_seed(config["seed"], "search", "order")).permutation(len(draws))
    # each drawn from the book's 16-16-1, changed as a sweep changes its base (overfit.axes)
    return {f"{PREFIX}{i + 1:02d}": applied(BASE, {**search.get("set", {}), **draws[k]}) for i, k in enumerate(order)}


def draw(space: dict, count: int, seed: int) -> list[dict]:
    """``count`` distinct settings (axis -> value) drawn from ``space`` (axis -> values), reproducibly from ``seed``;
    the search's and the recipe's tuning (overfit.recipe.candidates)."""
    from sklearn.model_selection import ParameterSampler  # here: only a config that draws pays its import

    axes = {axis: list(values) for axis, values in sorted(space.items())}
    return list(ParameterSampler(axes, count, random_state=seed % 2**32))


def space_size(space: dict) -> int:
    """How many distinct settings a space holds (ParameterSampler refuses to draw more)."""
    count = 1
    for values in space.values():
        count *= len(values)
    return count


def size(config: dict) -> int:
    """How many distinct configurations the search's space holds."""
    return space_size(config["search"]["space"])
