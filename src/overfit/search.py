"""A random search (``search:`` in the config): the tuning loop whose validation score section 4.2 warns leaks.

    search:
      configs: 24                 # configurations drawn, each an experiment named search-01, search-02, …
      space: {width: [2, 4, 8, 16, 32], depth: [1, 2], dropout: [0, 0.5], l2: [0, 0.001], learning_rate: [0.001, 0.003]}

Each configuration is an ordinary experiment entry (``hidden``, ``dropout``,
``regularizer``, ``learning_rate``); a protocol trains them all when it says
``experiments: search``. They are narrow, so each protocol trains them as stacks
(one per learning rate) that share each step. scikit-learn's ``ParameterSampler``
draws them without replacement from the config's seed. Free of JAX.
"""

from __future__ import annotations

from overfit.axes import applied
from overfit.seeds import stable_seed

PREFIX = "search-"
BASE = {"hidden": [16, 16]}


def configs(config: dict) -> dict[str, dict]:
    """The drawn configurations as experiment entries, by name (none without a ``search`` block)."""
    search = config.get("search")
    if not search:
        return {}
    from sklearn.model_selection import ParameterSampler  # here: only a config with a search pays its import

    space = {axis: list(values) for axis, values in sorted(search["space"].items())}
    draws = ParameterSampler(space, search["configs"], random_state=stable_seed(config["seed"], "search") % 2**32)
    # each drawn from the book's 16-16-1, changed as a sweep changes its base (overfit.axes)
    return {f"{PREFIX}{i + 1:02d}": applied(BASE, values) for i, values in enumerate(draws)}


def size(config: dict) -> int:
    """How many distinct configurations the space holds (ParameterSampler refuses to draw more)."""
    count = 1
    for values in config["search"]["space"].values():
        count *= len(values)
    return count
