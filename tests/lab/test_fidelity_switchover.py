"""What a switchover needs from the emulated RDS and CloudWatch, as AWS documents it: a reboot
that needs an available instance, shows `rebooting` and ends every session; the changes a data
plane follows announced as they take effect; and the ReplicaLag RDS publishes once a fenced
source's sessions have ended (0, or -1 where replication is broken). Seen through boto3 over
HTTP, with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.lab import fidelity, timing
from tests.lab.test_fidelity import (
    PRIMARY,
    SECONDARY,
    create_cross_region_replica,
    describe,
    seconds,
)
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws


def fence(aws: LabAws, name: str = "dr-fence") -> str:
    ec2 = aws.client("ec2", PRIMARY)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName=name, Description="no rule", VpcId=vpc)
    aws.client("rds", PRIMARY).modify_db_instance(
        DBInstanceIdentifier="main", VpcSecurityGroupIds=[group["GroupId"]],
        ApplyImmediately=True)
    return str(group["GroupId"])


def replica_lag(aws: LabAws, since: datetime) -> list[dict[str, Any]]:
    return sorted(aws.client("cloudwatch", SECONDARY).get_metric_statistics(
        Namespace="AWS/RDS", MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": "main-dr"}],
        StartTime=since, EndTime=since + timedelta(minutes=5), Period=60,
        Statistics=["Minimum", "Maximum"])["Datapoints"], key=lambda p: p["Timestamp"])


@pytest.fixture
def events() -> Any:
    seen: list[fidelity.RdsEvent] = []
    unregister = fidelity.on_rds(seen.append)
    yield seen
    unregister()


def test_a_security_group_change_is_announced_when_it_takes_effect(
        aws: LabAws, clock: FakeClock, events: list[fidelity.RdsEvent]) -> None:
    create_cross_region_replica(aws, clock)
    fence(aws)
    describe(aws, "main", PRIMARY)
    assert [e.kind for e in events if e.kind == "security_groups"] == []
    clock.advance(seconds(timing.MODIFY_DB_INSTANCE))
    assert describe(aws, "main", PRIMARY)["DBInstanceStatus"] == "available"
    assert [(e.kind, e.identifier, e.security_groups) for e in events] == [
        ("replica_created", "main-dr", ()), ("security_groups", "main", ("dr-fence",))]
    assert events[0].source == (PRIMARY, "main")


def test_a_reboot_needs_an_available_instance_and_ends_every_session(
        aws: LabAws, clock: FakeClock, events: list[fidelity.RdsEvent]) -> None:
    create_cross_region_replica(aws, clock)
    fence(aws)
    rds = aws.client("rds", PRIMARY)
    with pytest.raises(ClientError) as modifying:
        rds.reboot_db_instance(DBInstanceIdentifier="main")
    assert modifying.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    clock.advance(seconds(timing.MODIFY_DB_INSTANCE))
    answer = rds.reboot_db_instance(DBInstanceIdentifier="main")["DBInstance"]
    assert answer["DBInstanceStatus"] == "rebooting"
    assert events[-1].kind == "rebooting"  # the sessions end as it begins
    clock.advance(seconds(timing.REBOOT_DB_INSTANCE) / 2)
    assert describe(aws, "main", PRIMARY)["DBInstanceStatus"] == "rebooting"
    clock.advance(seconds(timing.REBOOT_DB_INSTANCE) / 2)
    assert describe(aws, "main", PRIMARY)["DBInstanceStatus"] == "available"


def test_replica_lag_reads_0_once_a_fenced_source_was_rebooted(
        aws: LabAws, clock: FakeClock) -> None:
    create_cross_region_replica(aws, clock)
    fence(aws)
    clock.advance(seconds(timing.MODIFY_DB_INSTANCE))
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert replica_lag(aws, before) == []  # nothing modelled while it may take commits
    aws.client("rds", PRIMARY).reboot_db_instance(DBInstanceIdentifier="main")
    assert replica_lag(aws, before) == []  # still rebooting
    clock.advance(seconds(timing.REBOOT_DB_INSTANCE))
    [point] = replica_lag(aws, before)
    assert point["Minimum"] == point["Maximum"] == 0.0
    # One datapoint per period: reading again within it publishes nothing more.
    clock.advance(seconds(timing.RDS_METRIC_PERIOD) / 2)
    assert len(replica_lag(aws, before)) == 1


def test_an_unfenced_reboot_or_a_broken_link_proves_nothing(aws: LabAws, clock: FakeClock
                                                            ) -> None:
    create_cross_region_replica(aws, clock)
    before = datetime.now(UTC) - timedelta(seconds=1)
    rds = aws.client("rds", PRIMARY)
    rds.reboot_db_instance(DBInstanceIdentifier="main")  # clients reconnect and write again
    clock.advance(seconds(timing.REBOOT_DB_INSTANCE))
    assert replica_lag(aws, before) == []
    fence(aws, "dr-fence")
    clock.advance(seconds(timing.MODIFY_DB_INSTANCE))
    fidelity.break_replication(SECONDARY, "main-dr")
    rds.reboot_db_instance(DBInstanceIdentifier="main")
    clock.advance(seconds(timing.REBOOT_DB_INSTANCE))
    [point] = replica_lag(aws, before)
    assert point["Minimum"] == point["Maximum"] == -1.0  # "replication is not active"
