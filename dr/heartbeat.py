"""Heartbeat rows written to the active database, for an RPO measured from data.

A writer beside the application inserts one row per interval. After a failover, the
newest row on the promoted database tells how far back the data it holds reaches:
RPO = incident start - newest heartbeat. Each row holds the database server's clock
(`server_at`, what `newest` reads) and the writer's wall clock (`writer_at`, so a
skewed clock on either side can be seen).
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import psycopg
import structlog
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

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


def write_forever(dsn: str, table: str, interval: float, stop_event: threading.Event) -> int:
    """Inserts one heartbeat row per `interval` seconds until `stop_event` is set.

    Any database failure is retried (tenacity, exponential backoff from 0.1 s to 5 s): a
    failover, a restart, or a replica that is not promoted yet must not stop the writer, as
    a sidecar that exits loses the RPO signal. Returns the number of rows written.
    """
    import tenacity

    ident = table_identifier(table)
    insert = sql.SQL("INSERT INTO {} (writer_at) VALUES (%s)").format(ident)
    target = redacted(dsn)
    written = 0
    failures = 0  # since the last successful connect: the backoff starts over after one

    def session() -> None:
        nonlocal written, failures
        with psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
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


def newest(dsn: str, table: str, before: datetime | None = None) -> datetime | None:
    """The server time of the newest heartbeat row; None when there is none (or no table).

    With `before` (the incident start), rows written after it are ignored: once a writer
    has found the promoted database, its new rows would otherwise hide the loss.
    """
    ident = table_identifier(table)
    query = sql.SQL("SELECT max(server_at) FROM {}").format(ident)
    params: tuple[datetime, ...] = ()
    if before is not None:
        query = sql.SQL("SELECT max(server_at) FROM {} WHERE server_at < %s").format(ident)
        params = (before,)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S) as conn:
        try:
            row = conn.execute(query, params).fetchone()
        except psycopg.errors.UndefinedTable:
            return None
    return None if row is None else row[0]


def dsn_for(aws: StepAws, hb: Heartbeat, side: Role, region: str) -> str:
    """The heartbeat database of `side`: its configured DSN, or one built from its secret."""
    if hb.dsn:
        return hb.dsn.side(side)
    assert hb.secret is not None
    secret = aws.client("secretsmanager", region).get_secret_value(SecretId=hb.secret.side(side))
    return dsn_from_secret(json.loads(secret["SecretString"]))


def dsn_from_secret(secret: dict[str, object]) -> str:
    """A libpq connection string from an RDS-style secret (host, port, username, password,
    dbname), quoted by psycopg so no value can inject another keyword."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(host=str(secret["host"]), port=str(secret.get("port", 5432)),
                         user=str(secret["username"]), password=str(secret["password"]),
                         dbname=str(secret.get("dbname", "postgres")))
