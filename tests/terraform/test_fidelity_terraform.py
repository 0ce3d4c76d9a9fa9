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
