"""The fidelity layer makes the emulator behave as AWS documents, seen through boto3 over
HTTP. Each test asserts AWS's behaviour (never moto's), with a clock the test moves."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.lab import fidelity, timing
from dr.lab.timing import INSTANT, TimingProfile
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws

PRIMARY, SECONDARY = "us-east-1", "us-west-2"


REALISTIC = TimingProfile("realistic")


def seconds(operation: str) -> float:
    return REALISTIC.duration(operation)


def create_primary(aws: LabAws, identifier: str = "main", region: str = PRIMARY) -> Any:
    return aws.client("rds", region).create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="timeline",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        BackupRetentionPeriod=7,
    )["DBInstance"]


def describe(aws: LabAws, identifier: str, region: str) -> Any:
    return aws.client("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)[
        "DBInstances"
    ][0]


def create_cross_region_replica(aws: LabAws, clock: FakeClock | None = None) -> None:
    primary = create_primary(aws)
    aws.client("rds", SECONDARY).create_db_instance_read_replica(
        DBInstanceIdentifier="main-dr",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        DBInstanceClass="db.t3.micro",
    )
    if clock is not None:
        clock.advance(seconds(timing.CREATE_READ_REPLICA))


# --- RDS -------------------------------------------------------------------------------


def test_cross_region_replica_is_creating_until_modelled_time_passes(
    aws: LabAws, clock: FakeClock
) -> None:
    create_cross_region_replica(aws)
    assert describe(aws, "main-dr", SECONDARY)["DBInstanceStatus"] == "creating"
    clock.advance(seconds(timing.CREATE_READ_REPLICA) - 1)
    assert describe(aws, "main-dr", SECONDARY)["DBInstanceStatus"] == "creating"
    clock.advance(1)
    replica = describe(aws, "main-dr", SECONDARY)
    assert replica["DBInstanceStatus"] == "available"
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(":db:main")


def test_cross_region_promotion_goes_modifying_rebooting_available_then_detaches(
    aws: LabAws, clock: FakeClock
) -> None:
    create_cross_region_replica(aws, clock)
    promoted = aws.client("rds", SECONDARY).promote_read_replica(DBInstanceIdentifier="main-dr")
    assert promoted["DBInstance"]["DBInstanceStatus"] == "modifying"

    seen = []
    total = seconds(timing.PROMOTE_READ_REPLICA)
    for _ in range(10):
        replica = describe(aws, "main-dr", SECONDARY)
        seen.append(replica["DBInstanceStatus"])
        if replica["DBInstanceStatus"] != "available":
            # Until promotion completes the instance is still a replica of its source.
            assert replica.get("ReadReplicaSourceDBInstanceIdentifier")
        clock.advance(total / 8)
    assert seen[0] == "modifying"
    assert "rebooting" in seen
    assert seen[-1] == "available"
    assert seen.index("rebooting") < seen.index("available")

    replica = describe(aws, "main-dr", SECONDARY)
    assert "ReadReplicaSourceDBInstanceIdentifier" not in replica
    source = describe(aws, "main", PRIMARY)
    assert source["ReadReplicaDBInstanceIdentifiers"] == []


def test_same_region_promotion_detaches_from_source(aws: LabAws) -> None:
    create_primary(aws)
    rds = aws.client("rds", PRIMARY)
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="main-ro", SourceDBInstanceIdentifier="main"
    )
    assert describe(aws, "main", PRIMARY)["ReadReplicaDBInstanceIdentifiers"] == ["main-ro"]

    rds.promote_read_replica(DBInstanceIdentifier="main-ro")

    promoted = describe(aws, "main-ro", PRIMARY)
    assert promoted["DBInstanceStatus"] == "available"
    assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    assert describe(aws, "main", PRIMARY)["ReadReplicaDBInstanceIdentifiers"] == []


def test_promoting_an_instance_that_is_not_a_replica_is_invalid_state(aws: LabAws) -> None:
    create_primary(aws)
    with pytest.raises(ClientError) as error:
        aws.client("rds", PRIMARY).promote_read_replica(DBInstanceIdentifier="main")
    assert error.value.response["Error"]["Code"] == "InvalidDBInstanceState"


def test_promoting_twice_is_invalid_state_during_and_after_promotion(
    aws: LabAws, clock: FakeClock
) -> None:
    create_cross_region_replica(aws, clock)
    rds = aws.client("rds", SECONDARY)
    rds.promote_read_replica(DBInstanceIdentifier="main-dr")
    with pytest.raises(ClientError) as during:
        rds.promote_read_replica(DBInstanceIdentifier="main-dr")
    clock.advance(seconds(timing.PROMOTE_READ_REPLICA))
    with pytest.raises(ClientError) as after:
        rds.promote_read_replica(DBInstanceIdentifier="main-dr")
    assert during.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    assert after.value.response["Error"]["Code"] == "InvalidDBInstanceState"


def test_a_promotion_is_announced_once_with_region_and_identifier_before_available(
    aws: LabAws, clock: FakeClock
) -> None:
    create_cross_region_replica(aws, clock)
    statuses_at_hook: list[str] = []
    calls: list[tuple[str, str]] = []

    def hook(event: fidelity.RdsEvent) -> None:
        if event.kind != "promoted":
            return
        calls.append((event.region, event.identifier))
        # The hook runs before anyone can see the instance available.
        statuses_at_hook.append(describe(aws, event.identifier, event.region)["DBInstanceStatus"])

    unregister = fidelity.on_rds(hook)
    try:
        aws.client("rds", SECONDARY).promote_read_replica(DBInstanceIdentifier="main-dr")
        describe(aws, "main-dr", SECONDARY)
        assert calls == []
        clock.advance(seconds(timing.PROMOTE_READ_REPLICA))
        assert describe(aws, "main-dr", SECONDARY)["DBInstanceStatus"] == "available"
        describe(aws, "main-dr", SECONDARY)
    finally:
        unregister()
    assert calls == [(SECONDARY, "main-dr")]
    assert statuses_at_hook == ["rebooting"]


def test_a_promotion_is_announced_on_time_without_anyone_polling(aws: LabAws) -> None:
    fidelity.apply(TimingProfile("realistic", time_scale=0.001))  # promotion: 0.3 s
    fired = threading.Event()
    create_cross_region_replica(aws)
    time.sleep(seconds(timing.CREATE_READ_REPLICA) * 0.001)
    unregister = fidelity.on_rds(lambda event: event.kind == "promoted" and fired.set())
    try:
        started = time.monotonic()
        aws.client("rds", SECONDARY).promote_read_replica(DBInstanceIdentifier="main-dr")
        assert fired.wait(timeout=5)
        assert time.monotonic() - started >= 0.3
    finally:
        unregister()
        fidelity.apply(INSTANT)


def test_a_renamed_instance_is_found_under_neither_name_until_its_new_name_is_effective(
    aws: LabAws, clock: FakeClock
) -> None:
    """RDS: the old name is deleted at once; the new one "becomes effective in about 10
    minutes", and the instance "is not available until" then."""
    create_primary(aws)
    rds = aws.client("rds", PRIMARY)
    renamed = rds.modify_db_instance(
        DBInstanceIdentifier="main",
        NewDBInstanceIdentifier="main-retired-20261124",
        ApplyImmediately=True,
    )["DBInstance"]
    assert renamed["DBInstanceStatus"] == "renaming"
    for name in ("main", "main-retired-20261124"):
        with pytest.raises(ClientError) as error:
            describe(aws, name, PRIMARY)
        assert error.value.response["Error"]["Code"] == "DBInstanceNotFound", name
    assert rds.describe_db_instances()["DBInstances"] == []
    # The old identifier is free at once: a replica can be created under it.
    primary = create_primary(aws, "source")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="main", SourceDBInstanceIdentifier=primary["DBInstanceArn"]
    )
    clock.advance(seconds(timing.RENAME_DB_INSTANCE) * 0.99)
    assert describe(aws, "main-retired-20261124", PRIMARY)["DBInstanceStatus"] == "renaming"
    with pytest.raises(ClientError) as error:
        rds.modify_db_instance(
            DBInstanceIdentifier="main-retired-20261124", BackupRetentionPeriod=1
        )
    assert error.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    clock.advance(seconds(timing.RENAME_DB_INSTANCE) * 0.01)
    assert describe(aws, "main-retired-20261124", PRIMARY)["DBInstanceStatus"] == "available"


def test_renaming_onto_an_identifier_that_is_taken_is_refused(aws: LabAws) -> None:
    """RDS: "You can't use an existing DB instance name when renaming an instance"
    (ModifyDBInstance: DBInstanceAlreadyExists)."""
    create_primary(aws, "main")
    create_primary(aws, "other")
    with pytest.raises(ClientError) as error:
        aws.client("rds", PRIMARY).modify_db_instance(
            DBInstanceIdentifier="main", NewDBInstanceIdentifier="other", ApplyImmediately=True
        )
    assert error.value.response["Error"]["Code"] == "DBInstanceAlreadyExists"
    assert describe(aws, "main", PRIMARY)["DBInstanceStatus"] == "available"
    assert describe(aws, "other", PRIMARY)["DBInstanceStatus"] == "available"


def test_a_read_replica_under_an_identifier_that_is_taken_is_refused(aws: LabAws) -> None:
    """RDS: CreateDBInstanceReadReplica answers DBInstanceAlreadyExists ("The user already
    has a DB instance with the given identifier"); moto started the instance over."""
    create_cross_region_replica(aws)
    source = describe(aws, "main", PRIMARY)["DBInstanceArn"]
    with pytest.raises(ClientError) as error:
        aws.client("rds", SECONDARY).create_db_instance_read_replica(
            DBInstanceIdentifier="main-dr",
            SourceDBInstanceIdentifier=source,
            DBInstanceClass="db.t3.micro",
        )
    assert error.value.response["Error"]["Code"] == "DBInstanceAlreadyExists"
    assert describe(aws, "main-dr", SECONDARY)["DBInstanceStatus"] == "available"
    assert describe(aws, "main", PRIMARY)["ReadReplicaDBInstanceIdentifiers"] == [
        describe(aws, "main-dr", SECONDARY)["DBInstanceArn"]
    ]


def test_security_group_change_shows_modifying(aws: LabAws, clock: FakeClock) -> None:
    create_primary(aws)
    ec2 = aws.client("ec2", PRIMARY)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    fence = ec2.create_security_group(GroupName="fence", Description="deny all", VpcId=vpc)
    modified = aws.client("rds", PRIMARY).modify_db_instance(
        DBInstanceIdentifier="main", VpcSecurityGroupIds=[fence["GroupId"]], ApplyImmediately=True
    )["DBInstance"]
    assert modified["DBInstanceStatus"] == "modifying"
    clock.advance(seconds(timing.MODIFY_DB_INSTANCE))
    instance = describe(aws, "main", PRIMARY)
    assert instance["DBInstanceStatus"] == "available"
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == [fence["GroupId"]]


def test_deleting_a_cross_region_replica_unlists_it_from_its_source(aws: LabAws) -> None:
    create_cross_region_replica(aws)
    aws.client("rds", SECONDARY).delete_db_instance(
        DBInstanceIdentifier="main-dr", SkipFinalSnapshot=True
    )
    assert describe(aws, "main", PRIMARY)["ReadReplicaDBInstanceIdentifiers"] == []


# --- Route 53 --------------------------------------------------------------------------


def upsert(aws: LabAws, zone_id: str, value: str) -> Any:
    return aws.client("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "api.timeline.example.com",
                        "Type": "CNAME",
                        "TTL": 60,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )["ChangeInfo"]


def test_route53_change_is_pending_until_propagated_then_insync(
    aws: LabAws, clock: FakeClock
) -> None:
    route53 = aws.client("route53")
    zone = route53.create_hosted_zone(Name="timeline.example.com", CallerReference="z1")
    first = upsert(aws, zone["HostedZone"]["Id"], "api.use1.example.net")
    second = upsert(aws, zone["HostedZone"]["Id"], "api.usw2.example.net")
    assert first["Status"] == "PENDING"
    assert first["Id"] != second["Id"]
    clock.advance(seconds(timing.ROUTE53_CHANGE) - 1)
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "PENDING"
    clock.advance(1)
    assert route53.get_change(Id=first["Id"])["ChangeInfo"]["Status"] == "INSYNC"
    # The record itself is changed at once; only its propagation takes time.
    records = route53.list_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"])
    values = [
        r["ResourceRecords"][0]["Value"]
        for r in records["ResourceRecordSets"]
        if r["Type"] == "CNAME"
    ]
    assert values == ["api.usw2.example.net"]


def test_route53_get_change_of_unknown_id_is_no_such_change(aws: LabAws) -> None:
    with pytest.raises(ClientError) as error:
        aws.client("route53").get_change(Id="C0000000000000")
    assert error.value.response["Error"]["Code"] == "NoSuchChange"


def test_route53_instant_profile_is_insync_on_first_get_change(aws: LabAws) -> None:
    route53 = aws.client("route53")
    zone = route53.create_hosted_zone(Name="timeline.example.com", CallerReference="z1")
    change = upsert(aws, zone["HostedZone"]["Id"], "api.usw2.example.net")
    assert change["Status"] == "PENDING"
    assert route53.get_change(Id=change["Id"])["ChangeInfo"]["Status"] == "INSYNC"


# --- CloudFront ------------------------------------------------------------------------


def distribution_config(domain: str) -> dict[str, Any]:
    return {
        "CallerReference": "timeline",
        "Comment": "",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "api",
                    "DomainName": domain,
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }


def test_cloudfront_update_needs_current_etag_and_changes_it(aws: LabAws) -> None:
    cloudfront = aws.client("cloudfront")
    created = cloudfront.create_distribution(
        DistributionConfig=distribution_config("alb.use1.example.net")
    )
    dist_id = created["Distribution"]["Id"]
    current = cloudfront.get_distribution_config(Id=dist_id)
    assert current["ETag"] == cloudfront.get_distribution(Id=dist_id)["ETag"]
    config = current["DistributionConfig"]
    config["Origins"]["Items"][0]["DomainName"] = "alb.usw2.example.net"

    with pytest.raises(ClientError) as missing:
        cloudfront.update_distribution(Id=dist_id, DistributionConfig=config)
    with pytest.raises(ClientError) as stale:
        cloudfront.update_distribution(Id=dist_id, DistributionConfig=config, IfMatch="E0STALE")
    assert missing.value.response["Error"]["Code"] == "InvalidIfMatchVersion"
    assert stale.value.response["Error"]["Code"] == "PreconditionFailed"
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412

    updated = cloudfront.update_distribution(
        Id=dist_id, DistributionConfig=config, IfMatch=current["ETag"]
    )
    assert updated["ETag"] != current["ETag"]
    assert cloudfront.get_distribution_config(Id=dist_id)["ETag"] == updated["ETag"]
    with pytest.raises(ClientError) as reused:
        cloudfront.update_distribution(
            Id=dist_id, DistributionConfig=config, IfMatch=current["ETag"]
        )
    assert reused.value.response["Error"]["Code"] == "PreconditionFailed"


def test_cloudfront_is_in_progress_until_propagated_then_deployed(
    aws: LabAws, clock: FakeClock
) -> None:
    cloudfront = aws.client("cloudfront")
    created = cloudfront.create_distribution(
        DistributionConfig=distribution_config("alb.use1.example.net")
    )
    dist_id = created["Distribution"]["Id"]
    assert created["Distribution"]["Status"] == "InProgress"
    clock.advance(seconds(timing.CLOUDFRONT_DEPLOY))
    current = cloudfront.get_distribution(Id=dist_id)
    assert current["Distribution"]["Status"] == "Deployed"

    config = cloudfront.get_distribution_config(Id=dist_id)["DistributionConfig"]
    config["Origins"]["Items"][0]["DomainName"] = "alb.usw2.example.net"
    cloudfront.update_distribution(Id=dist_id, DistributionConfig=config, IfMatch=current["ETag"])
    clock.advance(seconds(timing.CLOUDFRONT_DEPLOY) - 1)
    assert cloudfront.get_distribution(Id=dist_id)["Distribution"]["Status"] == "InProgress"
    listed = cloudfront.list_distributions()["DistributionList"]["Items"]
    assert [d["Status"] for d in listed] == ["InProgress"]
    clock.advance(1)
    assert cloudfront.get_distribution(Id=dist_id)["Distribution"]["Status"] == "Deployed"


# --- ECS -------------------------------------------------------------------------------


def create_service(aws: LabAws, desired: int) -> Any:
    ecs = aws.client("ecs", SECONDARY)
    ecs.create_cluster(clusterName="timeline")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 512}]
    )
    ecs.create_service(
        cluster="timeline",
        serviceName="api",
        taskDefinition="api",
        desiredCount=desired,
        launchType="FARGATE",
    )
    return ecs


def counts(ecs: Any) -> tuple[int, int, int]:
    service = ecs.describe_services(cluster="timeline", services=["api"])["services"][0]
    return service["desiredCount"], service["runningCount"], service["pendingCount"]


def test_ecs_new_service_starts_its_desired_tasks(aws: LabAws, clock: FakeClock) -> None:
    ecs = create_service(aws, desired=2)
    assert counts(ecs) == (2, 0, 2)
    clock.advance(2 * seconds(timing.ECS_TASK_START))
    assert counts(ecs) == (2, 2, 0)


def test_ecs_scale_out_climbs_and_scale_in_falls(aws: LabAws, clock: FakeClock) -> None:
    ecs = create_service(aws, desired=1)
    clock.advance(2 * seconds(timing.ECS_TASK_START))
    ecs.update_service(cluster="timeline", service="api", desiredCount=4)

    running_seen = []
    for _ in range(12):
        desired, running, pending = counts(ecs)
        assert desired == 4 and running + pending == 4
        running_seen.append(running)
        clock.advance(seconds(timing.ECS_TASK_START) / 5)
    assert running_seen[0] == 1
    assert running_seen == sorted(running_seen)
    assert len(set(running_seen)) >= 3  # climbs, rather than jumping to 4
    assert running_seen[-1] == 4

    ecs.update_service(cluster="timeline", service="api", desiredCount=1)
    assert counts(ecs) == (1, 4, 0)
    clock.advance(seconds(timing.ECS_TASK_STOP))
    assert counts(ecs) == (1, 1, 0)


def test_ecs_instant_profile_runs_desired_tasks_at_once(aws: LabAws) -> None:
    ecs = create_service(aws, desired=3)
    assert counts(ecs) == (3, 3, 0)
    ecs.update_service(cluster="timeline", service="api", desiredCount=1)
    assert counts(ecs) == (1, 1, 0)


# --- profiles and installation ---------------------------------------------------------


def test_instant_profile_promotes_and_detaches_at_once(aws: LabAws) -> None:
    create_cross_region_replica(aws)
    aws.client("rds", SECONDARY).promote_read_replica(DBInstanceIdentifier="main-dr")
    replica = describe(aws, "main-dr", SECONDARY)
    assert replica["DBInstanceStatus"] == "available"
    assert "ReadReplicaSourceDBInstanceIdentifier" not in replica


def test_profile_scales_realistic_durations() -> None:
    scaled = TimingProfile("realistic", time_scale=0.1)
    for row in timing.REALISTIC:
        assert scaled.duration(row.operation) == pytest.approx(row.seconds * 0.1)
        assert INSTANT.duration(row.operation) == 0.0
        assert row.source.startswith("https://")
    with pytest.raises(ValueError):
        TimingProfile("optimistic")


def test_timing_table_renders_one_markdown_row_per_operation() -> None:
    table = timing.markdown_table()
    assert table.count("\n") == len(timing.REALISTIC) + 2
    assert "https://aws.amazon.com/route53/faqs/" in table


def test_apply_is_idempotent(aws: LabAws) -> None:
    from moto.rds.models import RDSBackend
    from moto.route53.responses import Route53

    before = (RDSBackend.promote_read_replica, Route53.change_resource_record_sets)
    fidelity.apply(INSTANT)
    fidelity.apply(INSTANT)
    assert (RDSBackend.promote_read_replica, Route53.change_resource_record_sets) == before


def test_a_gzip_compressed_request_is_accepted(aws: LabAws) -> None:
    """botocore gzips a PutMetricData body of 10 KiB or more; AWS takes it, so must the lab."""
    data = [{"MetricName": "StepSeconds", "Value": float(i), "Unit": "Seconds",
             "Dimensions": [{"Name": "Step", "Value": f"failover/step-{i:03d}-" + "x" * 60}]}
            for i in range(100)]
    cloudwatch = aws.client("cloudwatch", "us-west-2")
    cloudwatch.put_metric_data(Namespace="DR", MetricData=data)
    assert len(cloudwatch.list_metrics(Namespace="DR")["Metrics"]) == 100

