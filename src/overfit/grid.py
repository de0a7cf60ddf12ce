"""The experiment grid as the config declares it: which experiment trains under which protocol, and its size.

Free of JAX: Snakemake and the report stage read it without the engine.
"""

from __future__ import annotations


def protocol_experiments(config: dict, protocol: str) -> list[str]:
    """The experiments a protocol trains: its ``experiments`` list, or every experiment."""
    return list(config["protocols"][protocol].get("experiments", config["experiments"]))


def parameter_count(hidden: list[int], input_dim: int) -> int:
    """Weights and biases of the MLP input → hidden… → 1: the book's measure of capacity."""
    sizes = [input_dim, *hidden, 1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
