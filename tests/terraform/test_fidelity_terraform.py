"""The moto patches in dr.lab.fidelity_terraform restore the AWS behaviour they name."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from dr.lab import fidelity_terraform

TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::tls-only-bucket", "arn:aws:s3:::tls-only-bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


@pytest.fixture(autouse=True)
def patched():
    fidelity_terraform.apply()


@mock_aws
def test_tls_only_bucket_policy_admits_tls_requests():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="tls-only-bucket")
    s3.put_bucket_policy(Bucket="tls-only-bucket", Policy=json.dumps(TLS_ONLY))
    s3.put_object(Bucket="tls-only-bucket", Key="state", Body=b"{}")
    assert s3.get_object(Bucket="tls-only-bucket", Key="state")["Body"].read() == b"{}"


def test_deny_still_applies_when_its_condition_holds():
    from moto.iam.access_control import IAMPolicy, PermissionResult

    policy = IAMPolicy(json.dumps(TLS_ONLY))
    insecure = policy.is_action_permitted(
        "s3:GetObject", "arn:aws:s3:::tls-only-bucket/state",
        incoming_condition_values={"aws:SecureTransport": "false"},
    )
    secure = policy.is_action_permitted("s3:GetObject", "arn:aws:s3:::tls-only-bucket/state")
    assert insecure == PermissionResult.DENIED
    assert secure == PermissionResult.NEUTRAL


def test_apply_is_idempotent():
    from moto.iam.access_control import IAMPolicyStatement

    before = IAMPolicyStatement.is_action_permitted
    fidelity_terraform.apply()
    assert IAMPolicyStatement.is_action_permitted is before


def _ecs_service() -> None:
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="timeline")
    ecs.register_task_definition(family="api", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 512}])
    ecs.create_service(cluster="timeline", serviceName="api", taskDefinition="api", desiredCount=1)


@mock_aws
def test_scalable_target_tags_round_trip():
    _ecs_service()
    client = boto3.client("application-autoscaling", region_name="us-east-1")
    arn = client.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/timeline/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
        Tags={"App": "timeline"},
    )["ScalableTargetARN"]
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"App": "timeline"}
    client.tag_resource(ResourceARN=arn, Tags={"Environment": "dev"})
    client.untag_resource(ResourceARN=arn, TagKeys=["App"])
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Environment": "dev"}


@mock_aws
def test_untagged_scalable_target_lists_no_tags():
    _ecs_service()
    client = boto3.client("application-autoscaling", region_name="us-east-1")
    arn = client.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/timeline/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )["ScalableTargetARN"]
    assert client.list_tags_for_resource(ResourceARN=arn)["Tags"] == {}


@mock_aws
def test_logging_target_with_tls_only_policy_and_log_delivery_grant():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="source-bucket")
    s3.create_bucket(Bucket="tls-only-bucket")
    policy = json.loads(json.dumps(TLS_ONLY))
    policy["Statement"].append({
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": ["arn:aws:s3:::tls-only-bucket/s3/source-bucket/*"],
    })
    s3.put_bucket_policy(Bucket="tls-only-bucket", Policy=json.dumps(policy))
    s3.put_bucket_logging(
        Bucket="source-bucket",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "tls-only-bucket", "TargetPrefix": "s3/source-bucket/"}},
    )
    enabled = s3.get_bucket_logging(Bucket="source-bucket")["LoggingEnabled"]
    assert enabled["TargetPrefix"] == "s3/source-bucket/"


@mock_aws
def test_logging_target_without_grant_is_refused():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="source-bucket")
    s3.create_bucket(Bucket="tls-only-bucket")
    s3.put_bucket_policy(Bucket="tls-only-bucket", Policy=json.dumps(TLS_ONLY))
    with pytest.raises(s3.exceptions.ClientError, match="InvalidTargetBucketForLogging"):
        s3.put_bucket_logging(
            Bucket="source-bucket",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "tls-only-bucket", "TargetPrefix": "s3/source-bucket/"}},
        )
