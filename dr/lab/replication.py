"""The lab's databases as RDS runs them: one PostgreSQL server per region, the writable one
and a streaming standby whose replication crosses a delaying WAN link, each behind its
instance's endpoint; they follow what `dr` does to the emulated instances.

An RDS instance keeps its endpoint (DNS name and port) under its identifier, and its VPC
security groups decide who may open a connection to it; the replication to a cross-region
replica is RDS's own and does not pass through them. Here each side (the primary region's
instance, the secondary region's) has:

- an endpoint: a proxy on a fixed loopback port (`WanProxy` without delay) in front of the
  side's current server. A fence closes it to new connections and keeps the open ones, as a
  security group tracks established connections (so `dr` must end those itself);
- its server (`Cluster`). A standby streams from the other side's server through a
  `WanProxy` with the WAN delay, straight, not through the endpoint.

What changes them: `promote` (pg_promote), `set_fenced`, `end_sessions` (a reboot), `rebuild`
(a new replica under the side's identifier: a new standby of the other side from a base
backup, behind the WAN delay; the server it replaces, the retired instance, is stopped) and
`lose` (a region loss: the server crashes, the bytes in flight are lost).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from dr.lab.postgres import (
    _LOOPBACK,
    Cluster,
    PostgresError,
    _RunAs,
    dsn_for,
    find_bindir,
    unavailable_reason,
)
from dr.lab.wan import WanProxy

SIDES = ("primary", "secondary")
_STREAMING_TIMEOUT_S = 30.0
_ENDING_TIMEOUT_S = 5.0


def other_side(side: str) -> str:
    return "secondary" if side == "primary" else "primary"


class PostgresPair:
    """A primary and a streaming standby, one per side, each behind its endpoint.

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
        self._servers: dict[str, Cluster] = {}
        self._endpoints: dict[str, WanProxy] = {}
        # side -> the link its standby streams through, from the other side's server
        self._links: dict[str, WanProxy] = {}
        self._stopped: list[Cluster] = []
        self._generation = itertools.count(1)
        self._lock = threading.RLock()

    # --- what the lab and the tests read ---------------------------------------------------

    def server(self, side: str) -> Cluster:
        with self._lock:
            if side not in self._servers:
                raise PostgresError("the pair is not started")
            return self._servers[side]

    @property
    def primary(self) -> Cluster:
        """The primary region's server (the writable one until a failover)."""
        return self.server("primary")

    @property
    def standby(self) -> Cluster:
        """The secondary region's server."""
        return self.server("secondary")

    def dsn(self, side: str) -> str:
        """The side's endpoint: what a client (the application, dr) connects to."""
        with self._lock:
            if side not in self._endpoints:
                raise PostgresError("the pair is not started")
            return dsn_for(self._endpoints[side].port)

    @property
    def primary_dsn(self) -> str:
        return self.dsn("primary")

    @property
    def standby_dsn(self) -> str:
        return self.dsn("secondary")

    @property
    def wan(self) -> WanProxy:
        """The link the secondary region's standby streams through."""
        with self._lock:
            if "secondary" not in self._links:
                raise PostgresError("no standby streams in the secondary region")
            return self._links["secondary"]

    @property
    def ports(self) -> list[int]:
        """Every port the pair listens on: servers, endpoints, links."""
        with self._lock:
            servers = [c for c in [*self._servers.values(), *self._stopped] if c.is_running()]
            proxies = [*self._endpoints.values(), *self._links.values()]
        return [c.port for c in servers] + [p.port for p in proxies]

    def standby_side(self) -> str | None:
        """The side whose server is a standby streaming from the other, if any."""
        with self._lock:
            return next((side for side in SIDES if side in self._links), None)

    def writable_side(self) -> str | None:
        """The side whose server takes writes and whose endpoint lets clients in."""
        for side in SIDES:
            try:
                with self._lock:
                    server, open_ = self._servers[side], self._endpoints[side].accepting
                if not open_:
                    continue
                with psycopg.connect(server.dsn, autocommit=True, connect_timeout=2) as conn:
                    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            except (psycopg.Error, KeyError):
                continue
            if row is not None and not row[0]:
                return side
        return None

    def replication_lag_seconds(self) -> float | None:
        """now() minus the commit time of the last transaction the standby replayed.

        True while the primary keeps committing (the lab's writer commits every few tens
        of milliseconds); when the primary is idle it grows without bound, which
        overstates the lag, never understates it (RDS computes PostgreSQL's ReplicaLag so).
        None before anything was replayed, or with no standby.
        """
        side = self.standby_side()
        if side is None:
            return None
        # pg_catalog's now(): commit timestamps come from the server's real clock, which
        # set_clock_offset leaves alone.
        with psycopg.connect(self.server(side).dsn, autocommit=True, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM pg_catalog.now() - "
                "pg_last_xact_replay_timestamp())::float8"
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # --- building ----------------------------------------------------------------------------

    def start(self) -> None:
        """Builds both servers and waits until the standby streams; cleans up on failure."""
        try:
            self._build()
        except BaseException:
            self.stop()
            raise

    def _build(self) -> None:
        bindir = self._bindir or find_bindir()
        if bindir is None:
            raise PostgresError(unavailable_reason() or "PostgreSQL is not available")
        self._bindir = bindir
        self._root = self._make_root()
        primary = self._new_server("primary")
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
        self._servers["primary"] = primary
        for side in SIDES:
            endpoint = WanProxy((_LOOPBACK, primary.port))
            self._endpoints[side] = endpoint
            endpoint.start()
        self._endpoints["secondary"].accepting = False  # no server behind it yet
        self._attach("secondary", self._standby_of("secondary"))

    def _new_server(self, side: str) -> Cluster:
        assert self._root is not None and self._bindir is not None
        name = f"{side}-{next(self._generation)}"
        return Cluster(name, self._root / name, self._bindir, self._run_as)

    def _standby_of(self, side: str) -> Cluster:
        """A new server for `side`, a standby of the other side's server: a base backup
        through a new link, streaming through it, the WAN delay applied once it streams."""
        assert self._root is not None and self._bindir is not None
        source = self.server(other_side(side))
        # The link starts without delay: connecting and the base backup take several round
        # trips, each of which would cost twice the delay. The delay is applied once the
        # standby streams, as replication lag, which is what it models.
        link = WanProxy((_LOOPBACK, source.port), delay=0.0)
        link.start()
        with self._lock:
            old = self._links.pop(side, None)
            self._links[side] = link
        if old is not None:
            old.close()
        standby = self._new_server(side)
        try:
            # --write-recovery-conf records the connection it used, the link's, as the
            # standby's primary_conninfo.
            backup = self._run_as.run(
                [
                    str(self._bindir / "pg_basebackup"),
                    "--dbname", dsn_for(link.port),
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
            self._stopped.append(standby)  # stopped by stop() if what follows fails
            standby.start()
            self._wait_streaming(standby)
        except BaseException:
            with self._lock:
                if self._links.get(side) is link:
                    del self._links[side]
            link.close()
            raise
        self._stopped.remove(standby)
        link.delay = self.wan_delay
        return standby

    def _attach(self, side: str, server: Cluster) -> None:
        """`server` is now the side's: its endpoint leads to it and lets clients in."""
        with self._lock:
            previous = self._servers.get(side)
            self._servers[side] = server
            endpoint = self._endpoints[side]
            endpoint.upstream = (_LOOPBACK, server.port)
            endpoint.accepting = True
        if previous is not None and previous is not server:
            previous.stop()
            self._stopped.append(previous)

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

    def _wait_streaming(self, standby: Cluster) -> None:
        deadline = time.monotonic() + _STREAMING_TIMEOUT_S
        while time.monotonic() < deadline:
            with psycopg.connect(standby.dsn, autocommit=True) as conn:
                row = conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone()
            if row is not None and row[0] == "streaming":
                return
            time.sleep(0.05)
        raise PostgresError(f"the standby did not start streaming in {_STREAMING_TIMEOUT_S} s")

    # --- what dr's changes do to it -------------------------------------------------------

    def promote(self, side: str, wait_seconds: int = 30) -> None:
        """pg_promote on the side's standby; it no longer streams, so its link closes."""
        with psycopg.connect(self.server(side).dsn, autocommit=True) as conn:
            row = conn.execute("SELECT pg_promote(true, %s)", (wait_seconds,)).fetchone()
        if row is None or not row[0]:
            raise PostgresError(f"the {side} standby was not promoted within {wait_seconds} s")
        with self._lock:
            link = self._links.pop(side, None)
        if link is not None:
            link.close()

    def promote_standby(self, wait_seconds: int = 30) -> None:
        self.promote("secondary", wait_seconds)

    def set_fenced(self, side: str, fenced: bool) -> None:
        """Security groups that let no client in (dr's fence), or the original ones."""
        with self._lock:
            self._endpoints[side].accepting = not fenced

    def fenced(self, side: str) -> bool:
        with self._lock:
            return not self._endpoints[side].accepting

    def end_sessions(self, side: str) -> int:
        """A reboot: every client session on the side's server ends. Returns how many."""
        ended = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity " \
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        with psycopg.connect(self.server(side).dsn, autocommit=True) as conn:
            row = conn.execute(ended).fetchone()
        return int(row[0]) if row else 0

    def rebuild(self, side: str) -> None:
        """A new replica under the side's identifier: a standby of the other side's server,
        which replaces the side's server (the retired instance, fenced: it is stopped)."""
        self._attach(side, self._standby_of(side))

    def set_clock_offset(self, seconds: float) -> None:
        """The database's clock (`now()`, which the heartbeat's server_at and the app's rows
        take) set `seconds` off, as on a host whose clock is wrong, for every new session:
        a `now()` in a schema searched before pg_catalog. Call it before tables whose
        defaults use now() are created; it replicates with the catalog."""
        with psycopg.connect(self.server("primary").dsn, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS dr_lab_clock")
            conn.execute(
                "CREATE OR REPLACE FUNCTION dr_lab_clock.now() RETURNS timestamptz "
                "LANGUAGE sql STABLE AS "
                f"$$ SELECT pg_catalog.now() + interval '{float(seconds)} seconds' $$")
            conn.execute('ALTER DATABASE postgres SET search_path = '
                         'dr_lab_clock, pg_catalog, "$user", public')

    def lose(self, side: str) -> datetime:
        """Region loss: the side's server crashes, and the link from it drops whatever it
        still holds.

        The link is cut once the server has exited, so everything it sent before it died
        has reached the proxy: with no delay it all arrives, with a delay the last `delay`
        seconds of it are lost. Returns the moment of the incident, taken just before the
        crash, so no commit is acknowledged after it."""
        server = self.server(side)
        with self._lock:
            self._endpoints[side].accepting = False
            link = self._links.get(other_side(side))
        incident_at = datetime.now(UTC)
        server.crash()
        server.wait_exited()
        if link is not None:
            link.cut()
        return incident_at

    def lose_primary_region(self) -> datetime:
        return self.lose("primary")

    def kill_primary(self) -> None:
        """Immediate shutdown of the primary region's server (no checkpoint, like a crash)."""
        self.primary.shutdown_immediately()

    def stop(self) -> None:
        """Stops everything that was started and removes the data; idempotent."""
        with self._lock:
            proxies = [*self._links.values(), *self._endpoints.values()]
            servers = [*self._servers.values(), *self._stopped]
        for proxy in proxies:
            proxy.close()
        for server in servers:
            server.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> PostgresPair:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
