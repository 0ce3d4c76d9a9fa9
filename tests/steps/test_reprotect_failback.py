"""reprotect then failover --to primary restores the original topology; a drill runs both
directions and reports the RTO of each."""

from __future__ import annotations

import json

import pytest

from dr.cli.main import main
from tests.steps.conftest import World
from tests.support import end_state


def assert_original_topology(world: World) -> None:
    end_state.assert_failed_over(world.aws, world.config, "primary", other_reachable=False)
    regions = world.config["regions"]
    for db in world.config["databases"]:
        replica = end_state.database(world.aws, regions["secondary"], db["secondary"])
        source = replica.get("ReadReplicaSourceDBInstanceIdentifier", "")
        assert source.rsplit(":", 1)[-1] == db["primary"], db
        assert replica["DBInstanceStatus"] == "available"
    for svc in world.config["services"]:
        assert end_state.desired(world.aws, regions["secondary"], svc["cluster"],
                                 svc["service"]) == svc["standby_count"]


def test_reprotect_then_failback_restores_the_original_topology(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ["--config", str(world.path)]
    assert main(["failover", "--to", "secondary", "--yes", *cfg]) == 0, capsys.readouterr().out
    assert main(["reprotect", *cfg]) == 0, capsys.readouterr().out
    regions = world.config["regions"]
    for db in world.config["databases"]:
        replica = end_state.database(world.aws, regions["primary"], db["primary"])
        assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(db["secondary"])
    assert main(["failover", "--to", "primary", "--yes", *cfg]) == 0, capsys.readouterr().out
    assert_original_topology(world)
    again = main(["reprotect", *cfg])
    assert again == 0, capsys.readouterr().out


def test_drill_runs_both_directions_and_reports_each_rto(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    out = world.path.parent / "drill"
    code = main(["drill", "--config", str(world.path), "--report-dir", str(out)])
    assert code == 0, capsys.readouterr().out
    report = json.loads((out / "report.json").read_text())
    phases = {p["name"]: p for p in report["phases"]}
    assert list(phases) == ["failover", "reprotect", "failback"]
    assert phases["failover"]["rto"]["measured_seconds"] > 0
    assert phases["failback"]["rto"]["measured_seconds"] > 0
    assert phases["failover"]["to_region"] == world.config["regions"]["secondary"]
    assert phases["failback"]["to_region"] == world.config["regions"]["primary"]
    assert report["rto"] == phases["failover"]["rto"]
    assert_original_topology(world)
