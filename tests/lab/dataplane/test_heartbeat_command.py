"""`dr heartbeat --side S`: rows reach the writable side only; beside a read-only replica the
writer keeps retrying (until a promotion makes it writable)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from dr.cli.main import main
from dr.lab.replication import PostgresPair
from tests.lab.dataplane.conftest import needs_postgres
from tests.support.lab_aws import LabAws


@pytest.fixture(scope="module")
def pair() -> Iterator[PostgresPair]:
    with PostgresPair(wan_delay=0) as running:
        yield running


def config(tmp_path: Path, pair: PostgresPair) -> Path:
    path = tmp_path / "dr.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "app": "timeline", "environment": "test",
        "regions": {"primary": "eu-west-1", "secondary": "eu-central-1"},
        "targets": {"rto_seconds": 900, "rpo_seconds": 60},
        "databases": [{"name": "main", "primary": "timeline-main",
                       "secondary": "timeline-main-dr", "heartbeat": {
                           "table": "dr_heartbeat_cmd",
                           "dsn": {"primary": pair.primary_dsn,
                                   "secondary": pair.standby_dsn}}}]}))
    return path


@needs_postgres
@pytest.mark.parametrize(("side", "writes"), [("primary", True), ("secondary", False)])
def test_heartbeat_writes_on_the_writable_side_only(
        tmp_path: Path, pair: PostgresPair, side: str, writes: bool,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["heartbeat", "--side", side, "--interval", "0.1", "--duration", "1",
                 "--config", str(config(tmp_path, pair))])
    assert code == 0
    out, err = capsys.readouterr()
    rows = int(out.split("main: ")[1].split()[0])
    if not writes:  # a read-only standby takes no row, and the writer retried, not exited
        assert rows == 0
        assert err.count("heartbeat.retry") >= 2, err
    else:
        assert rows > 3
        with psycopg.connect(pair.primary_dsn) as conn:
            stored = conn.execute("SELECT count(*) FROM dr_heartbeat_cmd").fetchone()
        assert stored is not None and stored[0] >= rows


@needs_postgres
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_heartbeat_with_its_count(
        tmp_path: Path, pair: PostgresPair, signum: int,
        capsys: pytest.CaptureFixture[str]) -> None:
    sender = threading.Timer(1.0, os.kill, (os.getpid(), signum))
    began = time.monotonic()
    sender.start()
    code = main(["heartbeat", "--side", "primary", "--interval", "0.1", "--duration", "120",
                 "--config", str(config(tmp_path, pair))])
    took = time.monotonic() - began
    sender.join()
    assert code == 0
    assert took < 60, f"the heartbeat ran {took:.0f} s after the signal"
    assert int(capsys.readouterr().out.split("main: ")[1].split()[0]) > 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_secret_that_cannot_be_read_is_the_commands_error(
        tmp_path: Path, aws: LabAws, capsys: pytest.CaptureFixture[str]) -> None:
    """Before any writer starts: one line naming the database, exit 2, no thread left."""
    path = tmp_path / "dr.yaml"
    path.write_text(yaml.safe_dump({
        "version": 1, "app": "timeline", "environment": "test",
        "regions": {"primary": "eu-west-1", "secondary": "eu-central-1"},
        "targets": {"rto_seconds": 900, "rpo_seconds": 60},
        "databases": [{"name": "main", "primary": "timeline-main",
                       "secondary": "timeline-main-dr", "heartbeat": {
                           "table": "dr_heartbeat_cmd", "secret": {
                               "primary": "arn:aws:secretsmanager:eu-west-1:123456789012:"
                                          "secret:missing",
                               "secondary": "arn:aws:secretsmanager:eu-central-1:"
                                            "123456789012:secret:missing"}}}]}))
    code = main(["heartbeat", "--side", "primary", "--duration", "1", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "databases[main].heartbeat: cannot read its primary connection secret" in err
    assert not [t for t in threading.enumerate() if t.name.startswith("heartbeat-")]
