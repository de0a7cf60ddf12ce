"""What each Snakemake job does: read the job's inputs and params, call the library, write outputs.

One module per stage (``data``, ``train``, ``report``), so that editing one
stage's job reruns only that stage.

Each function takes the ``snakemake`` object a rule's script receives (any
object with ``input``, ``output``, ``params``, ``threads``, ``log``), so the
rules stay declarations and the tests can call a job without Snakemake.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
from pathlib import Path

from overfit.errors import OverfitError

log = logging.getLogger("overfit")


def run(job, task) -> None:
    """Run ``task(job)``, then exit 1 on any failure.

    The job's log file gets every line and every failure with its traceback (and, should native code crash the
    process, the Python stack of each thread: ``faulthandler``). The terminal, shared by every job running at once,
    gets progress now and then and one line per failure: the job, its log, and the fix where it is known (a problem
    of the data or config, ``OverfitError``, says it).
    """
    terminal = logging.StreamHandler(sys.stderr)
    terminal.addFilter(EverySoOften(30.0))
    terminal.setFormatter(OneLine(f"%(asctime)s {_label(job)}: %(message)s"))
    handlers = [terminal]
    log_file = None
    if getattr(job, "log", None):
        log_file = Path(job.log[0])
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w"))
        faulthandler.enable(handlers[-1].stream)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {_label(job)}: %(message)s", handlers=handlers, force=True)
    compilation_cache()
    try:
        task(job)
    except Exception as exc:  # every failure, ours or not, reaches the log: a job never fails silently
        log.error("ERROR: %s", failure(exc, log_file), exc_info=exc)
        sys.exit(1)
    # what this job really ran: the rules' code inputs (overfit.imports) must cover it, and a test checks they do
    log.info("package modules loaded: %s", " ".join(sorted(m for m in sys.modules if m == "overfit" or m.startswith("overfit."))))


def failure(exc: Exception, log_file: Path | None) -> str:
    """What a failed job says: the user's problem and its fix, or, for anything else, where its traceback is."""
    where = f"the traceback is in {log_file}" if log_file else "the traceback follows"
    if isinstance(exc, OverfitError):
        return f"{exc} ({where})"
    if isinstance(exc, MemoryError):
        return (f"out of memory ({where}): run fewer jobs at once (snakemake --cores) or on a machine with more "
                f"memory; the rule's mem_mb says what it was expected to need")
    return (f"{type(exc).__name__}: {exc}. This is not a problem of the data or config that overfit knows of, but a "
            f"bug in overfit or in a library it calls: {where}; please report it with that file")


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


class OneLine(logging.Formatter):
    """The terminal's format: a failure's message without its traceback (the job's log file has it)."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


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
