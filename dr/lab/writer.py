"""The lab's write load, and the ground truth of what a failover lost.

The writer commits application rows and heartbeat rows on the active database and
remembers every commit the database acknowledged, with the client's clock right after
the commit returned. Comparing that log with the promoted database gives the true data
loss, against which `dr`'s heartbeat-measured RPO is checked. Its target may be a function,
asked again at every (re)connect: the lab's writer follows the parameter the application
reads, as a task that starts again reads it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import structlog

from dr import heartbeat

log = structlog.get_logger("dr.lab")

APP_TABLE = "dr_lab_writes"
_CONNECT_TIMEOUT_S = 2
_RETRY_S = 0.5
_JOIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Ack:
    seq: int
    at: float  # time.time() right after the commit returned


@dataclass(frozen=True)
class LossReport:
    acknowledged: int
    missing: int
    # incident - ack time of the oldest acknowledged commit missing; 0 when none is.
    window_seconds: float
    oldest_missing_at: datetime | None


@dataclass(frozen=True)
class PhaseCount:
    acknowledged: int  # every commit acknowledged up to the phase's end: what was checked
    in_phase: int  # of which, acknowledged during the phase
    lost: int  # acknowledged up to the phase's end, missing on the writer after it


class Writer:
    """Commits a row every `commit_interval` s and a heartbeat every `heartbeat_interval` s."""

    def __init__(
        self,
        dsn: str | Callable[[], str | None],
        *,
        heartbeat_table: str = "dr_heartbeat",
        commit_interval: float = 0.02,
        heartbeat_interval: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dsn = dsn
        self.heartbeat_table = heartbeat_table
        self.commit_interval = commit_interval
        self.heartbeat_interval = heartbeat_interval
        self._clock = clock
        # Rows are keyed by run, so a lab restarted on the same database stays apart.
        self.run_id = uuid.uuid4().hex
        self._acks: list[Ack] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _target(self) -> str | None:
        return self.dsn() if callable(self.dsn) else self.dsn

    def start(self) -> None:
        """Creates the tables (so they replicate before any loss), then starts writing."""
        target = self._target()
        if target is None:
            raise psycopg.OperationalError("the writer has no database to write to")
        with psycopg.connect(target, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {APP_TABLE} ("
                " run text NOT NULL, seq bigint NOT NULL,"
                " written_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (run, seq))"
            )
            heartbeat.ensure_table(conn, self.heartbeat_table)
        self._threads = [
            threading.Thread(target=self._write_rows, name="dr-lab-writer", daemon=True),
            threading.Thread(
                target=heartbeat.write_forever,
                args=(self.dsn, self.heartbeat_table, self.heartbeat_interval, self._stop),
                name="dr-lab-heartbeat",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def acks(self) -> list[Ack]:
        with self._lock:
            return list(self._acks)

    def _write_rows(self) -> None:
        insert = f"INSERT INTO {APP_TABLE} (run, seq) VALUES (%s, %s)"
        seq = 0
        while not self._stop.is_set():
            try:
                target = self._target()
                if target is None:
                    raise psycopg.OperationalError("no database to write to (yet)")
                with psycopg.connect(
                    target, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
                ) as conn:
                    while not self._stop.is_set():
                        seq += 1
                        conn.execute(insert, (self.run_id, seq))
                        acked_at = self._clock()
                        with self._lock:
                            self._acks.append(Ack(seq, acked_at))
                        self._stop.wait(self.commit_interval)
            except psycopg.Error as error:
                # A commit that failed is not acknowledged; the lab expects these once
                # the primary is gone, and keeps trying until stopped.
                log.debug("lab.writer.retry", error=type(error).__name__)
                self._stop.wait(_RETRY_S)

    def true_loss(self, promoted_dsn: str, incident_at: datetime) -> LossReport:
        """Acknowledged application commits missing on `promoted_dsn`, and their window.

        Heartbeat rows are left out: they are what `dr` measures, this is the check on it.
        """
        acks = self.acks
        with psycopg.connect(
            promoted_dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
        ) as conn:
            present = {
                row[0]
                for row in conn.execute(
                    f"SELECT seq FROM {APP_TABLE} WHERE run = %s", (self.run_id,)
                )
            }
        missing = [ack for ack in acks if ack.seq not in present]
        if not missing:
            return LossReport(len(acks), 0, 0.0, None)
        oldest = min(ack.at for ack in missing)
        return LossReport(
            acknowledged=len(acks),
            missing=len(missing),
            window_seconds=max(0.0, incident_at.timestamp() - oldest),
            oldest_missing_at=datetime.fromtimestamp(oldest, UTC),
        )

    def phase_loss(self, writer_dsn: str, started: float, ended: float) -> PhaseCount:
        """A planned drill's phase, from `started` to `ended` (time.time()): every commit
        acknowledged up to its end (those in the replica's lag when it began are the ones a
        move can lose), those acknowledged during it, and how many of all of them
        `writer_dsn`, the database that is the writer after it, does not hold."""
        acks = [ack for ack in self.acks if ack.at < ended]
        with psycopg.connect(writer_dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
                             ) as conn:
            present = {row[0] for row in conn.execute(
                f"SELECT seq FROM {APP_TABLE} WHERE run = %s", (self.run_id,))}
        return PhaseCount(acknowledged=len(acks),
                          in_phase=sum(1 for ack in acks if ack.at >= started),
                          lost=sum(1 for ack in acks if ack.seq not in present))
