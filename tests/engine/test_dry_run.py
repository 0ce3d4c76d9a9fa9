"""Dry run (acceptance 7): the real failover runbook against the emulator, with a botocore
hook that records every operation actually sent: none of them mutates, and the report lists
the intended change of every step that would change something."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
import structlog.testing
import yaml
from botocore.exceptions import ClientError

from dr import config as drconfig
from dr import runbooks
from dr.aws.gateway import CallLog, Gateway, Intention, is_mutating
from dr.lab.estate import Shape, provision
from dr.runbook.run import Request, Runner
from dr.steps import sns
from tests.support.sent import Sent

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
CHANGING_STEP_TYPES = {
    # step type: the operations its intentions must include, in which region
    "rds.fence-primary": ({"ModifyDBInstance"}, PRIMARY),
    "rds.promote-replica": ({"PromoteReadReplica"}, SECONDARY),
    "ecs.scale-up": ({"UpdateService"}, SECONDARY),
    "ssm.put-parameter": ({"PutParameter"}, SECONDARY),
    "route53.switch-records": ({"ChangeResourceRecordSets"}, "us-east-1"),
    "cloudfront.switch-origin": ({"UpdateDistribution"}, "us-east-1"),
    "ecs.scale-down": ({"UpdateService"}, PRIMARY),
}




@pytest.fixture
def estate(aws: Any, tmp_path: Path) -> tuple[drconfig.Config, dict[str, Any]]:
    built = provision(boto3.session.Session(), primary=PRIMARY, secondary=SECONDARY,
                      shape=Shape(databases=2, services=2, parameters=2, records_per_zone=2))
    path = tmp_path / "dr.yaml"
    path.write_text(yaml.safe_dump(built.config))
    return drconfig.load(path), built.config


def snapshot(aws: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """What a failover would change, read straight from the emulator."""
    rds = aws.client("rds", SECONDARY)
    route53 = aws.client("route53", "us-east-1")
    cloudfront = aws.client("cloudfront", "us-east-1")
    return {
        "replicas": [rds.describe_db_instances(DBInstanceIdentifier=db["secondary"])[
            "DBInstances"][0].get("ReadReplicaSourceDBInstanceIdentifier")
            for db in raw["databases"]],
        "primaries": [aws.client("rds", PRIMARY).describe_db_instances(
            DBInstanceIdentifier=db["primary"])["DBInstances"][0]["VpcSecurityGroups"]
            for db in raw["databases"]],
        "parameters": [aws.client("ssm", SECONDARY).get_parameter(Name=p["name"])[
            "Parameter"]["Value"] for p in raw["parameters"]],
        "desired": {region: [aws.client("ecs", region).describe_services(
            cluster=s["cluster"], services=[s["service"]])["services"][0]["desiredCount"]
            for s in raw["services"]] for region in (PRIMARY, SECONDARY)},
        "dns": [route53.list_resource_record_sets(HostedZoneId=r["zone_id"])[
            "ResourceRecordSets"] for r in raw["dns"]],
        "cdn": [cloudfront.get_distribution_config(Id=d["distribution_id"])[
            "DistributionConfig"]["Origins"] for d in raw["cdn"]],
        "security_groups": aws.client("ec2", PRIMARY).describe_security_groups()[
            "SecurityGroups"],
    }


def test_plan_sends_no_mutating_call_and_lists_every_intention(
        aws: Any, tmp_path: Path, estate: tuple[drconfig.Config, dict[str, Any]],
        own_lock_dir: Path) -> None:
    cfg, raw = estate
    before = snapshot(aws, raw)
    sent = Sent()
    # Built as the CLI builds it, with the SNS notifier (a publish is a mutating call too).
    runner = Runner(cfg, planner=runbooks.phases, notifier=sns.publish,
                    session_factory=sent.session, state_dir=tmp_path / ".dr")

    with structlog.testing.capture_logs() as events:
        result = runner.run(Request(command="plan", to="secondary", dry_run=True,
                                    report_dir=tmp_path / "report"))
    # No notification was sent, and no log line says one was.
    assert [e["event"] for e in events if e["event"].startswith("notify.")] == [
        "notify.planned", "notify.planned"]

    assert result.outcome == "planned" and result.exit_code == 0
    assert result.report["dry_run"] is True
    assert sent.operations, "the hook saw no call at all: it is not wired in"
    assert [op for op in sent.operations if is_mutating(op)] == []
    # The readiness checks and the steps' "already done?" reads did go out.
    assert {"DescribeDBInstances", "DescribeServices", "GetParameter"} <= set(sent.operations)

    steps = result.report["steps"]
    assert {s["type"] for s in steps} == set(CHANGING_STEP_TYPES)
    assert len(steps) == 2 * 2 + 2 * 2 + 2 + 1 + 1  # per db: fence+promote; per service: up+down
    for step in steps:
        operations, region = CHANGING_STEP_TYPES[step["type"]]
        intentions = step["detail"].get("intentions", [])
        assert step["status"] == "planned", step
        assert step["detail"]["plan"], step
        assert operations <= {i["operation"] for i in intentions}, step
        assert {i["region"] for i in intentions} == {region}, step

    by_type: dict[str, list[dict[str, Any]]] = {}
    for step in steps:
        by_type.setdefault(step["type"], []).extend(step["detail"]["intentions"])
    desired = {i["params"]["desiredCount"] for i in by_type["ecs.scale-up"]}
    assert desired == {s["active_count"] for s in raw["services"]}
    assert {i["params"]["desiredCount"] for i in by_type["ecs.scale-down"]} == {
        s["standby_count"] for s in raw["services"]}
    assert {(i["params"]["Name"], i["params"]["Value"]) for i in by_type[
        "ssm.put-parameter"]} == {(p["name"], p["secondary"]) for p in raw["parameters"]}
    assert {i["params"]["DBInstanceIdentifier"] for i in by_type["rds.promote-replica"]} \
        == {db["secondary"] for db in raw["databases"]}
    assert "usw2" in str(by_type["route53.switch-records"])
    assert "usw2" in str(by_type["cloudfront.switch-origin"])

    # Nothing changed, and a dry run takes no lock.
    assert snapshot(aws, raw) == before
    assert not own_lock_dir.exists()
    assert (tmp_path / "report" / "report.json").is_file()


def test_gateway_dry_run_records_a_mutating_call_instead_of_sending_it(aws: Any) -> None:
    sent = Sent()
    gateway = Gateway(dry_run=True, patient_regions=frozenset({SECONDARY}),
                      session_factory=sent.session)
    calls = CallLog()
    step_aws = gateway.for_step(time.monotonic() + 60, calls)

    answer = step_aws.call("ssm", SECONDARY, "put_parameter", Name="/dry/run", Value="v",
                           Type="String")
    guarded = step_aws.client("ssm", SECONDARY).put_parameter(Name="/dry/guarded",
                                                              Value="w", Type="String")

    assert answer == {} and guarded == {}
    assert sent.operations == []
    assert calls.intentions == [
        Intention("ssm", SECONDARY, "PutParameter",
                  {"Name": "/dry/run", "Value": "v", "Type": "String"}),
        Intention("ssm", SECONDARY, "PutParameter",
                  {"Name": "/dry/guarded", "Value": "w", "Type": "String"})]
    # Reads are still sent, and show that nothing was written.
    with pytest.raises(ClientError) as missing:
        step_aws.call("ssm", SECONDARY, "get_parameter", Name="/dry/run")
    assert missing.value.response["Error"]["Code"] == "ParameterNotFound"
    assert sent.operations == ["GetParameter"]
    assert aws.client("ssm", SECONDARY).describe_parameters()["Parameters"] == []


def test_gateway_without_dry_run_sends_the_same_call(aws: Any) -> None:
    sent = Sent()
    gateway = Gateway(dry_run=False, patient_regions=frozenset({SECONDARY}),
                      session_factory=sent.session)
    calls = CallLog()

    gateway.for_step(time.monotonic() + 60, calls).call(
        "ssm", SECONDARY, "put_parameter", Name="/real/run", Value="v", Type="String")

    assert sent.operations == ["PutParameter"] and calls.intentions == []
    assert aws.client("ssm", SECONDARY).get_parameter(Name="/real/run")[
        "Parameter"]["Value"] == "v"


@pytest.mark.parametrize("operation, mutating", [
    ("DescribeDBInstances", False), ("GetParameter", False), ("ListResourceRecordSets", False),
    ("HeadObject", False), ("PromoteReadReplica", True), ("ModifyDBInstance", True),
    ("UpdateService", True), ("PutParameter", True), ("ChangeResourceRecordSets", True),
    ("UpdateDistribution", True), ("DeleteItem", True), ("CreateSecurityGroup", True),
])
def test_is_mutating(operation: str, mutating: bool) -> None:
    assert is_mutating(operation) is mutating


def test_drill_dry_run_sends_no_mutating_call_and_is_planned(
        aws: Any, tmp_path: Path, estate: tuple[drconfig.Config, dict[str, Any]]) -> None:
    cfg, raw = estate
    before = snapshot(aws, raw)
    sent = Sent()
    runner = Runner(cfg, planner=runbooks.phases, notifier=sns.publish,
                    session_factory=sent.session, state_dir=tmp_path / ".dr")

    result = runner.run(Request(command="drill", to="secondary", dry_run=True))

    assert [op for op in sent.operations if is_mutating(op)] == []
    assert snapshot(aws, raw) == before
    assert result.outcome == "planned" and result.exit_code == 0, [
        (s["id"], s["error"]) for s in result.report["steps"] if s["error"]]
    creates = [s for s in result.report["steps"] if s["type"] == "rds.create-replica"
               and s["id"].startswith("reprotect/")]
    assert len(creates) == len(raw["databases"])
    for step in creates:
        assert "CreateDBInstanceReadReplica" in {
            i["operation"] for i in step["detail"]["intentions"]}
