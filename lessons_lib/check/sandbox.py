"""Where an untrusted submission runs: an OS sandbox when there is one, process limits always.

On Linux the grader wraps the child Python process in Debian's ``bubblewrap`` (``bwrap``):
new namespaces for everything (so no network: the child has only its own, empty,
loopback), a read-only view of only what Python needs (the system's ``/usr``, a few files
of ``/etc`` (`ETC`: not its keys, tokens or password hashes), the Python installation,
the virtual environment and the ``lessons_lib`` package itself, never the repository
with its checks and solutions), and, as the only writable places, a private ``/tmp`` and
the working folder, both small in-memory file systems that vanish with the sandbox. Whether bwrap works is found
out once, by running it; inside some containers it cannot create namespaces.

Inside the sandbox the submission never runs as root. When the grader itself is root
(a CI runner, a container), bwrap runs without a user namespace and the trusted harness
drops to an unused, unprivileged uid (`sandbox_uid`: one per submission, from
200000-299999) before any submission code runs; otherwise bwrap maps the grader's own uid
into a user namespace. Either way the harness then caps the number of processes
(``RLIMIT_NPROC``, which the kernel ignores for root: that is why the uid matters), so a
fork bomb fails inside its own cell, and after each cell it kills whatever that cell
left running in the sandbox's private pid namespace.

Everywhere (and alone where bwrap is missing or fails, or with ``--no-sandbox``) the child
gets process limits: address space (``RLIMIT_AS``), CPU seconds, the size of any file it
writes (``RLIMIT_FSIZE``, which caps its captured output), no core dumps, its own process
group so the whole group can be killed, and an environment built from scratch that holds
nothing of the instructor's. The result says which of the two it got (`Isolation`), so
the grader never claims isolation it did not have: without the sandbox there is no
process-count limit (for root it would not bind; for an ordinary user it would count
every process the instructor runs), and the record says so.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../lessons_lib
HARNESS = Path(__file__).resolve().with_name("_harness.py")
# What a Python process may need from /etc: the dynamic linker, time zones, users, fonts.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "timezone",
       "passwd", "group", "nsswitch.conf", "hosts", "host.conf", "os-release",
       "debian_version", "fonts", "mime.types", "locale.alias", "protocols", "services",
       "magic", "magic.mime")
FOLDER_MB = 128  # size of the sandbox's working folder and of its /tmp
SANDBOX = "bubblewrap"
NO_SANDBOX = "process limits only"
UID_BASE, UID_RANGE = 200_000, 100_000  # the unprivileged uids submissions run as (grader is root)
_uids = itertools.count()

__all__ = ["Isolation", "Limits", "NO_SANDBOX", "SANDBOX", "bwrap_command", "child_environment",
           "choose_isolation", "detect_isolation", "python_command", "sandbox_uid", "set_limits"]


@dataclass(frozen=True)
class Limits:
    """The limits one submission runs under."""

    total_seconds: float = 120.0  # wall time for the whole submission
    cell_seconds: float = 30.0  # wall time for one answer cell (and one call of a function)
    memory_mb: int = 2048  # address space of the child process
    output_bytes: int = 1_000_000  # captured stdout + stderr (and any file it writes)
    processes: int = 64  # processes and threads at once, inside the sandbox

    def __post_init__(self) -> None:
        if not self.total_seconds > 0 or not self.cell_seconds > 0:
            raise ValueError("time limits must be positive numbers of seconds")
        if self.memory_mb < 256:
            raise ValueError(f"memory limit {self.memory_mb} MB is too small for Python "
                             "with numpy and pandas; give at least 256 MB")
        if self.output_bytes < 1_000:
            raise ValueError("the output cap must be at least 1000 bytes")
        if self.processes < 8:
            raise ValueError(f"a process limit of {self.processes} is too small; give at least 8")


@dataclass(frozen=True)
class Isolation:
    """How a child process is isolated: ``kind`` is SANDBOX or NO_SANDBOX."""

    kind: str
    reason: str = ""

    @property
    def sandboxed(self) -> bool:
        return self.kind == SANDBOX

    @property
    def privileged(self) -> bool:
        """The grader is root: bwrap runs without a user namespace, the harness drops to a uid."""
        return self.sandboxed and os.geteuid() == 0

    def __str__(self) -> str:
        return self.kind if not self.reason else f"{self.kind} ({self.reason})"


def child_environment(workdir: Path) -> dict[str, str]:
    """The child's whole environment: nothing inherited from the instructor's."""
    threads = "1"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "OPENBLAS_NUM_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_NUM_THREADS": threads,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
    }


def python_command(job: str, result_fd: int) -> list[str]:
    """The harness command line.

    ``-s -P -B``: no user site-packages, no script folder on ``sys.path``, no bytecode
    written anywhere. Not ``-I``: it would also ignore the (fully scrubbed) environment,
    and with it ``PYTHONHASHSEED=0``, which makes set and dict order reproducible.
    """
    return [sys.executable, "-s", "-P", "-B", str(HARNESS), job, str(result_fd)]


def sandbox_uid() -> int:
    """An unused uid for the next submission (when the grader is root), never one in use twice
    at once in this grader, so submissions graded side by side do not share a process limit."""
    return UID_BASE + (os.getpid() * 97 + next(_uids)) % UID_RANGE


def _ro_binds() -> list[str]:
    """Read-only binds of what the child's Python needs, and nothing else.

    The folders bwrap creates on the way to a bind (``/root`` above a pyenv Python, say) are
    made first, world-readable: bwrap's own would be private to root, and the submission
    does not run as root.
    """
    args: list[str] = []
    seen: set[str] = set()

    def bind(path: str | Path) -> None:
        path = str(path)
        if path in seen or not os.path.exists(path):
            return
        seen.add(path)
        args.extend(["--ro-bind", path, path])

    bind("/usr")
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args.extend(["--symlink", os.readlink(top), top])
        else:
            bind(top)
    for name in ETC:  # not all of /etc: it holds keys, tokens and password hashes
        bind(Path("/etc") / name)
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix}:
        bind(prefix)
    bind(Path(sys.executable).resolve().parent.parent)  # the interpreter's own installation
    bind(PACKAGE_DIR)
    parents: set[str] = set()
    for target in seen:
        for parent in Path(target).parents:
            inside = any(str(parent) == t or str(parent).startswith(t + "/") for t in seen)
            if str(parent) not in ("/", "/tmp") and not str(parent).startswith("/tmp/") and not inside:
                parents.add(str(parent))
    made = [arg for folder in sorted(parents, key=lambda p: (p.count("/"), p))
            for arg in ("--perms", "0755", "--dir", folder)]
    return made + args


def bwrap_command(inner: list[str], workdir: Path, files: dict[Path, Path] | None = None,
                  folder_mb: int = FOLDER_MB) -> list[str]:
    """Wrap ``inner`` in bubblewrap with ``workdir`` as its only writable folder.

    The working folder (and ``/tmp``) inside the sandbox are private in-memory file systems
    of ``folder_mb`` MB each, mounted at ``workdir``'s path: whatever a submission writes
    stays in them and vanishes with the sandbox, and it cannot fill the instructor's disk
    or memory. ``files`` maps host files to read-only places inside (the harness's job).
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    size = str(folder_mb * 1024 * 1024)
    binds = [arg for host, inside in (files or {}).items()
             for arg in ("--ro-bind", str(host), str(inside))]
    if os.geteuid() == 0:
        # No user namespace: in one, the submission's uid would map back to root, which no
        # process limit binds. The harness drops to an unprivileged uid itself (it keeps only
        # the capabilities it needs for that) before any submission code runs.
        namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                      "--unshare-cgroup-try", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
                      "--cap-add", "CAP_SETGID", "--cap-add", "CAP_CHOWN"]
    else:
        namespaces = ["--unshare-all"]  # network, pid, ipc, uts, cgroup and user namespaces
    return [
        bwrap,
        *namespaces,
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into the instructor's terminal
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--tmpfs", "/dev/shm",
        # /tmp first, the read-only binds after: a course checked out under /tmp (as CI
        # clones may be) must stay visible inside the sandbox, not hidden by the tmpfs.
        "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
        *_ro_binds(),
        "--size", size, "--tmpfs", str(workdir),
        *binds,
        "--chdir", str(workdir),
        "--", *inner,
    ]


def set_limits(limits: Limits) -> None:
    """Apply the limits to the current process (called in the child before exec)."""
    import resource

    mb = 1024 * 1024

    def cap(which: int, value: int) -> None:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a platform that does not support this limit (e.g. RLIMIT_AS on macOS)

    cap(resource.RLIMIT_AS, limits.memory_mb * mb)
    cap(resource.RLIMIT_FSIZE, limits.output_bytes + 64 * 1024)
    cap(resource.RLIMIT_CPU, int(limits.total_seconds) + 5)
    cap(resource.RLIMIT_CORE, 0)
    try:
        os.nice(10)  # a submission that hogs the CPU yields to the instructor's own work
    except OSError:
        pass


@functools.lru_cache(maxsize=1)
def detect_isolation() -> Isolation:
    """Whether bubblewrap works here, found out once by running Python inside it."""
    if not sys.platform.startswith("linux"):
        return Isolation(NO_SANDBOX, f"no sandbox available on {sys.platform}; "
                                     "no process-count limit")
    if shutil.which("bwrap") is None:
        return Isolation(NO_SANDBOX, "no sandbox available: bubblewrap (bwrap) is not installed; "
                                     "no process-count limit")
    with tempfile.TemporaryDirectory(prefix="lessons-check-probe-") as folder:
        workdir = Path(folder)
        command = bwrap_command([sys.executable, "-I", "-S", "-c", "print(6 * 7)"], workdir)
        try:
            probe = subprocess.run(command, capture_output=True, text=True, timeout=30,
                                   env=child_environment(workdir), stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Isolation(NO_SANDBOX, f"no sandbox available: bwrap failed ({exc}); "
                                         "no process-count limit")
    if probe.returncode != 0 or probe.stdout.strip() != "42":
        why = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
        return Isolation(NO_SANDBOX, f"no sandbox available: bwrap cannot run here: {why[:200]}; "
                                     "no process-count limit")
    if os.geteuid() == 0:
        return Isolation(SANDBOX, "as an unprivileged user, with a process-count limit")
    return Isolation(SANDBOX, "in a user namespace, with a process-count limit")


def choose_isolation(no_sandbox: bool = False) -> Isolation:
    """The sandbox when it works, else process limits alone, with the reason."""
    if no_sandbox:
        return Isolation(NO_SANDBOX, "sandbox turned off with --no-sandbox; no process-count limit")
    return detect_isolation()
