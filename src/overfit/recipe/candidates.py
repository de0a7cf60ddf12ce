"""The models the recipe tries at each step, as experiment entries (``hidden``, ``dropout``, ``regularizer``). Free of JAX.

- step 4, power: the config's list of hidden layers, smallest first;
- step 5, scale up: a ladder from a model too small to overfit (``scale_up.from``,
  e.g. one unit) widened (every layer × ``widen``) and deepened (``deepen`` more
  layers of the last width), rung by rung, up past step 4's model;
- step 6, tune: configurations drawn from the config's space (dropout, L1,
  L2, ``widen``) around the model that overfit, by scikit-learn's
  ``ParameterSampler`` as the search of section 4.2 draws its own.
"""

from __future__ import annotations

import json

from overfit import search
from overfit.recipe.decide import name_of
from overfit.seeds import stable_seed


def power(recipe: dict) -> dict[str, dict]:
    return {name_of(hidden): {"hidden": [int(h) for h in hidden]} for hidden in recipe["power"]}


def widened(hidden: list[int], widen: float = 1.0, deepen: int = 0) -> list[int]:
    wider = [max(1, int(round(h * widen))) for h in hidden]
    return wider + [wider[-1]] * int(deepen)


def scale_up(recipe: dict) -> dict[str, dict]:
    """The ladder, smallest first: its start widened and deepened by each rung. It starts below any model that
    could overfit, so that the rung where overfitting starts is found, not assumed."""
    ladder = recipe["scale_up"]
    out = {}
    for rung in ladder["rungs"]:
        bigger = widened(ladder["from"], rung.get("widen", 1.0), rung.get("deepen", 0))
        out.setdefault(name_of(bigger), {"hidden": bigger})
    return out


def tune(recipe: dict, hidden: list[int], seed: int, task: str) -> dict[str, dict]:
    draws = search.draw(recipe["tune"]["space"], recipe["tune"]["configs"], stable_seed(seed, "recipe", "tune", task))
    out = {}
    for i, values in enumerate(draws):
        entry = {"hidden": widened(hidden, values.get("widen", 1.0)), "dropout": float(values.get("dropout", 0.0))}
        regularizer = {k: float(values[k]) for k in ("l1", "l2") if values.get(k)}
        if regularizer:
            entry["regularizer"] = regularizer
        out[f"tune-{i + 1:02d}"] = entry
    return out


def describe(entry: dict) -> str:
    """An entry in a few words: "32-32, dropout 0.3, l2 0.001"."""
    parts = [name_of(entry["hidden"])]
    if entry.get("dropout"):
        parts.append(f"dropout {entry['dropout']:g}")
    parts += [f"{k} {v:g}" for k, v in entry.get("regularizer", {}).items()]
    return ", ".join(parts)


def encode(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True)


def decode(text: str) -> dict:
    return json.loads(text)
