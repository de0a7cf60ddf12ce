"""The experiment grid as the config declares it: which experiment trains under which protocol, and its size.

Free of JAX: Snakemake and the report stage read it without the engine.
"""

from __future__ import annotations

from overfit import search, sweeps


def protocol_experiments(config: dict, protocol: str) -> list[str]:
    """The experiments a protocol trains: its ``experiments`` list, the search's configurations
    (``experiments: search``; its first ``configs`` of them where it says so), or every written experiment."""
    entry = config["protocols"][protocol]
    listed = entry.get("experiments", config["experiments"])
    if listed == "search":
        return list(search.configs(config))[:entry.get("configs")]
    return list(listed)


def parameter_count(hidden: list[int], input_dim: int) -> int:
    """Weights and biases of the MLP input → hidden… → 1: the book's measure of capacity."""
    sizes = [input_dim, *hidden, 1]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def conv_blocks(side: int, filters) -> list[tuple[int, int, int]]:
    """A convnet's blocks on square one-channel images of ``side`` pixels (engine.dense's ``conv``): per block, the
    side of its 3×3 "valid" convolution's output, its channels in and out. Each block's 2×2 pooling then halves
    the side, rounding down as Keras' does; the last block's pooled side is ``pooled_side``."""
    blocks, channels = [], 1
    for out in filters:
        blocks.append((side - 2, channels, out))
        side, channels = (side - 2) // 2, out
    return blocks


def pooled_side(side: int, filters) -> int:
    """The side of the maps a convnet's last pooling leaves (below 1: nothing of the image is left)."""
    for convolved, _, _ in conv_blocks(side, filters):
        side = convolved // 2
    return side


# From this first-layer width on (config `wide_from`), a model trains alone: its step is dense
# matmul work. Narrower ones train as stacks that share each step (overfit.engine.train).
WIDE_FROM = 256


def is_wide(config: dict, hidden: list[int]) -> bool:
    return hidden[0] >= config.get("wide_from", WIDE_FROM)


def protocol_models(config: dict, protocol: str, repeats: int | None = None) -> int:
    """Models one experiment trains under the protocol: folds × repeats × seeds (a kind without folds has one).

    ``repeats``: only the first so many repeats (a sweep's points); their runs come first in run order.
    """
    entry = config["protocols"][protocol]
    used = entry.get("repeats", 1) if repeats is None else min(repeats, entry.get("repeats", 1))
    # a nested K-fold's runs are its inner folds: folds × inner_folds
    return entry.get("folds", 1) * entry.get("inner_folds", 1) * used * entry.get("seeds", 1)


def wide_runs(config: dict, protocol: str) -> list[int]:
    """The runs a wide experiment trains under the protocol: all, or of each fold only the first ``wide_seeds``
    seeds (their initial batches and order are those of the narrow experiments' runs of the same indices)."""
    entry = config["protocols"][protocol]
    seeds, kept = entry.get("seeds", 1), entry.get("wide_seeds", entry.get("seeds", 1))
    return [run for run in range(protocol_models(config, protocol)) if run % seeds < kept]


def training_jobs(config: dict) -> dict[tuple[str, str], dict]:
    """The training jobs, keyed by (protocol, job name): the experiments each trains and which of the protocol's runs.

    - The narrow experiments of a protocol that share their training settings
      are one job (a stack): ``narrow``, or ``narrow_2``… when settings differ.
    - A wide experiment is a job of its own, split into parts of at most
      ``wide_models_per_job`` runs (0: one part) so that a cluster can run the
      parts side by side: ``bigger_1024``, or ``bigger_1024.part1``….
    - A sweep's point is a job of its own under the sweep's protocol (named as
      the point), so that editing a grid value trains only the points it makes.
    """
    jobs = {}
    per_job = config.get("wide_models_per_job", 0)
    entries = sweeps.entries(config)
    for protocol in config["protocols"]:
        models = protocol_models(config, protocol)
        stacks: dict[str, list[str]] = {}
        for name in protocol_experiments(config, protocol):
            entry = entries[name]
            if is_wide(config, entry["hidden"]):
                runs = wide_runs(config, protocol)
                size = per_job or len(runs)
                parts = -(-len(runs) // size)
                for part in range(parts):
                    job = name if parts == 1 else f"{name}.part{part + 1}"
                    jobs[protocol, job] = {"experiments": [name], "runs": runs[part * size:(part + 1) * size]}
            else:
                settings = repr(sorted((k, v) for k, v in entry.items() if k not in ("hidden", "regularizer", "dropout")))
                stacks.setdefault(settings, []).append(name)
        for i, members in enumerate(stacks.values()):
            jobs[protocol, "narrow" if i == 0 else f"narrow_{i + 1}"] = {"experiments": members, "runs": list(range(models))}
    for name, point in sweeps.points(config).items():
        jobs[point.protocol, name] = {"experiments": [name], "runs": list(range(protocol_models(config, point.protocol, point.repeats)))}
    return jobs


def metric_sources(jobs: dict[tuple[str, str], dict], experiment: str, protocol: str) -> list[str]:
    """Of ``training_jobs``, those whose outputs hold an experiment's rows under a protocol, in run order."""
    return [job for (p, job), spec in jobs.items() if p == protocol and experiment in spec["experiments"]]
