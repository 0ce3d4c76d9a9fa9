"""The contract's "What a failover to R must leave behind", checked through boto3."""

from __future__ import annotations

from typing import Any

from dr.steps.rds import FENCE_GROUP
from tests.support.lab_aws import LabAws


def _other(role: str) -> str:
    return "primary" if role == "secondary" else "secondary"


def database(aws: LabAws, region: str, identifier: str) -> dict[str, Any]:
    return aws.client("rds", region).describe_db_instances(
        DBInstanceIdentifier=identifier)["DBInstances"][0]


def record_values(aws: LabAws, zone_id: str) -> dict[tuple[str, str], list[str]]:
    route53 = aws.client("route53")
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return {(s["Name"].rstrip(".").lower(), s["Type"]): [r["Value"] for r in
                                                         s.get("ResourceRecords", [])]
            for s in sets}


def origins(aws: LabAws, distribution_id: str) -> dict[str, str]:
    config = aws.client("cloudfront").get_distribution_config(Id=distribution_id)
    return {o["Id"]: o["DomainName"] for o in config["DistributionConfig"]["Origins"]["Items"]}


def desired(aws: LabAws, region: str, cluster: str, service: str) -> int:
    found = aws.client("ecs", region).describe_services(cluster=cluster, services=[service])
    return int(found["services"][0]["desiredCount"])


def parameter(aws: LabAws, region: str, name: str) -> str:
    return str(aws.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"])


def assert_failed_over(aws: LabAws, config: dict[str, Any], to: str, *,
                       other_reachable: bool = True) -> None:
    regions = config["regions"]
    frm = _other(to)
    for db in config["databases"]:
        promoted = database(aws, regions[to], db[to])
        assert promoted["DBInstanceStatus"] == "available", db
        assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted, db
        if other_reachable:
            old = database(aws, regions[frm], db[frm])
            source = old.get("ReadReplicaSourceDBInstanceIdentifier", "")
            if source.rsplit(":", 1)[-1] == db[to]:
                continue  # rebuilt as a replica of the new primary: it takes no writes
            groups = old.get("VpcSecurityGroups", [])
            fenced = [g["VpcSecurityGroupId"] for g in groups]
            names = aws.client("ec2", regions[frm]).describe_security_groups(
                GroupIds=fenced)["SecurityGroups"] if fenced else []
            assert fenced and all(g["GroupName"] == FENCE_GROUP for g in names), db
    for record in config["dns"]:
        values = record_values(aws, record["zone_id"])
        assert values[(record["name"].rstrip(".").lower(), record["type"])] == [record[to]]
    for cdn in config["cdn"]:
        assert origins(aws, cdn["distribution_id"])[cdn["origin_id"]] == cdn[to]
    for svc in config["services"]:
        assert desired(aws, regions[to], svc["cluster"], svc["service"]) == svc["active_count"]
        if other_reachable:
            assert desired(aws, regions[frm], svc["cluster"], svc["service"]) == \
                svc["standby_count"]
    for param in config["parameters"]:
        assert parameter(aws, regions[to], param["name"]) == param[to]
