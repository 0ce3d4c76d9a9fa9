"""Heartbeat rows written to the active database, for an RPO measured from data.

A writer beside the application inserts one row per interval. After a failover, the
newest row on the promoted database tells how far back the data it holds reaches:
RPO = incident start - newest heartbeat. Each row holds the writer's wall clock
(`writer_at`: the application host's clock, kept by NTP as `dr`'s own is, so the RPO is
measured on it) and the database server's clock (`server_at`): their difference over the
newest rows is the database clock's offset, which the report shows, so a skewed clock on
either side can be seen. The database clock is never compared with `dr`'s.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psycopg
import structlog
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from dr import redact

if TYPE_CHECKING:
    from dr.aws.gateway import StepAws
    from dr.config.model import Heartbeat, Role

log = structlog.get_logger("dr.heartbeat")

# Unquoted PostgreSQL identifiers, optionally schema-qualified, within NAMEDATALEN.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CONNECT_TIMEOUT_S = 2
_BACKOFF_START_S = 0.1
_BACKOFF_MAX_S = 5.0


def table_identifier(table: str) -> sql.Identifier:
    """`table` or `schema.table` as a quoted identifier; ValueError for anything else."""
    parts = table.split(".")
    if len(parts) > 2 or not all(_IDENTIFIER.fullmatch(part) for part in parts):
        raise ValueError(
            f"heartbeat table {table!r} is not an SQL identifier "
            "(letters, digits and _, not starting with a digit, optionally schema.table)"
        )
    return sql.Identifier(*parts)


def ensure_table(conn: psycopg.Connection, table: str) -> None:
    """Creates the heartbeat table and its index if they do not exist yet."""
    ident = table_identifier(table)
    index = sql.Identifier(table.split(".")[-1] + "_server_at")
    with conn.transaction():
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " server_at timestamptz NOT NULL DEFAULT now(),"
                " writer_at timestamptz NOT NULL)"
            ).format(ident)
        )
        conn.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (server_at)").format(index, ident)
        )


def redacted(dsn: str) -> str:
    """Where a DSN points (host, port, database, user), never its password."""
    params = conninfo_to_dict(dsn)
    return " ".join(
        f"{key}={params[key]}" for key in ("host", "port", "dbname", "user") if key in params
    )


def write_forever(dsn: str | Callable[[], str | None], table: str, interval: float,
                  stop_event: threading.Event) -> int:
    """Inserts one heartbeat row per `interval` seconds until `stop_event` is set.

    Any database failure is retried (tenacity, exponential backoff from 0.1 s to 5 s): a
    failover, a restart, or a replica that is not promoted yet must not stop the writer, as
    a sidecar that exits loses the RPO signal. `dsn` may be a function, asked again at every
    (re)connect (as an application task reads its parameter): None means nowhere to write
    yet. Returns the number of rows written.
    """
    import tenacity

    ident = table_identifier(table)
    insert = sql.SQL("INSERT INTO {} (writer_at) VALUES (%s)").format(ident)
    written = 0
    failures = 0  # since the last successful connect: the backoff starts over after one
    target = ""

    def session() -> None:
        nonlocal written, failures, target
        now = dsn() if callable(dsn) else dsn
        if now is None:
            raise psycopg.OperationalError("no database to write to (yet)")
        target = redacted(now)
        with psycopg.connect(now, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
            ensure_table(conn, table)
            failures = 0
            log.info("heartbeat.connected", target=target, table=table)
            next_at = time.monotonic()
            while not stop_event.is_set():
                conn.execute(insert, (datetime.now(UTC),))
                written += 1
                # Keep to the schedule; after a stall, skip the missed slots.
                next_at += interval
                now = time.monotonic()
                if next_at < now:
                    next_at = now + interval
                stop_event.wait(next_at - now)

    def before_sleep(state: tenacity.RetryCallState) -> None:
        # libpq's messages never carry the password, so they are safe to log.
        error = state.outcome.exception() if state.outcome else None
        log.warning("heartbeat.retry", target=target,
                    error=f"{type(error).__name__}: {str(error).strip()}",
                    backoff=state.next_action.sleep if state.next_action else None)

    def backoff(_: tenacity.RetryCallState) -> float:
        nonlocal failures
        failures += 1
        return float(min(_BACKOFF_MAX_S, _BACKOFF_START_S * 2 ** (failures - 1)))

    tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(psycopg.Error),
        wait=backoff,
        stop=lambda _: stop_event.is_set(),
        sleep=stop_event.wait,
        before_sleep=before_sleep,
        retry_error_callback=lambda _: None,
    )(session)
    return written


# Rows whose clocks are compared to find the database clock's offset.
_OFFSET_ROWS = 20


@dataclass(frozen=True)
class Newest:
    """The newest heartbeat row, and how far the database's clock is from the writer's."""

    writer_at: datetime  # the writer's clock as it sent the row: what RPO is measured on
    server_at: datetime  # the database's clock (now(): its transaction's start)
    # Median of server_at - writer_at over the newest rows: the database clock's offset from
    # the writer's, plus the one-way latency of an insert (milliseconds).
    clock_offset_seconds: float


def newest(dsn: str, table: str, before: datetime | None = None) -> Newest | None:
    """The newest heartbeat row; None when there is none (or no table).

    With `before` (the incident start), rows the writer sent after it are ignored: once a
    writer has found the promoted database, its new rows would otherwise hide the loss. The
    writer's clock decides, not the database's: a database clock off by seconds would
    otherwise count rows from before the incident as after it, or the reverse.
    """
    ident = table_identifier(table)
    where = sql.SQL("WHERE writer_at < %s") if before is not None else sql.SQL("")
    # By id (the primary key), newest first: no scan of a table that grows every second.
    query = sql.SQL("SELECT writer_at, server_at FROM {} {} ORDER BY id DESC LIMIT {}").format(
        ident, where, sql.Literal(_OFFSET_ROWS))
    params: tuple[datetime, ...] = (before,) if before is not None else ()
    with psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
        try:
            rows = conn.execute(query, params).fetchall()
        except psycopg.errors.UndefinedTable:
            return None
    if not rows:
        return None
    offset = statistics.median((server - writer).total_seconds() for writer, server in rows)
    return Newest(writer_at=rows[0][0], server_at=rows[0][1],
                  clock_offset_seconds=round(offset, 3))


def dsn_for(aws: StepAws, hb: Heartbeat, side: Role, region: str) -> str:
    """The heartbeat database of `side`: its configured DSN, or one built from its secret."""
    if hb.dsn:
        return hb.dsn.side(side)
    assert hb.secret is not None
    secret = aws.client("secretsmanager", region).get_secret_value(SecretId=hb.secret.side(side))
    fields = json.loads(secret["SecretString"])
    redact.remember(str(fields.get("password") or ""))
    dsn = dsn_from_secret(fields)
    redact.remember_dsn(dsn)
    return dsn


def dsn_from_secret(secret: dict[str, object]) -> str:
    """A libpq connection string from an RDS-style secret (host, port, username, password,
    dbname), quoted by psycopg so no value can inject another keyword."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(host=str(secret["host"]), port=str(secret.get("port", 5432)),
                         user=str(secret["username"]), password=str(secret["password"]),
                         dbname=str(secret.get("dbname", "postgres")))
