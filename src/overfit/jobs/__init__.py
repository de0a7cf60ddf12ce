"""What each Snakemake job does: read the job's inputs and params, call the library, write outputs.

One module per stage (``data``, ``train``, ``report``), so that editing one
stage's job reruns only that stage.

Each function takes the ``snakemake`` object a rule's script receives (any
object with ``input``, ``output``, ``params``, ``threads``, ``log``), so the
rules stay declarations and the tests can call a job without Snakemake.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from overfit.errors import OverfitError

log = logging.getLogger("overfit")


def run(job, task) -> None:
    """Run ``task(job)`` with logging to the job's log file and stderr; exit 1 on a user error."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if getattr(job, "log", None):
        Path(job.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(job.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", handlers=handlers, force=True)
    try:
        task(job)
    except OverfitError as exc:
        log.error("ERROR: %s", exc)
        sys.exit(1)
