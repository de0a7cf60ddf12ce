"""The command ``python -m overfit.checks FILE [OVERRIDE …]``: a config file checked as the Snakefile checks it."""

from __future__ import annotations

import sys
from pathlib import Path

from overfit.errors import ConfigError
from overfit.files import load_yaml


def merged(base: dict, override: dict) -> dict:
    """``override`` over ``base`` as Snakemake merges a ``--configfile``: mappings key by key, anything else replaced."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def check_file(path: str | Path, schema: str | Path, *overrides: str | Path) -> dict:
    """A config file (with ``overrides`` merged over it, as ``--configfile`` does) checked as the Snakefile checks
    it: YAML, schema (with the key path), then overfit.checks.check_config."""
    import jsonschema

    from overfit.checks import check_config

    config = load_yaml(path)
    for override in overrides:
        config = merged(config, load_yaml(override))
    validator = jsonschema.Draft202012Validator(load_yaml(schema))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        # of a oneOf (a sweep's grid: one grid or a list of them), the error deepest in the config names the key
        error = jsonschema.exceptions.best_match([errors[0]])
        key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise ConfigError(f"{path}: {key}: {error.message}")
    check_config(config)
    return config


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[3]
    path, *overrides = argv or ["config/config.yaml"]
    try:
        check_file(path, root / "workflow" / "schemas" / "config.schema.yaml", *overrides)
    except ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(f"{' + '.join([path, *overrides])}: valid")
    return 0
