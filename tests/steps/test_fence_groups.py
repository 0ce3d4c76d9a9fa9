"""Databases with two and three security groups are fenced, and unfenced by a rollback and by
re-protection and failback, with the lab refusing every tag RDS refuses (a comma among them):
the fence tag holds the groups in a form RDS accepts, and every group comes back."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from dr import config as dr_config
from dr import runbooks
from dr.cli.main import main
from dr.lab.estate import Shape
from dr.runbook.run import Request, Runner
from dr.runbook.waiting import PollPolicy
from dr.steps.rds import FENCE_GROUP, FENCE_TAG
from tests.steps.conftest import World, build
from tests.support import end_state
from tests.support.lab_aws import LabAws


@pytest.fixture(params=[2, 3], ids=["two-groups", "three-groups"])
def grouped(request: pytest.FixtureRequest, aws: LabAws, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape(security_groups=request.param))
    yield world
    for server in world.health.values():
        server.stop()


def groups_of(world: World, role: str, identifier: str) -> list[str]:
    region = world.config["regions"][role]
    instance = end_state.database(world.aws, region, identifier)
    return [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]


def fence_tag(world: World, role: str, identifier: str) -> str | None:
    region = world.config["regions"][role]
    arn = end_state.database(world.aws, region, identifier)["DBInstanceArn"]
    tags = world.aws.client("rds", region).list_tags_for_resource(ResourceName=arn)["TagList"]
    return next((t["Value"] for t in tags if t["Key"] == FENCE_TAG), None)


def only_the_fence(world: World, role: str, identifier: str) -> bool:
    ids = groups_of(world, role, identifier)
    found = world.aws.client("ec2", world.config["regions"][role]).describe_security_groups(
        GroupIds=ids)["SecurityGroups"]
    return len(ids) == 1 and found[0]["GroupName"] == FENCE_GROUP


def test_failover_reprotect_failback_keep_every_group(
        grouped: World, capsys: pytest.CaptureFixture[str]) -> None:
    world = grouped
    db = world.config["databases"][0]
    original = {"primary": groups_of(world, "primary", db["primary"]),
                "secondary": groups_of(world, "secondary", db["secondary"])}
    assert len(set(original["primary"])) >= 2
    cfg = ["--config", str(world.path)]

    assert main(["failover", "--to", "secondary", "--yes", *cfg]) == 0, capsys.readouterr()
    assert only_the_fence(world, "primary", db["primary"])
    assert fence_tag(world, "primary", db["primary"]) == " ".join(original["primary"])

    # Re-protection retires the fenced writer and builds a replica with its original groups.
    assert main(["reprotect", *cfg]) == 0, capsys.readouterr()
    assert groups_of(world, "primary", db["primary"]) == original["primary"]

    # The failback fences the secondary writer (its groups in the tag), then re-creates it
    # as a replica with those groups.
    assert main(["failover", "--to", "primary", "--yes", *cfg]) == 0, capsys.readouterr()
    assert groups_of(world, "secondary", db["secondary"]) == original["secondary"]
    assert fence_tag(world, "secondary", db["secondary"]) is None


def test_a_stopped_failover_unfences_with_every_group(grouped: World) -> None:
    """A run stopped right after the fence (the game day's stop condition) rolls the fence
    back: every original group returns and the tag goes."""
    world = grouped
    db = world.config["databases"][0]
    original = groups_of(world, "primary", db["primary"])
    abort = threading.Event()

    def stop_after_the_fence(record: dict[str, Any]) -> None:
        if record["event"] == "step.finished" and record.get("type") == "rds.fence-primary":
            assert only_the_fence(world, "primary", db["primary"])
            abort.set()

    runner = Runner(dr_config.load(world.path), planner=runbooks.phases,
                    poll=PollPolicy(floor=0.02, cap=0.1), after_append=stop_after_the_fence,
                    abort=abort, roll_back_on_abort=True)
    result = runner.run(Request(command="failover", to="secondary", report_dir=Path("out")))

    steps = {s["type"]: s for s in result.report["steps"]}
    assert steps["rds.fence-primary"]["status"] == "rolled_back", steps
    assert steps["rds.promote-replica"]["status"] != "succeeded"
    assert groups_of(world, "primary", db["primary"]) == original
    assert fence_tag(world, "primary", db["primary"]) is None
    report = json.loads(Path("out/report.json").read_text())
    assert report["outcome"] == "failed"
