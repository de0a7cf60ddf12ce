"""What each Snakemake job does: read the job's inputs and params, call the library, write outputs.

One module per stage (``data``, ``train``, ``report``), so that editing one
stage's job reruns only that stage.

Each function takes the ``snakemake`` object a rule's script receives (any
object with ``input``, ``output``, ``params``, ``threads``, ``log``), so the
rules stay declarations and the tests can call a job without Snakemake.
"""

from __future__ import annotations

import contextlib
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


def compilation_cache(job=None) -> None:
    """Let JAX keep compiled programs on disk, shared by the jobs of this working directory (or of a cluster).

    Most jobs compile what another already compiled (the same model's initialisation ops, a sweep's points of one
    shape): loading it instead saves a second or two a job, and it is the same program, so the numbers do not change.
    The folder, first of: ``OVERFIT_JAX_CACHE`` in the environment (empty: no cache); the job's resource
    ``jax_cache`` (the SLURM profile's ``default-resources`` can set it for every job: a folder on a file system
    every node sees); ``.snakemake/jax-cache`` in the working directory. ``job`` is the ``snakemake`` object of the
    job (found in the job's script when not given). Set before the job imports JAX, which reads these variables
    when it starts.

    Many jobs, on many nodes, write that folder at once. JAX writes an entry in place (``Path.write_bytes``), so a
    job reading it meanwhile, or a job killed halfway, could leave or see part of one; here each entry is written
    to a temporary file of its own and renamed into place, which readers see whole or not at all
    (:func:`_atomic_cache_writes`).
    """
    folder = os.environ.get("OVERFIT_JAX_CACHE")
    if folder is None:
        if job is None:  # a rule's script: Snakemake put its `snakemake` object in the script's globals
            job = getattr(sys.modules.get("__main__"), "snakemake", None)
        resources = getattr(job, "resources", None)
        folder = resources.get("jax_cache") if hasattr(resources, "get") else None
        if folder is None:
            folder = os.path.join(".snakemake", "jax-cache")
        elif not isinstance(folder, str):
            raise OverfitError(f"the resource jax_cache must be a folder (a string), not {folder!r}: fix "
                               f"default-resources in the profile (workflow/profiles/slurm/config.yaml)")
    if folder:
        # set, not defaulted: a folder inherited from the process that started the job (another job's, or a
        # test's that ran a job in its own process) must not win over this job's own
        os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.abspath(folder)
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
        _atomic_cache_writes()
    else:  # no cache, whatever the starting process had
        os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)


_CACHE_MODULE = "jax._src.lru_cache"


def _atomic_cache_writes() -> None:
    """Make JAX's on-disk cache write each entry atomically: a temporary file of this process, then a rename.

    Applied when JAX's cache module is imported (now, if it already is): a job that never imports JAX does not
    pay for importing it here.
    """
    module = sys.modules.get(_CACHE_MODULE)
    if module is not None:
        _patch_cache(module)
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


class _PatchOnImport:
    """An import hook that patches JAX's cache module right after Python runs it."""

    def find_spec(self, name, path=None, target=None):
        if name != _CACHE_MODULE:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name.rpartition(".")[2], path)
        if spec is None or spec.loader is None:
            return None
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _patch_cache(module)

        spec.loader.exec_module = exec_module
        return spec


def _patch_cache(module) -> None:
    cache = module.LRUCache
    if getattr(cache.put, "overfit_atomic", False):
        return
    original = cache.put
    suffix = module._CACHE_SUFFIX

    def put(self, key: str, value: bytes) -> None:
        folder = str(self.path)
        if not key or "://" in folder or (self.eviction_enabled and len(value) > self.max_size):
            return original(self, key, value)  # its errors and warnings; a remote folder: JAX's own writes
        target = os.path.join(folder, f"{key}{suffix}")
        if os.path.exists(target):
            return
        if self.eviction_enabled:  # JAX's lock keeps readers and the eviction out meanwhile
            self.lock.acquire(timeout=self.lock_timeout_secs)
        try:
            if self.eviction_enabled:
                self._evict_if_needed(additional_size=len(value))
            write_atomically(target, value)
            if self.eviction_enabled:
                atime = os.path.join(folder, f"{key}{module._ATIME_SUFFIX}")
                write_atomically(atime, __import__("time").time_ns().to_bytes(8, "little"))
        finally:
            if self.eviction_enabled:
                self.lock.release()

    put.overfit_atomic = True
    cache.put = put


def write_atomically(target: str, value: bytes) -> None:
    """Write ``value`` to a temporary file beside ``target`` (its name this process's, not the cache's suffix),
    flush it to disk, and rename it over ``target``: another process sees the whole file or none."""
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.",
                                         suffix=f".{os.getpid()}.tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(value)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


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
