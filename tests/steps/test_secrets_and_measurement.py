"""Measurement never stops a recovery, and no secret dr read is written anywhere.

The heartbeat DSN here has a password libpq cannot parse (`%ZZ`), so libpq quotes it in its
error: once, that message reached stdout, the JSON logs, report.json/md, junit.xml, the
journal and the SNS message, and the failed heartbeat read after the promotion failed the
whole failover. Now readiness warns, the promotion stands, the switchover falls back to its
weaker proof (ReplicaLag at 0 after a reboot), saying why, and the password appears in no
output, read back from each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dr.cli.main import main
from tests.steps.conftest import World
from tests.steps.test_gameday import messages, subscribe_queue
from tests.support import end_state

PASSWORD = "Super%ZZSecret123"


@pytest.fixture
def leaky(world: World) -> World:
    dsn = f"postgresql://timeline:{PASSWORD}@127.0.0.1:9/timeline"
    world.config["databases"][0]["heartbeat"] = {"table": "dr_heartbeat",
                                                 "dsn": {"primary": dsn, "secondary": dsn}}
    world.write()
    return world


def every_output(world: World, run_dir: Path, said: str) -> dict[str, str]:
    outputs = {"stdout+stderr": said}
    for path in run_dir.iterdir():
        outputs[path.name] = path.read_text(errors="replace")
    return outputs


def test_an_unreadable_heartbeat_leaves_a_warning_and_never_a_password(
        leaky: World, capsys: pytest.CaptureFixture[str]) -> None:
    world = leaky
    queue = subscribe_queue(world, world.config["regions"]["secondary"])

    code = main(["failover", "--to", "secondary", "--yes", "--log-format", "json",
                 "--config", str(world.path)])

    said = capsys.readouterr()
    assert code == 0, said.out
    [run_dir] = list((world.path.parent / ".dr" / "runs").iterdir())
    report: dict[str, Any] = json.loads((run_dir / "report.json").read_text())
    # The recovery went on: every step after the promotion ran, and the RPO is the lag's.
    end_state.assert_failed_over(world.aws, world.config, "secondary")
    promote = next(s for s in report["steps"] if s["id"] == "databases.main.promote")
    assert promote["status"] == "succeeded"
    assert "databases.main.promote" in report["changed"]
    assert "heartbeat_unreadable" in promote["detail"]
    # The old primary answered: a switchover, proven without the heartbeat connection.
    assert report["rpo"]["method"] == "switchover"
    assert report["rpo"]["proven_by"] == "replica_lag"
    fence = next(s for s in report["steps"] if s["id"] == "databases.main.fence")
    assert "heartbeat connection to the old primary failed" in fence["detail"]["switchover"][
        "why_not_wal_position"]
    assert any("heartbeat cannot be read" in w for w in report["warnings"])
    # The secret is in no output, in no form.
    notes = messages(world, world.config["regions"]["secondary"], queue)
    outputs = every_output(world, run_dir, said.out + said.err)
    outputs["sns"] = json.dumps(notes)
    assert notes, "the SNS summary was published"
    for name, text in outputs.items():
        assert PASSWORD not in text, name
        assert PASSWORD.replace("%", "%25") not in text, name
    assert "***" in outputs["report.json"]  # the warning is there, with the value masked


def test_dr_heartbeat_refuses_the_dsn_in_one_line(leaky: World,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["heartbeat", "--side", "primary", "--duration", "1",
                 "--config", str(leaky.path)])
    said = capsys.readouterr()
    assert code == 2, said
    assert "databases[main].heartbeat" in said.err
    assert "Traceback" not in said.err + said.out
    assert PASSWORD not in said.err + said.out
