"""ElastiCache global datastores in the emulator behave as the ElastiCache API Reference
documents them, seen through boto3 over HTTP, on a clock the test moves: moto has none."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.lab import timing
from dr.lab.fidelity.elasticache import prefix
from dr.lab.timing import TimingProfile
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
REALISTIC = TimingProfile("realistic")
GID = f"{prefix(PRIMARY)}-sessions"


def seconds(operation: str) -> float:
    return REALISTIC.duration(operation)


def client(aws: LabAws, region: str) -> Any:
    return aws.client("elasticache", region)


def group(aws: LabAws, region: str, group_id: str) -> dict[str, Any]:
    return client(aws, region).describe_replication_groups(
        ReplicationGroupId=group_id)["ReplicationGroups"][0]


def datastore(aws: LabAws, region: str = PRIMARY) -> dict[str, Any]:
    return client(aws, region).describe_global_replication_groups(
        GlobalReplicationGroupId=GID, ShowMemberInfo=True)["GlobalReplicationGroups"][0]


def roles(aws: LabAws) -> dict[str, str | None]:
    return {gid: (group(aws, region, gid).get("GlobalReplicationGroupInfo") or {}).get(
        "GlobalReplicationGroupMemberRole") for region, gid in ((PRIMARY, "main"),
                                                                (SECONDARY, "main-dr"))}


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def create_group(aws: LabAws, region: str, group_id: str, **extra: Any) -> None:
    client(aws, region).create_replication_group(
        ReplicationGroupId=group_id, ReplicationGroupDescription="cache", NumCacheClusters=2,
        CacheSubnetGroupName=f"{group_id}-subnets", SecurityGroupIds=["sg-0123"], **extra)


def pair(aws: LabAws, clock: FakeClock) -> None:
    """A datastore with `main` primary in PRIMARY and `main-dr` secondary in SECONDARY."""
    create_group(aws, PRIMARY, "main")
    clock.advance(seconds(timing.CACHE_CREATE_GROUP))
    client(aws, PRIMARY).create_global_replication_group(
        GlobalReplicationGroupIdSuffix="sessions", PrimaryReplicationGroupId="main")
    clock.advance(seconds(timing.CACHE_CREATE_GLOBAL))
    create_group(aws, SECONDARY, "main-dr", GlobalReplicationGroupId=GID)
    clock.advance(seconds(timing.CACHE_CREATE_GROUP))


def test_a_datastore_is_created_around_a_primary_and_joined_by_a_secondary(
        aws: LabAws, clock: FakeClock) -> None:
    create_group(aws, PRIMARY, "main")
    assert group(aws, PRIMARY, "main")["Status"] == "creating"
    with pytest.raises(ClientError) as refused:  # not available yet
        client(aws, PRIMARY).create_global_replication_group(
            GlobalReplicationGroupIdSuffix="sessions", PrimaryReplicationGroupId="main")
    assert code(refused) == "InvalidReplicationGroupState"
    clock.advance(seconds(timing.CACHE_CREATE_GROUP))
    created = client(aws, PRIMARY).create_global_replication_group(
        GlobalReplicationGroupIdSuffix="sessions", PrimaryReplicationGroupId="main")
    assert created["GlobalReplicationGroup"]["GlobalReplicationGroupId"] == GID
    assert datastore(aws)["Status"] == "creating"
    with pytest.raises(ClientError) as refused:
        create_group(aws, SECONDARY, "main-dr", GlobalReplicationGroupId="abcde-nothing")
    assert code(refused) == "GlobalReplicationGroupNotFoundFault"
    clock.advance(seconds(timing.CACHE_CREATE_GLOBAL))
    assert datastore(aws)["Status"] == "primary-only"
    create_group(aws, SECONDARY, "main-dr", GlobalReplicationGroupId=GID)
    clock.advance(seconds(timing.CACHE_CREATE_GROUP) - 1)
    assert group(aws, SECONDARY, "main-dr")["Status"] == "creating"
    assert datastore(aws)["Status"] == "primary-only"
    clock.advance(1)
    assert group(aws, SECONDARY, "main-dr")["Status"] == "available"
    assert datastore(aws, SECONDARY)["Status"] == "available"
    assert roles(aws) == {"main": "PRIMARY", "main-dr": "SECONDARY"}
    with pytest.raises(ClientError) as refused:  # seen only where it has a member
        client(aws, "eu-west-1").describe_global_replication_groups(GlobalReplicationGroupId=GID)
    assert code(refused) == "GlobalReplicationGroupNotFoundFault"
    # A member's nodes are listed as cache clusters, with their subnet and security groups.
    node = client(aws, SECONDARY).describe_cache_clusters(
        CacheClusterId=group(aws, SECONDARY, "main-dr")["MemberClusters"][0])["CacheClusters"][0]
    assert node["CacheSubnetGroupName"] == "main-dr-subnets"
    assert [g["SecurityGroupId"] for g in node["SecurityGroups"]] == ["sg-0123"]


def test_failover_swaps_the_roles_when_it_ends(aws: LabAws, clock: FakeClock) -> None:
    pair(aws, clock)
    with pytest.raises(ClientError) as refused:  # the primary is no failover target
        client(aws, PRIMARY).failover_global_replication_group(
            GlobalReplicationGroupId=GID, PrimaryRegion=PRIMARY, PrimaryReplicationGroupId="main")
    assert code(refused) == "InvalidParameterValue"
    client(aws, SECONDARY).failover_global_replication_group(
        GlobalReplicationGroupId=GID, PrimaryRegion=SECONDARY, PrimaryReplicationGroupId="main-dr")
    clock.advance(seconds(timing.CACHE_FAILOVER_GLOBAL) - 1)
    assert datastore(aws)["Status"] == "modifying"
    assert roles(aws) == {"main": "PRIMARY", "main-dr": "SECONDARY"}
    with pytest.raises(ClientError) as refused:  # one change at a time
        client(aws, SECONDARY).disassociate_global_replication_group(
            GlobalReplicationGroupId=GID, ReplicationGroupId="main",
            ReplicationGroupRegion=PRIMARY)
    assert code(refused) == "InvalidGlobalReplicationGroupState"
    clock.advance(1)
    assert roles(aws) == {"main": "SECONDARY", "main-dr": "PRIMARY"}
    assert {m["ReplicationGroupId"]: m["Role"] for m in datastore(aws)["Members"]} == \
        {"main": "SECONDARY", "main-dr": "PRIMARY"}
    assert datastore(aws)["Status"] == "available"


def test_a_disassociated_secondary_is_standalone_and_its_datastore_primary_only(
        aws: LabAws, clock: FakeClock) -> None:
    pair(aws, clock)
    with pytest.raises(ClientError) as refused:  # only a secondary can leave
        client(aws, PRIMARY).disassociate_global_replication_group(
            GlobalReplicationGroupId=GID, ReplicationGroupId="main",
            ReplicationGroupRegion=PRIMARY)
    assert code(refused) == "InvalidParameterValue"
    client(aws, SECONDARY).disassociate_global_replication_group(
        GlobalReplicationGroupId=GID, ReplicationGroupId="main-dr",
        ReplicationGroupRegion=SECONDARY)
    assert datastore(aws)["Status"] == "modifying"
    clock.advance(seconds(timing.CACHE_DISASSOCIATE_GLOBAL))
    assert "GlobalReplicationGroupInfo" not in group(aws, SECONDARY, "main-dr")
    assert datastore(aws)["Status"] == "primary-only"
    assert [m["ReplicationGroupId"] for m in datastore(aws)["Members"]] == ["main"]
    with pytest.raises(ClientError) as refused:  # nothing left to fail over to
        client(aws, PRIMARY).failover_global_replication_group(
            GlobalReplicationGroupId=GID, PrimaryRegion=SECONDARY,
            PrimaryReplicationGroupId="main-dr")
    assert code(refused) == "InvalidGlobalReplicationGroupState"


def test_a_member_is_deleted_only_out_of_its_datastore_and_then_is_gone(
        aws: LabAws, clock: FakeClock) -> None:
    pair(aws, clock)
    with pytest.raises(ClientError) as refused:
        client(aws, SECONDARY).delete_replication_group(ReplicationGroupId="main-dr")
    assert code(refused) == "InvalidReplicationGroupState"
    with pytest.raises(ClientError) as refused:  # it still has a secondary
        client(aws, PRIMARY).delete_global_replication_group(
            GlobalReplicationGroupId=GID, RetainPrimaryReplicationGroup=True)
    assert code(refused) == "InvalidGlobalReplicationGroupState"
    client(aws, SECONDARY).disassociate_global_replication_group(
        GlobalReplicationGroupId=GID, ReplicationGroupId="main-dr",
        ReplicationGroupRegion=SECONDARY)
    clock.advance(seconds(timing.CACHE_DISASSOCIATE_GLOBAL))
    client(aws, PRIMARY).delete_global_replication_group(
        GlobalReplicationGroupId=GID, RetainPrimaryReplicationGroup=True)
    assert datastore(aws)["Status"] == "deleting"
    clock.advance(seconds(timing.CACHE_DISASSOCIATE_GLOBAL))
    assert "GlobalReplicationGroupInfo" not in group(aws, PRIMARY, "main")  # kept, standalone
    with pytest.raises(ClientError) as gone:
        datastore(aws)
    assert code(gone) == "GlobalReplicationGroupNotFoundFault"

    node = group(aws, SECONDARY, "main-dr")["MemberClusters"][0]
    client(aws, SECONDARY).delete_replication_group(ReplicationGroupId="main-dr")
    clock.advance(seconds(timing.CACHE_DELETE_GROUP) - 1)
    assert group(aws, SECONDARY, "main-dr")["Status"] == "deleting"
    clock.advance(1)
    with pytest.raises(ClientError) as gone:
        group(aws, SECONDARY, "main-dr")
    assert code(gone) == "ReplicationGroupNotFoundFault"
    with pytest.raises(ClientError) as gone:
        client(aws, SECONDARY).describe_cache_clusters(CacheClusterId=node)
    assert code(gone) == "CacheClusterNotFound"
    # Its name is free again: the new member joins a new datastore under it.
    create_group(aws, SECONDARY, "main-dr")
    assert group(aws, SECONDARY, "main-dr")["Status"] == "creating"
