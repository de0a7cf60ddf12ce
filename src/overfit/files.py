"""Writing outputs so that a killed run never leaves a file that looks finished; reading YAML with clear errors."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import yaml

from overfit.errors import ConfigError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yield a temporary path beside ``path``; move it into place only on success.

    The temporary file lives in the same folder so that the final ``os.replace``
    is atomic: readers see either nothing or the complete file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix + ".part")
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide results from the group running the pipeline
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_yaml(path: str | os.PathLike) -> dict:
    """A YAML file as a dict; a syntax error names the file, line and column."""
    try:
        with open(path, encoding="utf-8") as stream:
            return yaml.safe_load(stream)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc.context}; fix the file there") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
