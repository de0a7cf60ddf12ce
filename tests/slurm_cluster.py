"""A real single-node SLURM cluster for the tests: munge, slurmctld and slurmd started on this machine.

Needs root and the Debian packages ``munge slurmctld slurmd slurm-client``
(``.ci/run`` installs them). Every file the cluster writes lives in one
temporary folder, the daemons run in the foreground (``-D``) detached with
``setsid``, and they are stopped by the PIDs recorded here, never by name,
even when the test fails.

One such cluster at a time on a machine: it needs /etc/slurm/slurm.conf and
slurmctld's port, so a second test run (another checkout, another engineer)
would break the first. The harness holds a lock on the machine
(``LOCK``, an ``flock`` the kernel drops if the process dies) while its
cluster runs; a second one waits for it (``OVERFIT_SLURM_WAIT`` seconds,
default 900) and then fails saying who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "srun")
# Inside a job, Snakemake's SLURM plugin drops every SLURM_* variable (SLURM_CONF
# too) before it calls srun, so the config must sit where SLURM looks by default.
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# written by overfit's test harness (tests/slurm_cluster.py); removed when the test ends\n"
LOCK = Path("/run/lock" if Path("/run/lock").is_dir() else "/tmp", "overfit-slurm-test.lock")


def unavailable_reason() -> str | None:
    """Why no cluster can be started here, or None."""
    missing = [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]
    if missing:
        return f"SLURM is not installed ({', '.join(missing)} missing): apt-get install munge slurmctld slurmd slurm-client"
    if os.geteuid() != 0:
        return "starting SLURM daemons needs root"
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.read_text().startswith(MARKER):
        return f"{SYSTEM_CONF} exists: this machine belongs to a real cluster, which the test must not replace"
    return None


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _memory_mb() -> int:
    with open("/proc/meminfo") as meminfo:
        total_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    return total_kb // 1024 - 2048  # leave room for the daemons and the test itself


def slurm_conf(folder: Path, host: str) -> str:
    return f"""ClusterName=overfit-test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={folder}/jobcomp.log
# squeue must still see finished jobs when Snakemake polls (no accounting database here)
MinJobAge=600
SlurmdTimeout=300
InactiveLimit=0
KillWait=5
Waittime=0
NodeName={host} CPUs={os.cpu_count()} RealMemory={_memory_mb()} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _wait(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"SLURM test cluster: {what} did not happen within {timeout:.0f} s")


def _ok(*command: str, env=None) -> bool:
    return subprocess.run(command, capture_output=True, env=env, timeout=30).returncode == 0


@contextlib.contextmanager
def machine_lock(timeout: float | None = None):
    """Hold this machine's test-cluster lock: wait up to ``timeout`` seconds for another holder to let go."""
    if timeout is None:
        timeout = float(os.environ.get("OVERFIT_SLURM_WAIT", "900"))
    with open(LOCK, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.seek(0)
                    raise RuntimeError(f"another test's SLURM cluster has held this machine for {timeout:.0f} s "
                                       f"({LOCK}: {handle.read().strip() or 'holder unknown'}); rerun when it is done "
                                       f"or wait longer with OVERFIT_SLURM_WAIT") from None
                time.sleep(1)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def local_slurm_cluster(folder: Path):
    """Start the cluster, yield the environment (SLURM_CONF) that clients need, stop it whatever happens."""
    with machine_lock():
        yield from _cluster(folder)


def _cluster(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # munged runs as the munge user and must reach its folder inside
    for sub in ("state", "spool"):
        (folder / sub).mkdir(exist_ok=True)
    host = socket.gethostname().split(".")[0]
    conf = SYSTEM_CONF
    conf.parent.mkdir(parents=True, exist_ok=True)
    if conf.exists() and not conf.read_text().startswith(MARKER):
        raise RuntimeError(f"{conf} appeared meanwhile: this machine belongs to a real cluster, which the test must not replace")
    conf.write_text(MARKER + slurm_conf(folder, host))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    processes: list[subprocess.Popen] = []

    def start(name: str, command: list[str]) -> None:
        log = open(folder / f"{name}.out", "w")
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, start_new_session=True))
        (folder / f"{name}.started-pid").write_text(str(processes[-1].pid))

    try:
        munge = folder / "munge"
        munge.mkdir(exist_ok=True)
        shutil.chown(munge, "munge", "munge")
        key = munge / "munge.key"
        subprocess.run([_binary("mungekey"), "--create", "--keyfile", str(key)], check=True, capture_output=True)
        shutil.chown(key, "munge", "munge")
        socket_path = munge / "munge.socket"
        start("munged", ["setpriv", "--reuid=munge", "--regid=munge", "--init-groups", _binary("munged"), "--foreground",
                         f"--key-file={key}", f"--socket={socket_path}", f"--pid-file={munge}/munged.pid",
                         f"--log-file={munge}/munged.log", f"--seed-file={munge}/munged.seed"])
        _wait(socket_path.exists, "munged's socket")
        with conf.open("a") as stream:
            stream.write(f"AuthInfo=socket={socket_path}\n")
        start("slurmctld", [_binary("slurmctld"), "-D", "-i", "-f", str(conf)])
        _wait(lambda: _ok("scontrol", "ping", env=env), "slurmctld answering `scontrol ping`")
        start("slurmd", [_binary("slurmd"), "-D", "-f", str(conf)])

        def node_idle() -> bool:
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env).stdout.strip()
            if state.startswith(("down", "drain")):
                subprocess.run(["scontrol", "update", f"nodename={host}", "state=resume"], capture_output=True, env=env)
            return state.startswith("idle")

        _wait(node_idle, "the node coming up idle")
        _wait(lambda: _ok("srun", "true", env=env), "`srun true`")
        yield env
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        if conf.exists() and f"{folder}/" in conf.read_text() and conf.read_text().startswith(MARKER):
            conf.unlink()  # ours (it names our folder), not another harness's
        for process in reversed(processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
