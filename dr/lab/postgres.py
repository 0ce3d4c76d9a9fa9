"""The lab's real database: a PostgreSQL primary and a streaming standby on loopback.

The standby replicates through a `WanProxy`, so it trails the primary by the proxy's
delay as a cross-region read replica does, and a region loss really loses the bytes in
flight. Servers run as the `postgres` user when we are root (initdb refuses root), as
the current user otherwise.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from dr.lab.wan import WanProxy

_LOOPBACK = "127.0.0.1"
_BINARIES = ("initdb", "pg_ctl", "postgres", "pg_basebackup")
_SUPERUSER = "postgres"
_PG_CTL_TIMEOUT_S = 30
_STREAMING_TIMEOUT_S = 30.0
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


class PostgresPair:
    """A primary and a streaming standby whose replication crosses a delaying proxy.

    Use as a context manager, or call `start()` and `stop()`. Data directories live in
    `workdir/postgres` (or a fresh temporary directory) and are removed by `stop()`.
    """

    def __init__(
        self, *, wan_delay: float, workdir: Path | None = None, bindir: Path | None = None
    ) -> None:
        self.wan_delay = wan_delay
        self._workdir = workdir
        self._bindir = bindir
        self._run_as = _RunAs.for_this_process()
        self._root: Path | None = None
        self._wan: WanProxy | None = None
        self._primary: Cluster | None = None
        self._standby: Cluster | None = None

    @property
    def primary(self) -> Cluster:
        if self._primary is None:
            raise PostgresError("the pair is not started")
        return self._primary

    @property
    def standby(self) -> Cluster:
        if self._standby is None:
            raise PostgresError("the pair is not started")
        return self._standby

    @property
    def wan(self) -> WanProxy:
        if self._wan is None:
            raise PostgresError("the pair is not started")
        return self._wan

    @property
    def primary_dsn(self) -> str:
        return self.primary.dsn

    @property
    def standby_dsn(self) -> str:
        return self.standby.dsn

    def start(self) -> None:
        """Builds both clusters and waits until the standby streams; cleans up on failure."""
        try:
            self._build()
        except BaseException:
            self.stop()
            raise

    def _build(self) -> None:
        bindir = self._bindir or find_bindir()
        if bindir is None:
            raise PostgresError(unavailable_reason() or "PostgreSQL is not available")
        self._root = self._make_root()

        primary = self._primary = Cluster("primary", self._root / "primary", bindir, self._run_as)
        primary.initdb()
        primary.configure(
            listen_addresses=_LOOPBACK,
            unix_socket_directories="",
            wal_level="replica",
            max_wal_senders=4,
            wal_keep_size="256MB",
            fsync="off",
            full_page_writes="off",
            shared_buffers="16MB",
            max_connections=40,
        )
        primary.start()

        # The link starts without delay: connecting and the base backup take several
        # round trips, each of which would cost twice the delay. The delay is applied
        # once the standby streams, as replication lag, which is what it models.
        self._wan = WanProxy((_LOOPBACK, primary.port), delay=0.0)
        self._wan.start()
        standby = self._standby = Cluster("standby", self._root / "standby", bindir, self._run_as)
        # --write-recovery-conf records the connection it used, the proxy's, as the
        # standby's primary_conninfo.
        backup = self._run_as.run(
            [
                str(bindir / "pg_basebackup"),
                "--dbname", dsn_for(self._wan.port),
                "--pgdata", str(standby.datadir),
                "--write-recovery-conf",
                "--wal-method", "stream",
                "--checkpoint", "fast",
                "--no-sync",
            ],
            cwd=self._root,
        )  # fmt: skip
        if backup.returncode != 0:
            raise PostgresError(f"pg_basebackup failed: {backup.stderr.strip()}")
        # PostgreSQL 15 can miss a promote request that arrives as the startup process
        # begins to wait before retrying a lost stream, and then promotes only after
        # this interval (default 5 s); a short one keeps promotion prompt.
        standby.configure(wal_retrieve_retry_interval="200ms")
        standby.start()
        self._wait_streaming()
        self._wan.delay = self.wan_delay

    def _make_root(self) -> Path:
        if self._workdir is None:
            root = Path(tempfile.mkdtemp(prefix="dr-lab-pg-"))
        else:
            root = self._workdir / "postgres"
            root.mkdir(parents=True)
        self._run_as.own(root)
        if not self._run_as.can_traverse(root):
            shutil.rmtree(root)
            raise PostgresError(
                f"the postgres user cannot reach {root}: every parent directory must be "
                "searchable by it (chmod o+x), or leave workdir unset to use a temporary one"
            )
        return root

    def _wait_streaming(self) -> None:
        deadline = time.monotonic() + _STREAMING_TIMEOUT_S
        while time.monotonic() < deadline:
            with psycopg.connect(self.standby_dsn, autocommit=True) as conn:
                row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
            if row is not None and row[0] == "streaming":
                return
            time.sleep(0.05)
        raise PostgresError(f"the standby did not start streaming in {_STREAMING_TIMEOUT_S} s")

    def replication_lag_seconds(self) -> float | None:
        """now() minus the commit time of the last transaction the standby replayed.

        True while the primary keeps committing (the lab's writer commits every few tens
        of milliseconds); when the primary is idle it grows without bound, which
        overstates the lag, never understates it. None before anything was replayed.
        """
        with psycopg.connect(self.standby_dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def kill_primary(self) -> None:
        """Immediate shutdown of the primary (no checkpoint, like a crash); waits until gone."""
        self.primary.shutdown_immediately()

    def lose_primary_region(self) -> datetime:
        """Region loss: the primary crashes, and the link drops whatever it still holds.

        The link is cut once the primary has exited, so everything the primary sent
        before it died has reached the proxy: with no delay it all arrives, with a delay
        the last `delay` seconds of it are lost. Returns the moment of the incident, taken
        just before the crash, so no commit is acknowledged after it.
        """
        incident_at = datetime.now(UTC)
        self.primary.crash()
        self.primary.wait_exited()
        self.wan.cut()
        return incident_at

    def promote_standby(self, wait_seconds: int = 30) -> None:
        with psycopg.connect(self.standby_dsn, autocommit=True) as conn:
            row = conn.execute("SELECT pg_promote(true, %s)", (wait_seconds,)).fetchone()
        if row is None or not row[0]:
            raise PostgresError(f"the standby was not promoted within {wait_seconds} s")

    def stop(self) -> None:
        """Stops everything that was started and removes the data; idempotent."""
        if self._wan is not None:
            self._wan.close()
        for cluster in (self._standby, self._primary):
            if cluster is not None:
                cluster.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> PostgresPair:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
