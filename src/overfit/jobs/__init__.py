"""What each Snakemake job does: read the job's inputs and params, call the library, write outputs.

One module per stage (``data``, ``train``, ``report``), so that editing one
stage's job reruns only that stage.

Each function takes the ``snakemake`` object a rule's script receives (any
object with ``input``, ``output``, ``params``, ``threads``, ``log``), so the
rules stay declarations and the tests can call a job without Snakemake.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from overfit.errors import OverfitError

log = logging.getLogger("overfit")


def run(job, task) -> None:
    """Run ``task(job)`` with logging to the job's log file and stderr; exit 1 on a user error."""
    terminal = logging.StreamHandler(sys.stderr)
    terminal.addFilter(EverySoOften(30.0))
    handlers = [terminal]
    if getattr(job, "log", None):
        Path(job.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(job.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {_label(job)}: %(message)s", handlers=handlers, force=True)
    compilation_cache()
    try:
        task(job)
    except OverfitError as exc:
        log.error("ERROR: %s", exc)
        sys.exit(1)
    # what this job really ran: the rules' code inputs (overfit.imports) must cover it, and a test checks they do
    log.info("package modules loaded: %s", " ".join(sorted(m for m in sys.modules if m == "overfit" or m.startswith("overfit."))))


def compilation_cache() -> None:
    """Let JAX keep compiled programs on disk, shared by the jobs of this working directory.

    Most jobs compile what another already compiled (the same model's initialisation ops, a sweep's points of one
    shape): loading it instead saves a second or two a job, and it is the same program, so the numbers do not change.
    ``OVERFIT_JAX_CACHE`` names the folder (default ``.snakemake/jax-cache``; empty: no cache). Set before the job
    imports JAX, which reads these variables when it starts.
    """
    folder = os.environ.get("OVERFIT_JAX_CACHE", os.path.join(".snakemake", "jax-cache"))
    if folder:
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.abspath(folder))
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


def _label(job) -> str:
    """The job as the terminal names it: its rule and wildcards ("train bigger/kfold")."""
    wildcards = getattr(job, "wildcards", None)
    values = "/".join(str(v) for v in wildcards) if wildcards else ""
    return " ".join(part for part in (getattr(job, "rule", "overfit"), values) if part)


class EverySoOften(logging.Filter):
    """Lets a progress record (``extra={"progress": True}``) through to the terminal at most every ``seconds``.

    The job's log file gets every line; the terminal, shared by every job
    running at once, gets enough to see that each job moves and how long it
    has left.
    """

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.last = seconds, float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "progress", False):
            return True
        if record.created - self.last >= self.seconds:
            self.last = record.created
            return True
        return False
