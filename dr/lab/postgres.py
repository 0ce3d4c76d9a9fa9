"""The lab's real database servers: PostgreSQL clusters on loopback, and whether this machine
can run them (replication.py pairs them across regions). Servers run as the `postgres` user
when we are root (initdb refuses root), as the current user otherwise.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_LOOPBACK = "127.0.0.1"
_BINARIES = ("initdb", "pg_ctl", "postgres", "pg_basebackup")
_SUPERUSER = "postgres"
_PG_CTL_TIMEOUT_S = 30
# The standby reconnects through the delayed link (after a network blip, say), where
# libpq's SSL and GSSAPI negotiations would each cost a round trip for nothing.
_LINK_OPTIONS = "sslmode=disable gssencmode=disable"


class PostgresError(RuntimeError):
    """A lab server could not be built, started, promoted or stopped."""


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl, postgres and pg_basebackup of one version.

    PATH comes first; Debian keeps the server binaries under /usr/lib/postgresql/N/bin
    and only wraps some of them on PATH, so that is searched too, newest version first.
    """
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates += sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in _BINARIES):
            return bindir
    return None


def unavailable_reason() -> str | None:
    """Why this machine cannot run the lab's PostgreSQL, or None when it can."""
    if find_bindir() is None:
        return (
            "PostgreSQL server binaries (" + ", ".join(_BINARIES) + ") were not found on "
            "PATH or under /usr/lib/postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SUPERUSER)
        except KeyError:
            return "running as root, and there is no 'postgres' user to run the servers as"
    return None


def postgres_available() -> bool:
    return unavailable_reason() is None


@dataclass(frozen=True)
class _RunAs:
    """The OS user the servers run as; None fields mean the current user."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_this_process(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        entry = pwd.getpwnam(_SUPERUSER)
        return cls(entry.pw_uid, entry.pw_gid)

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        extra: dict[str, object] = {}
        if self.uid is not None:
            # extra_groups=[] drops root's supplementary groups from the server.
            extra = {"user": self.uid, "group": self.gid, "extra_groups": []}
        # A new session keeps the postmaster out of our process group, so a Ctrl-C
        # reaches the lab (which then shuts the servers down) rather than the servers.
        return subprocess.run(
            args,
            cwd=cwd,
            env=_server_env(cwd),
            capture_output=True,
            text=True,
            start_new_session=True,
            check=False,
            **extra,  # type: ignore[arg-type]
        )

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)

    def can_traverse(self, path: Path) -> bool:
        if self.uid is None:
            return True
        for directory in [path, *path.parents]:
            st = directory.stat()
            if st.st_uid == self.uid:
                needed = stat.S_IXUSR
            elif st.st_gid == self.gid:
                needed = stat.S_IXGRP
            else:
                needed = stat.S_IXOTH
            if not st.st_mode & needed:
                return False
        return True


def _server_env(home: Path) -> dict[str, str]:
    # PG* variables of the caller (PGHOST, PGPORT, PGPASSWORD...) must not steer the lab.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = str(home)
    env["LC_ALL"] = "C"
    return env


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((_LOOPBACK, 0))
        return probe.getsockname()[1]


def dsn_for(port: int) -> str:
    return f"host={_LOOPBACK} port={port} user={_SUPERUSER} dbname=postgres {_LINK_OPTIONS}"


class Cluster:
    """One PostgreSQL data directory and the server started from it."""

    def __init__(self, name: str, datadir: Path, bindir: Path, run_as: _RunAs) -> None:
        self.name = name
        self.datadir = datadir
        self.bindir = bindir
        self.run_as = run_as
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise PostgresError(f"{self.name} has not been started")
        return self._port

    @property
    def dsn(self) -> str:
        return dsn_for(self.port)

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / f"{self.name}.log"

    def initdb(self) -> None:
        self._run(
            "initdb",
            "--pgdata", str(self.datadir),
            "--username", _SUPERUSER,
            "--auth", "trust",
            "--no-locale",
            "--encoding", "UTF8",
            "--no-sync",
        )  # fmt: skip
        (self.datadir / "pg_hba.conf").write_text(
            f"host all all {_LOOPBACK}/32 trust\nhost replication all {_LOOPBACK}/32 trust\n"
        )

    def configure(self, **settings: str | int) -> None:
        """Appends settings to postgresql.conf; the last occurrence of a setting wins."""
        lines = [f"{key} = '{value}'" for key, value in settings.items()]
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# dr lab\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        self._port = free_port()
        self.configure(port=self._port)
        result = self._pg_ctl("start", "--log", str(self.logfile), "--wait")
        if result.returncode != 0:
            raise PostgresError(f"{self.name} did not start: {self._diagnosis(result)}")

    def is_running(self) -> bool:
        # pg_ctl status: 0 running, 3 not running, 4 no usable data directory.
        return self.datadir.exists() and self._pg_ctl("status").returncode == 0

    def crash(self) -> None:
        """Sends the postmaster SIGQUIT, as `pg_ctl stop -m immediate` does, and returns.

        Signalled directly because pg_ctl takes milliseconds to start, during which the
        server would go on acknowledging commits after the moment of the crash.
        """
        pid = self.postmaster_pid()
        if pid is None:
            raise PostgresError(f"{self.name} is not running")
        os.kill(pid, signal.SIGQUIT)

    def wait_exited(self) -> None:
        """Waits until the postmaster (which outlives all its children) has exited."""
        deadline = time.monotonic() + _PG_CTL_TIMEOUT_S
        while self.postmaster_pid() is not None:
            if time.monotonic() > deadline:
                self._kill_postmaster()
                return
            time.sleep(0.005)

    def shutdown_immediately(self) -> None:
        """`pg_ctl stop -m immediate`: no checkpoint, like a crash; waits until it is gone."""
        result = self._pg_ctl("stop", "--mode", "immediate", "--wait")
        if result.returncode != 0:
            raise PostgresError(f"{self.name} could not be stopped: {self._diagnosis(result)}")

    def stop(self) -> None:
        """Teardown: stops the server if it runs, by force if need be; never raises."""
        if not self.is_running():
            return
        try:
            self.shutdown_immediately()
        except PostgresError:
            self._kill_postmaster()

    def postmaster_pid(self) -> int | None:
        """The pid in postmaster.pid, which the postmaster removes as it exits."""
        try:
            return int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _kill_postmaster(self) -> None:
        # Last resort: SIGKILL on the postmaster, whose children exit when it is gone.
        pid = self.postmaster_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_as.run(
            [
                str(self.bindir / "pg_ctl"), *args,
                "--pgdata", str(self.datadir),
                "--timeout", str(_PG_CTL_TIMEOUT_S),
            ],
            cwd=self.datadir.parent,
        )  # fmt: skip

    def _run(self, binary: str, *args: str) -> None:
        result = self.run_as.run([str(self.bindir / binary), *args], cwd=self.datadir.parent)
        if result.returncode != 0:
            raise PostgresError(f"{binary} for {self.name} failed: {self._diagnosis(result)}")

    def _diagnosis(self, result: subprocess.CompletedProcess[str]) -> str:
        text = (result.stderr or result.stdout).strip()
        if self.logfile.exists():
            tail = self.logfile.read_text(errors="replace").strip().splitlines()[-5:]
            text += "\n" + "\n".join(tail)
        return text
