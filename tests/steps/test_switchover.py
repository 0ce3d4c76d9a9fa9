"""A planned move (the old primary answers) against the emulator, without a heartbeat
connection: the weaker proof, ReplicaLag at 0 after a reboot ends every session.

A replica that never shows that (its replication broken: RDS publishes -1) is a switchover
that cannot be proven: the old primary is unfenced, what the phase changed beside the fence
(parameters, scale-up) is rolled back, nothing else is changed, and the run fails (exit 1).
A run that resumes after its fence ended the sessions proves it from the tag the fence left,
without a second reboot."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.cli.main import main
from dr.lab import fidelity
from dr.steps.rds import FENCE_GROUP, FENCE_TAG
from dr.steps.rds.common import REBOOT_ASKED_TAG, SESSIONS_ENDED_TAG, SWITCHOVER_TAGS
from tests.steps.conftest import World
from tests.steps.test_failover_e2e import last_report, snapshot
from tests.support import end_state


def put_lag(world: World, value: float) -> None:
    replica = world.config["databases"][0]["secondary"]
    world.aws.client("cloudwatch", world.config["regions"]["secondary"]).put_metric_data(
        Namespace="AWS/RDS", MetricData=[{
            "MetricName": "ReplicaLag", "Value": value, "Unit": "Seconds",
            "Timestamp": datetime.now(UTC),
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}]}])


@contextmanager
def lag_stuck_at(world: World, value: float) -> Iterator[None]:
    """The replica's ReplicaLag published every 0.1 s at `value`: it cannot catch up."""
    stop = threading.Event()

    def publish() -> None:
        while not stop.wait(0.1):
            put_lag(world, value)

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def primary_instance(world: World) -> dict[str, Any]:
    return end_state.database(world.aws, world.config["regions"]["primary"],
                              world.config["databases"][0]["primary"])


def tags(world: World, instance: dict[str, Any]) -> dict[str, str]:
    found = world.aws.client("rds", world.config["regions"]["primary"]).list_tags_for_resource(
        ResourceName=instance["DBInstanceArn"])["TagList"]
    return {t["Key"]: t["Value"] for t in found}


def groups(instance: dict[str, Any]) -> list[str]:
    return [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]]


def test_an_unproven_switchover_unfences_and_changes_nothing_else(small_world: World) -> None:
    world = small_world
    world.config["databases"][0]["switchover_timeout_seconds"] = 1
    world.write()
    before, original = snapshot(world), groups(primary_instance(world))

    fidelity.break_replication(world.config["regions"]["secondary"],
                               world.config["databases"][0]["secondary"])
    code = main(["failover", "--to", "secondary", "--yes", "--config", str(world.path),
                 "--log-format", "json"])

    assert code == 1
    report = last_report(world)
    assert report["outcome"] == "failed"
    steps = {s["id"]: s for s in report["steps"]}
    fence = steps["databases.main.fence"]
    assert fence["status"] == "failed"
    assert "not proven within 1 s" in fence["error"] and "unfenced" in fence["error"]
    assert fence["detail"]["unfenced_to"] == original
    # The old primary has its groups back and no fence or switchover tag: it serves again.
    instance = primary_instance(world)
    assert groups(instance) == original
    assert not {FENCE_TAG, *SWITCHOVER_TAGS} & set(tags(world, instance))
    # What ran beside the fence was undone; what needed it never started.
    assert steps["parameters./timeline/staging/db_host.set"]["status"] == "rolled_back"
    assert steps["services.timeline/api.scale-up"]["status"] == "rolled_back"
    assert steps["databases.main.promote"]["detail"].get("not_started")
    assert report["changed"] == []
    assert snapshot(world) == before


def fence_as_a_killed_run_left_it(world: World, switchover_tags: dict[str, str]) -> str:
    """The old primary fenced as a run killed inside its switchover leaves it: the fence
    group in effect, the fence tag and `switchover_tags`. Returns its identifier."""
    region = world.config["regions"]["primary"]
    rds, ec2 = world.aws.client("rds", region), world.aws.client("ec2", region)
    instance = primary_instance(world)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    fence = ec2.create_security_group(GroupName=FENCE_GROUP, VpcId=vpc["VpcId"],
                                      Description="dr fence")["GroupId"]
    rds.add_tags_to_resource(ResourceName=instance["DBInstanceArn"], Tags=[
        {"Key": FENCE_TAG, "Value": " ".join(groups(instance))},
        *({"Key": k, "Value": v} for k, v in switchover_tags.items())])
    rds.modify_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"],
                           VpcSecurityGroupIds=[fence], ApplyImmediately=True)
    return str(instance["DBInstanceIdentifier"])


def resume_with_lag_zero(world: World, publish: bool = False) -> dict[str, Any]:
    """A failover once the replica has caught up: the fence step of its report. After a
    reboot of the fenced primary the emulator publishes its ReplicaLag of 0 itself; without
    one, `publish` puts a 0 every 0.1 s."""
    with lag_stuck_at(world, 0.0) if publish else nullcontext():
        code = main(["failover", "--to", "secondary", "--yes", "--config", str(world.path),
                     "--log-format", "json"])
    assert code == 0
    report = last_report(world)
    assert report["rpo"]["method"] == "switchover"
    end_state.assert_failed_over(world.aws, world.config, "secondary")
    return next(s for s in report["steps"] if s["id"] == "databases.main.fence")


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_resumed_switchover_proves_from_the_tag_its_fence_left(small_world: World) -> None:
    """The state a run killed after its reboot leaves: fenced, the moment the sessions ended
    in a tag. The next run reboots nothing and waits for ReplicaLag 0 after that moment."""
    world = small_world
    fence_as_a_killed_run_left_it(world, {SESSIONS_ENDED_TAG: z(datetime.now(UTC))})

    fence_step = resume_with_lag_zero(world, publish=True)

    assert "rds:RebootDBInstance" not in fence_step["detail"]["aws_calls"]
    proof = fence_step["detail"]["switchover"]
    assert proof["proven_by"] == "replica_lag"
    assert proof["replica_lag_zero_period"]["starts_at"] >= proof["sessions_ended_at"]


def test_a_run_killed_after_its_reboot_was_sent_does_not_reboot_again(
        small_world: World) -> None:
    """Killed after RebootDBInstance was answered, before the moment it ended was tagged:
    the next run finds the reboot in the instance's RDS events, reboots nothing, and dates
    the end of the sessions from that event."""
    world = small_world
    asked = datetime.now(UTC)
    identifier = fence_as_a_killed_run_left_it(world, {REBOOT_ASKED_TAG: z(asked)})
    rds = world.aws.client("rds", world.config["regions"]["primary"])
    rds.reboot_db_instance(DBInstanceIdentifier=identifier)
    rds.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=identifier, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    [restarted] = [e["Date"] for e in rds.describe_events(
        SourceType="db-instance", SourceIdentifier=identifier)["Events"]
        if e["Message"] == "DB instance restarted"]

    fence_step = resume_with_lag_zero(world)

    assert "rds:RebootDBInstance" not in fence_step["detail"]["aws_calls"]
    ended = datetime.fromisoformat(fence_step["detail"]["switchover"]["sessions_ended_at"])
    assert abs(ended - restarted) < timedelta(milliseconds=1)  # the report's precision


def test_a_run_killed_before_its_reboot_was_sent_reboots_once(small_world: World) -> None:
    """Killed after tagging that it asks for the reboot, before RDS had it: no event, the
    instance `available`, so the next run sends the reboot, once."""
    world = small_world
    fence_as_a_killed_run_left_it(world, {REBOOT_ASKED_TAG: z(datetime.now(UTC))})

    fence_step = resume_with_lag_zero(world)

    assert fence_step["detail"]["aws_calls"]["rds:RebootDBInstance"] == 1
    assert fence_step["detail"]["switchover"]["proven_by"] == "replica_lag"


def test_a_switchover_record_left_by_an_earlier_fence_is_not_taken_for_this_one(
        small_world: World) -> None:
    """An earlier fence undone by hand (its Undo before this version removed fewer tags)
    left `dr:switchover-sessions-ended` and `-reboot-asked` on the primary. A new switchover
    ends the sessions itself: one reboot, the moment dated after the run started."""
    world = small_world
    instance = primary_instance(world)
    long_ago = datetime.now(UTC) - timedelta(days=3)
    world.aws.client("rds", world.config["regions"]["primary"]).add_tags_to_resource(
        ResourceName=instance["DBInstanceArn"], Tags=[
            {"Key": SESSIONS_ENDED_TAG, "Value": z(long_ago)},
            {"Key": REBOOT_ASKED_TAG, "Value": z(long_ago)}])
    started = datetime.now(UTC)

    fence_step = resume_with_lag_zero(world)

    assert fence_step["detail"]["aws_calls"]["rds:RebootDBInstance"] == 1
    ended = datetime.fromisoformat(fence_step["detail"]["switchover"]["sessions_ended_at"])
    assert ended >= started
