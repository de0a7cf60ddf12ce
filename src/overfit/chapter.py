"""The chapter's declaration (config/chapter.yaml) and the roles that tie it to a config's experiments.

The chapter names roles ("the reference model", "the capacity ladder", "the
book's 4.4 protocol"); a config's ``roles:`` section says which of its
experiments and protocols play them. Everything that needs to know which
experiment is the reference asks here. Free of JAX: Snakemake imports it
while it builds the DAG.
"""

from __future__ import annotations

from pathlib import Path

from overfit import sweeps
from overfit.errors import ConfigError
from overfit.files import load_yaml
from overfit.grid import parameter_count

# Roles an experiment (or a list of experiments) plays, and roles a protocol plays.
EXPERIMENT_ROLES = ("reference", "smaller", "bigger", "l2", "dropout", "capacity", "decoupled_decay", "memorizer",
                    "l2_sgd", "decoupled_decay_sgd", "memorizer_narrow", "memorizer_wide",
                    # double descent: at and past the interpolation point, with the book's loss and the exact one
                    "interpolation_point", "interpolation_past", "interpolation_point_exact", "interpolation_past_exact")
# Roles a sweep plays (config ``sweeps:``): a curve of experiments, ordered by overfit.report.sweeps.ordered.
SWEEP_ROLES = ("capacity_map", "l2_strength", "l1_strength", "dropout_rate", "data_size", "memorization_capacity")
# The validation protocols the search is tuned on (overfit.report.tuning), in the report's order.
TUNING_ROLES = ("tuning_small", "tuning_large", "tuning_kfold", "tuning_nested")
PROTOCOL_ROLES = ("book_4_4", "book_3_5", "folded", "random_folds",
                  # section 4.2 measured (overfit.report.audit, overfit.report.tuning); audited: a list
                  "audited", "holdout_small", "holdout_large", "holdout_of_fold", "kfold_of_fold", "grouped_holdout",
                  "sorted_split", "sorted_class_split", "time_split", *TUNING_ROLES)
FIT_STATISTICS = ("test_acc", "test_loss", "test_data_loss")  # columns of results/test_scores.csv


def load(path: str | Path) -> dict:
    return load_yaml(path)


def role(config: dict, name: str) -> str | list[str] | None:
    """The experiment(s) or protocol a config gives a role (None: no such role in this config)."""
    return config.get("roles", {}).get(name)


def by_capacity(config: dict, names: list[str]) -> list[str]:
    """Experiments ordered by their number of parameters (the capacity role's order is derived, not declared)."""
    input_dim, entries = config["data"]["imdb"]["num_words"], sweeps.entries(config)
    return sorted(names, key=lambda name: parameter_count(entries[name]["hidden"], input_dim))


def check_roles(config: dict) -> None:
    """Refuse roles that name experiments or protocols the config does not have."""
    roles = config.get("roles", {})
    for name, value in roles.items():
        names = value if isinstance(value, list) else [value]
        if name in PROTOCOL_ROLES:
            missing = [n for n in names if n not in config["protocols"]]
            kind, have = "protocol", config["protocols"]
        elif name in EXPERIMENT_ROLES:
            have = sweeps.entries(config)  # a sweep's point may play a role
            missing = [n for n in names if n not in have]
            kind = "experiment"
        elif name in SWEEP_ROLES:
            have = config.get("sweeps", {})
            missing = [n for n in names if n not in have]
            kind = "sweep"
        else:
            raise ConfigError(f"roles.{name}: not a role of the chapter (experiment roles: {', '.join(EXPERIMENT_ROLES)}; "
                              f"protocol roles: {', '.join(PROTOCOL_ROLES)}; sweep roles: {', '.join(SWEEP_ROLES)})")
        article = "an" if kind == "experiment" else "a"
        if missing:
            raise ConfigError(f"roles.{name}: {', '.join(map(repr, missing))} is not {article} {kind} of the config "
                              f"(have: {', '.join(have)}); rename the role's entry along with the {kind}")


# what a claim on an imbalanced task's out-of-fold predictions reads (overfit.recipe.threshold)
THRESHOLD_STATISTICS = ("f1", "precision", "recall", "average_precision")


def check_chapter(chapter: dict, statistics: set[str] | None = None, study_statistics: set[str] | None = None) -> None:
    """Refuse claim rows that name roles or statistics that do not exist."""
    seen = set()
    for row in chapter.get("claims", []):
        where = f"chapter claim {row.get('id')!r}"
        if row["id"] in seen:
            raise ConfigError(f"{where}: the id is used twice")
        seen.add(row["id"])
        for name in [*row.get("of", []), *row.get("compare", []),
                     *([row["trend"]] if row.get("trend") not in (None, *SWEEP_ROLES) else [])]:
            if name not in EXPERIMENT_ROLES:
                raise ConfigError(f"{where}: {name!r} is not an experiment role (have: {', '.join(EXPERIMENT_ROLES)})")
        if "train_sizes" in row and "compare" not in row:
            raise ConfigError(f"{where}: train_sizes says on how many reviews each side of a compare is read; this row "
                              "compares nothing (give compare: [a, b], or leave train_sizes out)")
        for name in [*row.get("protocols", []), *row.get("study", [])]:
            if name not in PROTOCOL_ROLES:
                raise ConfigError(f"{where}: {name!r} is not a protocol role (have: {', '.join(PROTOCOL_ROLES)})")
        if "fit" in row:
            if row["statistic"] not in FIT_STATISTICS:
                raise ConfigError(f"{where}: a final fit's statistic is a test score ({', '.join(FIT_STATISTICS)}), "
                                  f"not {row['statistic']!r}")
        elif "recipe" in row:
            if row["statistic"] != "rise":
                raise ConfigError(f"{where}: the recipe's statistic is rise (of a rung's validation loss), not "
                                  f"{row['statistic']!r}")
        elif "threshold" in row:
            if row["statistic"] not in THRESHOLD_STATISTICS:
                raise ConfigError(f"{where}: an imbalanced task's statistic is one of {', '.join(THRESHOLD_STATISTICS)}, "
                                  f"not {row['statistic']!r}")
        elif "duplicates" in row:
            if row["statistic"] != "lift":
                raise ConfigError(f"{where}: the duplicates' statistic is lift (trained with them − without), not "
                                  f"{row['statistic']!r}")
        elif "clock" in row:
            if row["statistic"] != "mean_error":
                raise ConfigError(f"{where}: the clock's statistic is mean_error (minutes), not {row['statistic']!r}")
        elif "study" in row:
            if study_statistics is not None and row["statistic"] not in study_statistics:
                raise ConfigError(f"{where}: no statistic of protocols {row['statistic']!r} (have: "
                                  f"{', '.join(sorted(study_statistics))})")
        elif statistics is not None and row["statistic"] not in statistics:
            raise ConfigError(f"{where}: no statistic {row['statistic']!r} (have: {', '.join(sorted(statistics))})")
        if "requires" in row and row["requires"] not in {r["id"] for r in chapter["claims"]}:
            raise ConfigError(f"{where}: requires {row['requires']!r}, which is not a claim")
