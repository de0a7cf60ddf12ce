"""Before a run: lift a lock that a killed run left behind, refuse one that a live run holds.

Usage (the Makefile runs it before Snakemake)::

    python workflow/stale_lock.py [FOLDER]

FOLDER is the run's working directory (default: the current one). A run
killed with kill -9 (or a lost terminal, or a crash) leaves Snakemake's lock
files in FOLDER/.snakemake/locks, and the next run stops with "Directory
cannot be locked". This script decides whether the lock is stale:

- a Snakemake process still holds it when some process works in FOLDER (its
  current directory, /proc/PID/cwd: Snakemake changes into its working
  directory, ``--directory`` included, before it takes the lock) and is
  Snakemake itself (``snakemake ...``, ``python .../bin/snakemake ...``,
  ``python -m snakemake ...``) or one of its jobs (a script under
  ``.snakemake/scripts/``: a job left running by a Snakemake killed alone
  still writes outputs). The script's own parents (make and its shell) do
  not count. Then it refuses, naming each such process's PID (exit 1).
- otherwise the lock is stale: it removes the lock files it found (what
  ``snakemake --unlock`` does, without parsing the workflow, and only those
  files: a run that starts meanwhile makes lock files of its own), removes
  the temporaries that killed jobs left beside their outputs (``.NAME.*.part``
  under results/ and resources/, overfit.files.atomic_path's names; never
  read as results, but left behind), and says so in one line (exit 0).

Only processes this user may inspect are seen, and only on this machine: a
run in the same folder on another machine (a shared file system) or under
another user is invisible. Without /proc (not Linux) it cannot tell, and
says how to lift the lock by hand (exit 1). No lock: nothing to do (exit 0),
except the temporaries of killed jobs, removed when no Snakemake runs here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def is_snakemake(argv: list[str]) -> bool:
    """Snakemake itself, started any of the usual ways, or a job's script that Snakemake runs."""
    if any(os.path.basename(arg) == "snakemake" for arg in argv[:2]):
        return True
    if any(a == "-m" and b == "snakemake" for a, b in zip(argv, argv[1:])):
        return True
    return any("/.snakemake/scripts/" in arg or arg.startswith(".snakemake/scripts/") for arg in argv)


def ancestors(pid: int) -> set[int]:
    """``pid`` and its parents up to init."""
    seen = set()
    while pid > 0 and pid not in seen:
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rpartition(")")[2].split()[1])  # the field after the state; the name may hold spaces
    return seen


def snakemake_processes(folder: Path) -> list[tuple[int, list[str]]]:
    """(PID, argv) of each Snakemake process or job working in ``folder``, Snakemake's own first."""
    mine = ancestors(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            argv = (entry / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:  # gone, a zombie, or another user's
            continue
        argv = [arg.decode(errors="replace") for arg in argv]
        if cwd == str(folder) and is_snakemake(argv):
            found.append((int(entry.name), argv))
    return sorted(found, key=lambda p: (any(".snakemake/scripts/" in a for a in p[1]), p[0]))


def partial_files(folder: Path) -> list[Path]:
    """Temporaries that killed jobs left beside their outputs (``.NAME.XXXX[SUFFIX].part``)."""
    return sorted(path for sub in ("results", "resources") for path in (folder / sub).rglob(".*.part")
                  if path.is_file())


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else ".").resolve()
    locks = sorted((folder / ".snakemake" / "locks").glob("*.lock"))
    if not Path("/proc/self/cwd").exists():
        if locks:
            print(f"{folder} is locked (.snakemake/locks) and without /proc this cannot tell whether a snakemake "
                  f"still runs there. If none does, lift the lock (finished jobs are kept) and start again: "
                  f"snakemake --unlock --directory {folder}", file=sys.stderr)
            return 1
        return 0
    running = snakemake_processes(folder)
    if running:
        if not locks:
            return 0  # Snakemake itself decides whether the runs' files overlap
        named = "; ".join(f"PID {pid}: {' '.join(args)[:160]}" for pid, args in running[:4])
        more = f"; and {len(running) - 4} more" if len(running) > 4 else ""
        first = running[0][0]
        print(f"{folder} is locked by a snakemake run in progress ({named}{more}). Wait for it to finish, or stop it "
              f"(kill {first}; the jobs it finished are kept) and start again.", file=sys.stderr)
        return 1
    removed = []
    for lock in locks:
        try:
            lock.unlink()
            removed.append(lock)
        except FileNotFoundError:  # lifted meanwhile
            pass
    partial = partial_files(folder)
    for path in partial:
        path.unlink(missing_ok=True)
    what = []
    if removed:
        what.append(f"lifted the lock a killed run left ({', '.join(lock.name for lock in removed)} in "
                    f".snakemake/locks): no snakemake runs in {folder}")
    if partial:
        what.append(f"removed {len(partial)} temporary file(s) of killed jobs "
                    f"({', '.join(str(p.relative_to(folder)) for p in partial[:3])}{', …' if len(partial) > 3 else ''})")
    if what:
        line = "; ".join(what)
        print(line[0].upper() + line[1:] + ". Finished jobs are kept; jobs that were running start again.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
