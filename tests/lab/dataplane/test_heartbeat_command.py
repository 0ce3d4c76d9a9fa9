"""`dr heartbeat --side S`: rows reach the writable side only; beside a read-only replica the
writer keeps retrying (until a promotion makes it writable)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from dr.cli.main import main
from dr.lab.postgres import PostgresPair
from tests.lab.dataplane.conftest import needs_postgres


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
    rows = int(capsys.readouterr().out.split("main: ")[1].split()[0])
    assert (rows > 3) is writes
    if writes:
        with psycopg.connect(pair.primary_dsn) as conn:
            stored = conn.execute("SELECT count(*) FROM dr_heartbeat_cmd").fetchone()
        assert stored is not None and stored[0] >= rows
