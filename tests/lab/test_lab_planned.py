"""The game day in the lab, on the real data plane: `dr lab drill --planned` loses nothing;
a replica that cannot catch up (its WAN link cut after the fence) fails the switchover and
gives the old primary back; `dr drill` runs twice in a row; and the region-loss drill's RPO is
still the true loss when the database servers' clock is 5 s off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dr import config as drconfig
from dr import runbooks
from dr.cli.main import main
from dr.lab import fidelity
from dr.lab.planned import PhaseCounter
from dr.lab.world import Lab, LabOptions, environment
from dr.runbook.run import Request, Runner
from dr.runbook.waiting import PollPolicy
from dr.steps.rds import FENCE_GROUP, FENCE_TAG
from tests.support import end_state
from tests.support.lab_aws import LabAws

needs_postgres = pytest.mark.needs("postgres")
pytestmark = [needs_postgres, pytest.mark.slow]
SCALE = 0.01


def drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, dict]:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "report"
    code = main(["lab", "drill", "--report-dir", str(out), *args])
    return code, json.loads((out / "report.json").read_text())


def test_a_planned_drill_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, report = drill(tmp_path, monkeypatch, "--planned", "--time-scale", str(SCALE))
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert [p["name"] for p in report["phases"]] == ["failover", "reprotect", "failback"]
    for phase in ("failover", "failback"):
        rpo = next(p["rpo"] for p in report["phases"] if p["name"] == phase)
        assert (rpo["method"], rpo["measured_seconds"], rpo["proven_by"]) == (
            "switchover", 0.0, "wal_position")
    lab = report["lab"]
    assert [p["phase"] for p in lab["phases"]] == ["failover", "reprotect", "failback"]
    assert [p["writer_after"] for p in lab["phases"]] == ["secondary", "secondary", "primary"]
    for phase in lab["phases"]:
        assert phase["rpo"]["lost_commits"] == 0, phase
        assert phase["rpo"]["acknowledged_in_phase"] > 0, phase
    # Every commit of the drill, the failback's included, is on the writer after it.
    assert lab["phases"][-1]["rpo"]["acknowledged_commits"] > \
        lab["phases"][0]["rpo"]["acknowledged_commits"]
    assert lab["final_replica_lag_seconds"] is not None
    assert lab["final_replica_lag_seconds"] <= lab["wan_delay_seconds"] + 1
    assert lab["incident_at"] and lab["rto"]["observer_seconds"] is not None
    assert "0 lost on the writer after it" in printed


def counted_drill(lab: Lab, counter_start: float) -> tuple[int, dict[str, Any], PhaseCounter]:
    """`dr drill` in a lab that is up, each phase counted as --planned counts it."""
    counter = PhaseCounter(lab, counter_start)
    config = drconfig.load(lab.config_path)
    with environment(lab.env):
        result = Runner(config, planner=runbooks.phases, poll=PollPolicy().scaled(SCALE),
                        state_dir=lab.options.state_dir.parent, after_append=counter.record,
                        ).run(Request(command="drill", to="secondary"))
    return result.exit_code, result.report, counter


@pytest.fixture
def lab(tmp_path: Path) -> Any:
    running = Lab(LabOptions(time_scale=SCALE, wan_delay=0.5,
                             state_dir=tmp_path / ".dr" / "lab")).up()
    running.warm_up()
    yield running
    running.down()


def test_dr_drill_twice_in_a_row(lab: Lab) -> None:
    """The game day can run every week: each drill leaves the estate, and the real
    replication, as it found them."""
    import time

    for attempt in (1, 2):
        code, report, counter = counted_drill(lab, time.time())
        assert code == 0, (attempt, report["outcome"], [
            (s["id"], s["error"]) for s in report["steps"] if s["error"]])
        assert [p["rpo"]["lost_commits"] for p in counter.phases] == [0, 0, 0], attempt
        assert report["rpo"]["method"] == "switchover"
        assert lab.pair is not None and lab.pair.standby_side() == "secondary"
        lag = lab.pair.replication_lag_seconds()
        assert lag is not None and lag < 5, (attempt, lag)


def test_a_replica_that_cannot_catch_up_fails_the_switchover_and_changes_nothing(
        lab: Lab) -> None:
    import time

    assert lab.pair is not None and lab.writer is not None
    db = lab.config["databases"][0]

    def cut_after_fence(event: fidelity.RdsEvent) -> None:
        if (event.kind, event.identifier, event.security_groups) == (
                "security_groups", db["primary"], (FENCE_GROUP,)):
            lab.pair.wan.cut()  # the standby never gets the rest

    aws = LabAws(lab.emulator.endpoint_url)
    primary, secondary = lab.options.primary_region, lab.options.secondary_region
    before = {"ssm": end_state.parameter(aws, secondary, lab.config["parameters"][0]["name"]),
              "ecs": end_state.desired(aws, secondary, "timeline", "api")}
    unregister = fidelity.on_rds(cut_after_fence)
    try:
        code, report, _ = counted_drill(lab, time.time())
    finally:
        unregister()
    assert code == 1
    steps = {s["id"]: s for s in report["steps"]}
    fence = steps["failover/databases.main.fence"]
    assert fence["status"] == "failed" and "not proven within" in fence["error"]
    assert report["rpo"]["method"] == "none"  # nothing was promoted
    assert steps["failover/databases.main.promote"]["detail"].get("not_started")
    # The old primary serves again: its groups back, no fence tag, its endpoint open, and
    # the writer commits on it.
    instance = end_state.database(aws, primary, db["primary"])
    groups = [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]
    assert groups == fence["detail"]["unfenced_to"]
    assert not lab.pair.fenced("primary")
    tags = aws.client("rds", primary).list_tags_for_resource(
        ResourceName=instance["DBInstanceArn"])["TagList"]
    assert FENCE_TAG not in {t["Key"] for t in tags}
    acked = len(lab.writer.acks)
    deadline = time.monotonic() + 10
    while len(lab.writer.acks) == acked and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(lab.writer.acks) > acked
    assert lab.pair.writable_side() == "primary"
    # Nothing else changed: what ran beside the fence was rolled back.
    assert report["changed"] == []
    assert {"ssm": end_state.parameter(aws, secondary, lab.config["parameters"][0]["name"]),
            "ecs": end_state.desired(aws, secondary, "timeline", "api")} == before
    assert end_state.database(aws, secondary, db["secondary"])[
        "ReadReplicaSourceDBInstanceIdentifier"]


def test_a_database_clock_5_s_off_does_not_change_the_measured_rpo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report = drill(tmp_path, monkeypatch, "--db-clock-offset", "5")
    assert code == 0
    lab = report["lab"]
    assert lab["rpo"]["lost_commits"] > 0
    assert abs(lab["rpo"]["dr_seconds"] - lab["rpo"]["true_loss_seconds"]) <= 0.5
    [measured] = report["rpo"]["databases"].values()
    assert abs(measured["database_clock_offset_seconds"] - 5) < 0.5
