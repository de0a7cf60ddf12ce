"""What the config schema cannot say, checked before any job runs (the Snakefile calls check_config).

Also a command that checks a config file on its own, as ``make reproduce``
does before it starts the pipeline:

    python -m overfit.checks [config/config.yaml [config/full.yaml …]]

It reports a YAML syntax error with its file, line and column, a schema
violation with the key path, the bad value and what is allowed, and every
relation the schema cannot express: settings against the data's sizes
(``sizes``: known before any job, the real data sets' unless the config gives
its own), against each other, and references between sections. Each refusal
names the key, the value and the largest (or smallest) value allowed.
"""

from __future__ import annotations

from overfit.checks.command import check_file, main, merged
from overfit.checks.protocols import check_protocols, check_training_sizes
from overfit.checks.references import check_models, check_references
from overfit.checks.sizes import check_encoding, known_sizes
from overfit.checks.studies import check_images, check_studies

__all__ = ["check_config", "check_file", "check_images", "main", "merged"]


def check_config(config: dict) -> None:
    """Every check, cheapest first: sizes and settings, references, what trains under each protocol, models."""
    sizes = known_sizes(config)
    check_encoding(config)
    check_protocols(config, sizes)
    check_studies(config, sizes)
    check_references(config)
    check_training_sizes(config, sizes)  # after the references: it follows the protocols' experiment lists
    check_models(config)
