"""The heartbeat library: identifiers are checked, passwords never shown, rows written."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dr import heartbeat
from dr.lab.postgres import dsn_for, free_port
from dr.lab.replication import PostgresPair

from .conftest import needs_postgres


@pytest.mark.parametrize("table", ["dr_heartbeat", "ops.dr_heartbeat", "_hb2"])
def test_identifiers_are_accepted(table: str) -> None:
    heartbeat.table_identifier(table)


@pytest.mark.parametrize(
    "table", ["", "1hb", "hb; DROP TABLE x", 'hb"', "a.b.c", "hb-1", "x" * 64, "ops."]
)
def test_anything_else_is_refused(table: str) -> None:
    with pytest.raises(ValueError, match="not an SQL identifier"):
        heartbeat.table_identifier(table)


def test_redacted_dsn_has_no_password() -> None:
    for dsn in (
        "host=db.example port=5432 dbname=app user=hb password=s3cret",
        "postgresql://hb:s3cret@db.example:5432/app",
    ):
        shown = heartbeat.redacted(dsn)
        assert "s3cret" not in shown
        assert "host=db.example" in shown


def test_writer_retries_without_logging_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stop = threading.Event()
    dsn = dsn_for(free_port()) + " password=s3cret"
    thread = threading.Thread(target=heartbeat.write_forever, args=(dsn, "hb", 0.1, stop))
    thread.start()
    time.sleep(0.5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    out = capsys.readouterr()
    assert "heartbeat.retry" in out.out + out.err
    assert "s3cret" not in out.out + out.err


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with PostgresPair(wan_delay=0) as pair:
        yield pair.primary_dsn


@needs_postgres
def test_newest_is_none_without_table_or_rows(database: str) -> None:
    assert heartbeat.newest(database, "hb_absent") is None
    with psycopg.connect(database, autocommit=True) as conn:
        heartbeat.ensure_table(conn, "hb_empty")
        heartbeat.ensure_table(conn, "hb_empty")
    assert heartbeat.newest(database, "hb_empty") is None


@needs_postgres
def test_one_row_per_interval_with_both_clocks(database: str) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=heartbeat.write_forever, args=(database, "hb_rows", 0.1, stop))
    thread.start()
    time.sleep(1.05)
    stop.set()
    thread.join(5)
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT server_at, writer_at FROM hb_rows ORDER BY id").fetchall()
    assert 9 <= len(rows) <= 12
    for server_at, writer_at in rows:
        assert abs(server_at - writer_at) < timedelta(seconds=0.1)
    newest = heartbeat.newest(database, "hb_rows")
    assert newest is not None
    assert (newest.server_at, newest.writer_at) == rows[-1]
    assert datetime.now(UTC) - newest.writer_at < timedelta(seconds=0.5)
    # One clock on this machine: the offset is the insert's latency, a few milliseconds.
    assert abs(newest.clock_offset_seconds) < 0.1
    # `before` is compared with the writer's clock.
    earlier = heartbeat.newest(database, "hb_rows", before=rows[3][1])
    assert earlier is not None and earlier.writer_at == rows[2][1]


@needs_postgres
def test_a_database_clock_ahead_of_the_writer_is_measured_and_not_believed(
        database: str) -> None:
    """Rows whose database clock is 5 s ahead: `before` still splits them by the writer's
    clock, and the offset between the two clocks is measured."""
    with psycopg.connect(database, autocommit=True) as conn:
        heartbeat.ensure_table(conn, "hb_skewed")
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for second in range(10):
            at = base + timedelta(seconds=second)
            conn.execute("INSERT INTO hb_skewed (writer_at, server_at) VALUES (%s, %s)",
                         (at, at + timedelta(seconds=5)))
    newest = heartbeat.newest(database, "hb_skewed", before=base + timedelta(seconds=6.5))
    assert newest is not None
    assert newest.writer_at == base + timedelta(seconds=6)
    assert newest.clock_offset_seconds == 5.0
