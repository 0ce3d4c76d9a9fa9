"""The moto patches in dr.lab.fidelity.terraform restore the AWS behaviour they name."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from dr.lab.fidelity import terraform as fidelity_terraform

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
        "s3:GetObject",
        "arn:aws:s3:::tls-only-bucket/state",
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
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 512}]
    )
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
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": ["arn:aws:s3:::tls-only-bucket/s3/source-bucket/*"],
        }
    )
    s3.put_bucket_policy(Bucket="tls-only-bucket", Policy=json.dumps(policy))
    s3.put_bucket_logging(
        Bucket="source-bucket",
        BucketLoggingStatus={
            "LoggingEnabled": {
                "TargetBucket": "tls-only-bucket",
                "TargetPrefix": "s3/source-bucket/",
            }
        },
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
            BucketLoggingStatus={
                "LoggingEnabled": {
                    "TargetBucket": "tls-only-bucket",
                    "TargetPrefix": "s3/source-bucket/",
                }
            },
        )


@mock_aws
def test_group_referencing_rule_keeps_its_description():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    db = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
    app = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=db,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": app, "Description": "PostgreSQL from the app"}],
            }
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [db]}])
    ingress = [r for r in rules["SecurityGroupRules"] if not r["IsEgress"]]
    assert [r["Description"] for r in ingress] == ["PostgreSQL from the app"]


@mock_aws
def test_ecs_service_reports_its_capacity_provider_strategy():
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="timeline")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 512}]
    )
    ecs.create_service(
        cluster="timeline",
        serviceName="api",
        taskDefinition="api",
        desiredCount=1,
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1}],
        availabilityZoneRebalancing="DISABLED",
        healthCheckGracePeriodSeconds=60,
    )
    service = ecs.describe_services(cluster="timeline", services=["api"])["services"][0]
    assert service["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1}
    ]
    assert service["availabilityZoneRebalancing"] == "DISABLED"
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert "launchType" not in service


@mock_aws
def test_rds_instance_reports_monitoring_and_performance_insights():
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_instance(
        DBInstanceIdentifier="timeline-main",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        MonitoringInterval=60,
        MonitoringRoleArn="arn:aws:iam::123456789012:role/rds-monitoring",
        EnablePerformanceInsights=True,
        PerformanceInsightsRetentionPeriod=7,
    )
    rds.modify_db_instance(DBInstanceIdentifier="timeline-main", MonitoringInterval=30)
    db = rds.describe_db_instances(DBInstanceIdentifier="timeline-main")["DBInstances"][0]
    assert db["MonitoringInterval"] == 30
    assert db["MonitoringRoleArn"] == "arn:aws:iam::123456789012:role/rds-monitoring"
    assert db["PerformanceInsightsEnabled"] is True
    assert db["PerformanceInsightsRetentionPeriod"] == 7


@mock_aws
def test_modified_db_parameters_are_user_sourced():
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_parameter_group(
        DBParameterGroupName="tls-only", DBParameterGroupFamily="postgres16", Description="tls"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="tls-only",
        Parameters=[
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}
        ],
    )
    user = rds.describe_db_parameters(DBParameterGroupName="tls-only", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"], p["Source"]) for p in user] == [
        ("rds.force_ssl", "1", "user")
    ]


@mock_aws
def test_each_rds_instance_has_its_own_resource_id():
    """A writer and the replica made from it (in its Region, as dr re-creates one beside the
    instance it retired) each have their own ID, and the provider's lookup finds one."""
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_instance(
        DBInstanceIdentifier="timeline-main",
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="timeline-main-ro", SourceDBInstanceIdentifier="timeline-main"
    )
    ids = {
        db["DBInstanceIdentifier"]: db["DbiResourceId"]
        for db in rds.describe_db_instances()["DBInstances"]
    }
    assert ids["timeline-main"] != ids["timeline-main-ro"]
    assert all(v.startswith("db-") and len(v) == 29 for v in ids.values())
    rds.modify_db_instance(
        DBInstanceIdentifier="timeline-main",
        NewDBInstanceIdentifier="timeline-main-retired",
        ApplyImmediately=True,
    )
    found = rds.describe_db_instances(
        Filters=[{"Name": "dbi-resource-id", "Values": [ids["timeline-main"]]}]
    )["DBInstances"]
    assert [db["DBInstanceIdentifier"] for db in found] == ["timeline-main-retired"]


@mock_aws
def test_cross_region_replica_takes_subnet_and_parameter_groups_of_its_region():
    source = boto3.client("rds", region_name="us-west-2")
    source.create_db_parameter_group(
        DBParameterGroupName="tls-only", DBParameterGroupFamily="postgres16", Description="tls"
    )
    source.create_db_instance(
        DBInstanceIdentifier="timeline-main-dr",
        Engine="postgres",
        EngineVersion="16.4",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin_user",
        MasterUserPassword="not-a-real-password",
        DBParameterGroupName="tls-only",
    )
    arn = source.describe_db_instances()["DBInstances"][0]["DBInstanceArn"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=az)["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate(("us-east-1a", "us-east-1b"))
    ]
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_subnet_group(
        DBSubnetGroupName="timeline-main", DBSubnetGroupDescription="db", SubnetIds=subnets
    )
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="timeline-main",
        SourceDBInstanceIdentifier=arn,
        DBSubnetGroupName="timeline-main",
    )
    replica = rds.describe_db_instances(DBInstanceIdentifier="timeline-main")["DBInstances"][0]
    assert replica["DBSubnetGroup"]["DBSubnetGroupName"] == "timeline-main"
    assert replica["DBSubnetGroup"]["VpcId"] == vpc
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == arn
    # The source's group does not exist here: the replica has the engine's default one.
    assert [g["DBParameterGroupName"] for g in replica["DBParameterGroups"]] == [
        "default.postgres16"
    ]


@mock_aws
def test_replication_rules_are_answered_as_put():
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ("assets-source", "assets-copy"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ID": "assets-to-peer-region", "Priority": 0, "Status": "Enabled", "Filter": {},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": "arn:aws:s3:::assets-copy", "StorageClass": "STANDARD"},
    }
    s3.put_bucket_replication(Bucket="assets-source", ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/replicate", "Rules": [rule]})
    [answered] = s3.get_bucket_replication(Bucket="assets-source")[
        "ReplicationConfiguration"]["Rules"]
    assert answered["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert answered["SourceSelectionCriteria"] == rule["SourceSelectionCriteria"]
    assert answered["Destination"] == rule["Destination"]
    assert "Prefix" not in answered["Filter"]
    with pytest.raises(s3.exceptions.ClientError, match="ReplicationConfigurationNotFound"):
        s3.get_bucket_replication(Bucket="assets-copy")
