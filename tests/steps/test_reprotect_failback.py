"""reprotect then failover --to primary restores the original topology; a drill runs both
directions and reports the RTO of each; a failback without reprotect, or one whose region is
lost as it re-protects, leaves fenced former primaries that only an accepted data loss
promotes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dr import config as dr_config
from dr import runbooks
from dr.cli.main import main
from dr.lab.regionfront import RegionFront
from dr.runbook.run import Request, Runner
from dr.runbook.waiting import PollPolicy
from tests.steps.conftest import World
from tests.support import end_state
from tests.support.timeouts import LEFT_REGION


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


def fenced(world: World, role: str, identifier: str) -> bool:
    """The instance's only security group is dr's fence group."""
    region = world.config["regions"][role]
    instance = end_state.database(world.aws, region, identifier)
    groups = [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]
    fences = world.aws.client("ec2", region).describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["dr-fence"]}])["SecurityGroups"]
    return len(groups) == 1 and groups[0] in {g["GroupId"] for g in fences}


def test_failing_back_without_reprotect_is_a_data_loss_decision(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = ["--config", str(world.path)]
    assert main(["failover", "--to", "secondary", "--yes", *cfg]) == 0, capsys.readouterr().out
    capsys.readouterr()
    # The primary's instances are the former primaries that failover fenced: they lack every
    # write made on the secondary since.
    assert main(["failover", "--to", "primary", "--yes", *cfg]) == 3
    said = "".join(capsys.readouterr())
    main_db = world.config["databases"][0]
    assert f"{main_db['primary']}" in said and "former primary that dr fenced" in said, said
    end_state.assert_failed_over(world.aws, world.config, "secondary")  # nothing changed

    code = main(["failover", "--to", "primary", "--yes", "--accept-data-loss", *cfg])
    assert code == 0, capsys.readouterr().out
    assert_original_topology(world)
    for db in world.config["databases"]:  # writable, and reachable again: unfenced
        assert not fenced(world, "primary", db["primary"]), db


def test_a_region_lost_as_failback_retires_renames_nothing(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    regions = world.config["regions"]
    with RegionFront(world.aws.endpoint_url) as front:
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)

        def lose_primary_at_first_retire(record: dict[str, Any]) -> None:
            if record["event"] == "step.started" and record["step"].startswith("failback/") \
                    and record["step"].endswith(".retire"):
                front.outage(regions["primary"])
                world.health["primary"].stop()

        drill = Runner(dr_config.load(world.path), planner=runbooks.phases,
                       poll=PollPolicy(floor=0.05, cap=0.2), impatient=LEFT_REGION,
                       state_dir=tmp_path / ".dr", after_append=lose_primary_at_first_retire)
        report = drill.run(Request(command="drill", to="secondary")).report
        retires = [s for s in report["steps"] if s["id"].endswith(".retire")
                   and s["id"].startswith("failback/")]
        assert retires and all(s["status"] == "skipped" for s in retires), retires
        assert all("not answering" in s["detail"]["reason"] for s in retires), retires
        for db in world.config["databases"]:  # still under its own name, fenced
            assert fenced(world, "secondary", db["secondary"]), db

        # The next failover finds the fenced former primaries and says what they lack; with
        # the loss accepted it completes, the primary region still hanging.
        failover = Runner(dr_config.load(world.path), planner=runbooks.phases,
                          poll=PollPolicy(floor=0.05, cap=0.2), impatient=LEFT_REGION,
                          state_dir=tmp_path / ".dr")
        refused = failover.run(Request(command="failover", to="secondary"))
        assert refused.outcome == "not_ready"
        assert all("former primary that dr fenced" in p for p in refused.problems)
        done = failover.run(Request(command="failover", to="secondary", accept_data_loss=True))
        assert done.outcome == "succeeded", [(s["id"], s["error"]) for s in done.report["steps"]]
    monkeypatch.setenv("AWS_ENDPOINT_URL", world.aws.endpoint_url)
    end_state.assert_failed_over(world.aws, world.config, "secondary", other_reachable=False)
    for db in world.config["databases"]:
        assert not fenced(world, "secondary", db["secondary"]), db
