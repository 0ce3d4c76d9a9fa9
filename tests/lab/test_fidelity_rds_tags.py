"""The lab refuses every RDS tag that RDS refuses (API Reference, `Tag`): characters outside
letters, digits, white-space and `_.:/=+-@`, a key over 128 or a value over 256 characters,
an empty key, and the `aws:` and `rds:` prefixes. Whatever RDS accepts, the lab accepts."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from dr.steps.rds import fence_tag_groups
from tests.support.lab_aws import LabAws

REGION = "eu-central-1"

REFUSED = [
    pytest.param({"Key": "dr:fenced-from-security-groups", "Value": "sg-1,sg-2"}, id="comma"),
    pytest.param({"Key": "owner", "Value": "a;b"}, id="semicolon"),
    pytest.param({"Key": "owner", "Value": "x" * 257}, id="value-257"),
    pytest.param({"Key": "k" * 129, "Value": "v"}, id="key-129"),
    pytest.param({"Key": "", "Value": "v"}, id="empty-key"),
    pytest.param({"Key": "aws:owner", "Value": "v"}, id="aws-prefix-key"),
    pytest.param({"Key": "rds:owner", "Value": "v"}, id="rds-prefix-key"),
    pytest.param({"Key": "owner", "Value": "aws:team"}, id="aws-prefix-value"),
    pytest.param({"Key": "team#1", "Value": "v"}, id="hash-in-key"),
]
ACCEPTED = [
    pytest.param({"Key": "dr:fenced-from-security-groups", "Value": "sg-1 sg-2 sg-3"},
                 id="spaces"),
    pytest.param({"Key": "k" * 128, "Value": "v" * 256}, id="longest"),
    pytest.param({"Key": "owner", "Value": ""}, id="empty-value"),
    pytest.param({"Key": "équipe", "Value": "données_1.2:3/4=5+6-7@8"}, id="letters-and-marks"),
]


@pytest.fixture
def instance(aws: LabAws) -> dict[str, Any]:
    return aws.client("rds", REGION).create_db_instance(
        DBInstanceIdentifier="tagged", Engine="postgres", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername="u", MasterUserPassword="p" * 12)["DBInstance"]


@pytest.mark.parametrize("tag", REFUSED)
def test_add_tags_refuses_what_rds_refuses(aws: LabAws, instance: dict[str, Any],
                                           tag: dict[str, str]) -> None:
    rds = aws.client("rds", REGION)
    with pytest.raises(ClientError) as refused:
        rds.add_tags_to_resource(ResourceName=instance["DBInstanceArn"], Tags=[tag])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    stored = rds.list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
    assert stored == []


@pytest.mark.parametrize("tag", ACCEPTED)
def test_add_tags_accepts_what_rds_accepts(aws: LabAws, instance: dict[str, Any],
                                           tag: dict[str, str]) -> None:
    rds = aws.client("rds", REGION)
    rds.add_tags_to_resource(ResourceName=instance["DBInstanceArn"], Tags=[tag])
    stored = rds.list_tags_for_resource(ResourceName=instance["DBInstanceArn"])["TagList"]
    assert stored == [tag]


def test_creating_an_instance_with_a_refused_tag_creates_nothing(aws: LabAws) -> None:
    rds = aws.client("rds", REGION)
    with pytest.raises(ClientError) as refused:
        rds.create_db_instance(
            DBInstanceIdentifier="refused", Engine="postgres", DBInstanceClass="db.t4g.micro",
            AllocatedStorage=20, MasterUsername="u", MasterUserPassword="p" * 12,
            Tags=[{"Key": "groups", "Value": "sg-1,sg-2"}])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert rds.describe_db_instances()["DBInstances"] == []


@pytest.mark.parametrize(("value", "groups"), [
    ("sg-1 sg-2 sg-3", ["sg-1", "sg-2", "sg-3"]),
    ("sg-1,sg-2", ["sg-1", "sg-2"]),  # as dr 0.1 wrote it
    ("sg-1", ["sg-1"]),
    ("", []),
])
def test_the_fence_tag_reads_both_forms(value: str, groups: list[str]) -> None:
    assert fence_tag_groups(value) == groups
