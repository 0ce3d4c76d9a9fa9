"""moto fidelity patches that the Terraform emulator apply needs.

Each patch restores one documented AWS behaviour that the AWS provider (or the
S3 state backend) relies on. `apply()` installs them all and is idempotent.
"""

from __future__ import annotations

import functools

from dr.lab.fidelity.compat import require_written_for

_applied = False


def _policy_conditions_scope_statements() -> None:
    """A policy statement whose Condition does not hold does not apply.

    AWS evaluates a statement only when its conditions match; an unmatched Deny
    is simply skipped ("If you specify multiple condition operators ... all must
    evaluate to true for the statement to apply", IAM User Guide,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html).
    moto instead turns any unmatched statement into an explicit deny, so the
    common TLS-only bucket policy (Deny when aws:SecureTransport is false) locks
    everyone out of the bucket, including the Terraform state backend.

    moto also skips operators it does not know, Bool among them, treating them as
    matched; Bool is evaluated here (a missing key fails Bool, passes BoolIfExists).

    Requests reach AWS over TLS (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html),
    so aws:SecureTransport is "true" unless the caller says otherwise; moto's
    plain-HTTP listener is a test artefact, not an insecure client.
    """
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def bool_conditions_hold(condition: dict, values: dict[str, str]) -> bool:
        for operator, pairs in condition.items():
            if operator not in ("Bool", "BoolIfExists"):
                continue
            for key, expected in pairs.items():
                wanted = {
                    str(v).lower() for v in (expected if isinstance(expected, list) else [expected])
                }
                actual = values.get(key)
                if actual is None:
                    if operator == "Bool":
                        return False
                elif str(actual).lower() not in wanted:
                    return False
        return True

    @functools.wraps(original)
    def is_action_permitted(
        self, action, resource="*", principal=None, incoming_condition_values=None
    ):
        values = {"aws:SecureTransport": "true", **(incoming_condition_values or {})}
        condition = self._statement.get("Condition")
        if condition and not (
            bool_conditions_hold(condition, values) and self._check_conditions(values)
        ):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted


def _application_autoscaling_tags() -> None:
    """Application Auto Scaling scalable targets carry tags.

    RegisterScalableTarget accepts Tags, and TagResource, UntagResource and
    ListTagsForResource manage them by the target's ARN
    (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_ListTagsForResource.html).
    moto answers ListTagsForResource with a 500, which the AWS provider calls
    after every create and on every refresh of aws_appautoscaling_target.
    """
    import json

    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    def tags_of(response) -> dict[str, dict[str, str]]:
        backend = response.applicationautoscaling_backend
        if not hasattr(backend, "fidelity_tags"):
            backend.fidelity_tags = {}
        return backend.fidelity_tags

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    @functools.wraps(original_register)
    def register_scalable_target(self):
        body = original_register(self)
        tags = self._get_param("Tags")
        if tags:
            tags_of(self).setdefault(json.loads(body)["ScalableTargetARN"], {}).update(tags)
        return body

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_of(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self):
        tags_of(self).setdefault(self._get_param("ResourceARN"), {}).update(
            self._get_param("Tags") or {}
        )
        return "{}"

    def untag_resource(self):
        current = tags_of(self).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            current.pop(key, None)
        return "{}"

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource


def _server_access_log_policy_check() -> None:
    """S3 accepts a logging target whose bucket policy lets the logging service write.

    PutBucketLogging succeeds when the target bucket's policy allows
    logging.s3.amazonaws.com s3:PutObject on the target prefix
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html#grant-log-delivery-permissions-general),
    whatever other statements the policy holds. moto's check crashes (500) on any
    statement whose Principal is the string "*", the usual form of a TLS-only
    Deny, and only accepts a Resource given as one string.
    """
    import json

    from moto.s3.models import FakeBucket

    def grants_log_delivery(target_bucket, target_prefix):
        if not target_bucket.policy:
            return False
        prefix_arn = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/"
        for statement in json.loads(target_bucket.policy.decode())["Statement"]:
            principal = statement.get("Principal")
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            services = [services] if isinstance(services, str) else services
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            resources = statement.get("Resource", [])
            resources = [resources] if isinstance(resources, str) else resources
            if (
                statement.get("Effect") == "Allow"
                and "logging.s3.amazonaws.com" in services
                and any(a in ("s3:PutObject", "s3:*") for a in actions)
                and any(
                    r.endswith("*") and (prefix_arn + (target_prefix or "")).startswith(r[:-1])
                    for r in resources
                )
            ):
                return True
        return False

    FakeBucket._log_permissions_enabled_policy = staticmethod(grants_log_delivery)


def _s3_replication_rules_as_put() -> None:
    """GetBucketReplication answers each rule as it was put.

    The API returns the bucket's replication configuration: each rule's Filter,
    DeleteMarkerReplication and SourceSelectionCriteria among it
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketReplication.html).
    moto answers every rule with DeleteMarkerReplication Disabled and an empty-prefix Filter
    and drops SourceSelectionCriteria, so the provider plans to set them again on every run.
    """
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    original = S3Response.get_bucket_replication
    kept = ("ID", "Priority", "Status", "Filter", "DeleteMarkerReplication",
            "SourceSelectionCriteria", "ExistingObjectReplication", "Destination")

    @functools.wraps(original)
    def get_bucket_replication(self):
        original(self)  # moto's own answer when the bucket has no configuration
        replication = self.backend.get_bucket_replication(self.bucket_name)
        rules = [{key: {} if rule[key] is None else rule[key] for key in kept if key in rule}
                 for rule in replication["Rule"]]  # an empty <Filter/> parses as None
        return self.serialized(ActionResult({"ReplicationConfiguration": {
            "Role": replication["Role"], "Rules": rules}}))

    S3Response.get_bucket_replication = get_bucket_replication


def _security_group_rule_descriptions() -> None:
    """A security group rule that references another group keeps its description.

    DescribeSecurityGroupRules returns the Description of every rule, whether its
    source is a CIDR or a referenced security group
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html).
    moto reads the description from the CIDR range only, so group-referencing
    rules come back without it and the provider plans to set it again.
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    SecurityGroupRule.description = property(
        lambda self: self.ip_range.get("Description") or self.source_group.get("Description")
    )


def _ecs_service_settings() -> None:
    """An ECS service reports the capacity provider strategy and settings it was created with.

    DescribeServices returns capacityProviderStrategy (and then no launchType),
    availabilityZoneRebalancing and healthCheckGracePeriodSeconds as given to
    CreateService or UpdateService
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html).
    moto drops them, reports launchType EC2, and the provider then plans to
    replace the service on every run.
    """
    from moto.ecs.responses import EC2ContainerServiceResponse

    settings = {
        "capacityProviderStrategy": "capacity_provider_strategy",
        "availabilityZoneRebalancing": "availability_zone_rebalancing",
        "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    }

    def remember(operation):
        original = getattr(EC2ContainerServiceResponse, operation)

        @functools.wraps(original)
        def wrapper(self):
            result = original(self)
            service = result.result["service"]
            for param, attribute in settings.items():
                value = self._get_param(param)
                if value is not None:
                    setattr(service, attribute, value)
            if getattr(service, "capacity_provider_strategy", None):
                service.launch_type = None
            return result

        setattr(EC2ContainerServiceResponse, operation, wrapper)

    remember("create_service")
    remember("update_service")


def _rds_instance_monitoring_settings() -> None:
    """An RDS instance reports its enhanced monitoring and Performance Insights settings.

    DescribeDBInstances returns MonitoringInterval, MonitoringRoleArn,
    PerformanceInsightsEnabled, PerformanceInsightsKMSKeyId and
    PerformanceInsightsRetentionPeriod as set by CreateDBInstance,
    CreateDBInstanceReadReplica or ModifyDBInstance
    (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstance.html).
    moto ignores them, so the provider plans to enable them again on every run.
    """
    from moto.rds.responses import RDSResponse

    settings = {
        "MonitoringInterval": ("monitoring_interval", int),
        "MonitoringRoleArn": ("monitoring_role_arn", str),
        "EnablePerformanceInsights": (
            "performance_insights_enabled",
            lambda v: str(v).lower() == "true",
        ),
        "PerformanceInsightsKMSKeyId": ("performance_insights_kms_key_id", str),
        "PerformanceInsightsRetentionPeriod": ("performance_insights_retention_period", int),
    }

    def remember(operation):
        original = getattr(RDSResponse, operation)

        @functools.wraps(original)
        def wrapper(self):
            result = original(self)
            instance = result.result["DBInstance"]
            for param, (attribute, convert) in settings.items():
                if self.params.get(param) is not None:
                    setattr(instance, attribute, convert(self.params[param]))
            return result

        setattr(RDSResponse, operation, wrapper)

    for operation in (
        "create_db_instance",
        "create_db_instance_read_replica",
        "modify_db_instance",
    ):
        remember(operation)


def _rds_user_parameters() -> None:
    """Parameters changed in a DB parameter group are reported with Source "user".

    DescribeDBParameters marks each parameter's Source (engine-default, system,
    user) and filters on it (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBParameters.html);
    the provider reads Source "user" to learn which parameters the group sets.
    moto neither marks nor filters, so the set parameters vanish from state.
    """
    from moto.core.responses import ActionResult
    from moto.rds.models import DBParameterGroup
    from moto.rds.responses import RDSResponse

    original_update = DBParameterGroup.update_parameters

    @functools.wraps(original_update)
    def update_parameters(self, new_parameters):
        new_parameters = [{**p, "Source": "user"} for p in new_parameters]
        original_update(self, new_parameters)

    original_describe = RDSResponse.describe_db_parameters

    @functools.wraps(original_describe)
    def describe_db_parameters(self):
        result = original_describe(self)
        source = self.params.get("Source")
        if not source:
            return result
        parameters = [p for p in result.result["Parameters"] if p.get("Source") == source]
        return ActionResult({"Parameters": parameters})

    DBParameterGroup.update_parameters = update_parameters
    RDSResponse.describe_db_parameters = describe_db_parameters


def _rds_unique_resource_ids() -> None:
    """Every RDS instance has its own DbiResourceId.

    DbiResourceId is "the Amazon Web Services Region-unique, immutable identifier for the DB
    instance" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstance.html).
    moto gives every instance the same one, and a read replica is a copy of its source.
    The AWS provider finds an instance by it (filter `dbi-resource-id`), so with two
    instances in a Region (a retired one and the replica dr re-created under the old
    name) it found both and failed, and a renamed instance could not be told from a new one.
    """
    import secrets
    import string

    from moto.rds.models import DBInstance, RDSBackend

    alphabet = string.ascii_uppercase + string.digits

    def fresh(instance) -> None:
        instance.dbi_resource_id = "db-" + "".join(secrets.choice(alphabet) for _ in range(26))

    original_init = DBInstance.__init__

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        fresh(self)

    original_replica = RDSBackend.create_db_instance_read_replica

    @functools.wraps(original_replica)
    def create_db_instance_read_replica(self, db_kwargs):
        replica = original_replica(self, db_kwargs)
        fresh(replica)
        return replica

    DBInstance.__init__ = __init__
    RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica


def _rds_cross_region_replica_placement() -> None:
    """A cross-Region read replica takes its subnet group and parameter group from its own
    Region.

    For a cross-Region replica, DBSubnetGroupName names "a DB subnet group ... in the
    destination Amazon Web Services Region", and without DBParameterGroupName "Amazon RDS
    uses ... the default DBParameterGroup for the specified DB engine for a cross-Region read
    replica" (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html).
    moto copies the source instance and sets the subnet group before it moves the copy to
    the destination's backend, so it looks the group up in the source Region
    (DBSubnetGroupNotFoundFault); and the copy keeps the source's parameter group, which
    does not exist in the destination, so every later describe of the Region fails (500).
    The AWS provider names a subnet group when it creates the standby's replica, and dr
    when it re-creates a replica beside the instance it retired.
    """
    from moto.rds.models import RDSBackend

    original = RDSBackend.create_db_instance_read_replica

    @functools.wraps(original)
    def create_db_instance_read_replica(self, db_kwargs):
        if not str(db_kwargs.get("source_db_instance_identifier", "")).startswith("arn:"):
            return original(self, db_kwargs)
        subnet_group = db_kwargs.get("db_subnet_group_name")
        replica = original(self, {k: v for k, v in db_kwargs.items()
                                  if k != "db_subnet_group_name"})
        if subnet_group:
            replica.db_subnet_group_name = subnet_group  # now in the destination's backend
        # None: the engine's default group, created on first use (DBInstance.db_parameter_groups).
        replica.db_parameter_group_name = db_kwargs.get("db_parameter_group_name")
        return replica

    RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica


def apply() -> None:
    """Install every patch (once); raises `LabDependencyMismatch`, having patched nothing,
    when moto is not the version the patches were written for."""
    global _applied
    if _applied:
        return
    require_written_for("moto")
    _policy_conditions_scope_statements()
    _application_autoscaling_tags()
    _server_access_log_policy_check()
    _s3_replication_rules_as_put()
    _security_group_rule_descriptions()
    _ecs_service_settings()
    _rds_instance_monitoring_settings()
    _rds_user_parameters()
    _rds_unique_resource_ids()
    _rds_cross_region_replica_placement()
    _applied = True
