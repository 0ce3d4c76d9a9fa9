"""The least-privilege IAM policy `dr` needs, generated from the step registry.

Actions are the union of what the steps of the chosen runbooks declare, plus the calls a run
makes outside its steps (notifications, the DynamoDB lock, `dr reprotect` finding the active
side, and `dr gameday` reading its stop alarms and publishing its report). Each action
belongs to one scope; a scope becomes one statement whose `Sid` names what its resources are,
or why they cannot be narrowed. With a configuration, the resources are the configured ones,
in the account its ARNs name (`*` when it names none), and every statement of a regional
service is limited to the two regions (`aws:RequestedRegion`); without one, `*`. The fence's
EC2 actions, whose resources cannot be named before they exist, are held by conditions: a
group may be created only tagged `dr:created-by=dr`, tagged only as it is created, and have
its egress revoked only when it carries that tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dr import gameday, runbooks
from dr.config.model import ROLES, Config, Parameter
from dr.config.placeholder import is_placeholder, placeholder_config
from dr.runbook.graph import Runbook
from dr.runbook.steptype import StepType
from dr.steps import rds, sns

VERSION = "2012-10-17"

# dr.runbook.lock.DynamoLock: the table's key schema, the conditional put, the holder's
# read when the put is refused, lease renewal, release.
LOCK_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem",
                "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# dr.runbook.shared_journal: a record put (PutItem, with the lock's actions) and a resume on
# another machine reading the run's records.
JOURNAL_ACTIONS = ("dynamodb:Query",)
# dr.runbooks.active_role: which side is writable and not fenced (the fence tag), before
# `dr reprotect` (without databases, the caches' reads, which its steps declare too).
DISCOVERY_ACTIONS = ("rds:DescribeDBInstances", "rds:ListTagsForResource")
# `dr iam-policy --runbook` also takes gameday: the drill's steps plus dr.gameday's calls.
POLICY_RUNBOOKS = (*runbooks.RUNBOOKS, "gameday")


@dataclass(frozen=True)
class Scope:
    """One statement: its Sid with a configuration, and its resources for one grant.
    `arns` is None for actions without resource-level permissions (always `*`); those may
    still be narrowed by a `condition` on the action's own condition keys."""

    sid: str
    arns: Callable[[Config, StepType | None], list[str]] | None
    condition: dict[str, dict[str, str]] | None = None
    regional: bool = True  # False for the global services (Route 53, CloudFront)


def _db_arns(config: Config, step: StepType | None) -> list[str]:
    databases = [step.item] if step else list(config.databases)
    found = []
    for db in databases:
        for role in ROLES:
            region, identifier = config.regions.of(role), db.side(role)
            # The retired old primary is renamed, described and its fence tag read.
            found += [f"arn:aws:rds:{region}:*:db:{identifier}",
                      f"arn:aws:rds:{region}:*:db:{rds.retired_identifier(identifier, '')}*"]
    return found


def _replica_arns(config: Config, step: StepType | None) -> list[str]:
    # A replica created with a subnet group or option group needs those resources too.
    assert step is not None
    return _db_arns(config, step) + [f"arn:aws:rds:{step.region}:*:subgrp:*",
                                     f"arn:aws:rds:{step.region}:*:og:*"]


def _cache_arns(config: Config, step: StepType | None) -> list[str]:
    caches = [step.item] if step else list(config.caches)
    found = []
    for cache in caches:
        for role in ROLES:
            region, group = config.regions.of(role), cache.side(role)
            # The group and its nodes, which ElastiCache names after it.
            found += [f"arn:aws:elasticache:{region}:*:replicationgroup:{group}",
                      f"arn:aws:elasticache:{region}:*:cluster:{group}-*"]
        # Its datastore, whichever region's five-letter prefix it has (a re-created one
        # has the other region's).
        found.append(f"arn:aws:elasticache::*:globalreplicationgroup:?????-{cache.global_group}")
    return found


def _cache_member_arns(config: Config, step: StepType | None) -> list[str]:
    # A member created into a datastore is placed in a cache subnet group, and its parameter
    # group is the datastore's.
    assert step is not None
    return _cache_arns(config, step) + [f"arn:aws:elasticache:{step.region}:*:subnetgroup:*",
                                        f"arn:aws:elasticache:{step.region}:*:parametergroup:*"]


def _fence_group_arns(config: Config, step: StepType | None) -> list[str]:
    # The fence group's id is not known before it exists; its region and VPC are.
    assert step is not None
    return [f"arn:aws:ec2:{step.region}:*:security-group/*", f"arn:aws:ec2:{step.region}:*:vpc/*"]


def _secret_arns(config: Config, step: StepType | None) -> list[str]:
    assert step is not None
    secret = step.item.heartbeat.secret if step.item.heartbeat else None
    if secret is None:
        return []
    # A secret's ARN ends in six random characters, which dr.yaml may leave out.
    return [arn for side in ROLES for arn in (secret.side(side), secret.side(side) + "-??????")]


def _zone_arns(config: Config, step: StepType | None) -> list[str]:
    assert step is not None
    return [f"arn:aws:route53:::hostedzone/{step.item.zone_id}"]


def _change_arns(config: Config, step: StepType | None) -> list[str]:
    return ["arn:aws:route53:::change/*"]  # change ids are made by the call that waits on them


def _distribution_arns(config: Config, step: StepType | None) -> list[str]:
    assert step is not None
    return [f"arn:aws:cloudfront::*:distribution/{step.item.distribution_id}"]


def _service_arns(config: Config, step: StepType | None) -> list[str]:
    assert step is not None
    return [f"arn:aws:ecs:{step.region}:*:service/{step.item.cluster}/{step.item.service}"]


def _parameter_arns(config: Config, step: StepType | None) -> list[str]:
    assert step is not None
    # The ECS scale-up reads every parameter (its tasks read them when they start).
    names = [step.item.name] if isinstance(step.item, Parameter) else [
        p.name for p in config.parameters]
    return [f"arn:aws:ssm:{step.region}:*:parameter/{name.lstrip('/')}" for name in names]


def _topic_arns(config: Config, step: StepType | None) -> list[str]:
    return [config.notify.sns_topic_arn.side(r) for r in ROLES] if config.notify else []


def _table_arns(config: Config, step: StepType | None) -> list[str]:
    """The lock table and the shared journal's table (which is the lock table without one)."""
    tables = [t.dynamodb_table for t in (config.lock, config.journal) if t is not None]
    return [f"arn:aws:dynamodb:{config.regions.of(r)}:*:table/{table}"
            for table in tables for r in ROLES]


def _routing_control_arns(config: Config, step: StepType | None) -> list[str]:
    assert step is not None
    return sorted(step.desired())  # both sides' controls of every record it moves


def _report_arns(config: Config, step: StepType | None) -> list[str]:
    if config.gameday is None or not config.gameday.report_bucket:
        return []
    return [f"arn:aws:s3:::{config.gameday.report_bucket}/{config.app}/{config.environment}/*"]


def _alarm_arns(config: Config, step: StepType | None) -> list[str]:
    alarms = config.gameday.stop_alarms if config.gameday else ()
    return [f"arn:aws:cloudwatch:{config.regions.of(r)}:*:alarm:{name}"
            for r in ROLES for name in alarms]


_DB = Scope("RdsDatabases", _db_arns)
_CACHE = Scope("ElastiCacheGlobalDatastores", _cache_arns)
_ROUTE53_ZONE = Scope("Route53HostedZones", _zone_arns, regional=False)
_CLOUDFRONT = Scope("CloudFrontDistributions", _distribution_arns, regional=False)
_ECS = Scope("EcsServices", _service_arns)
_SSM = Scope("SsmParameters", _parameter_arns)
_DR_MADE = {f"aws:RequestTag/{rds.ORIGIN_TAG}": "dr"}
_EC2_DESCRIBE = Scope("Ec2DescribeNoResourceLevel", None)
_LOCK = Scope("DynamoDbLockTable", _table_arns)
_ARC = Scope("ArcRoutingControls", _routing_control_arns, regional=False)

# Every IAM action dr may use, and its scope. A step declaring an action missing here is an
# error (tests/meta/test_registry.py): each action's scope is decided, not defaulted.
SCOPES: dict[str, Scope] = {
    "rds:DescribeDBInstances": _DB,
    "rds:ModifyDBInstance": _DB,
    "rds:AddTagsToResource": _DB,
    "rds:ListTagsForResource": _DB,
    "rds:RemoveTagsFromResource": _DB,
    "rds:PromoteReadReplica": _DB,
    # A switchover without a heartbeat connection ends the fenced primary's sessions so.
    "rds:RebootDBInstance": _DB,
    # A resumed switchover reads whether the reboot it asked for happened (RDS-EVENT-0006);
    # DescribeEvents has no resource-level permissions.
    "rds:DescribeEvents": Scope("RdsDescribeEventsNoResourceLevel", None),
    "rds:CreateDBInstanceReadReplica": Scope("RdsCreateReplica", _replica_arns),
    "elasticache:DescribeReplicationGroups": _CACHE,
    "elasticache:DescribeGlobalReplicationGroups": _CACHE,
    "elasticache:DescribeCacheClusters": _CACHE,
    "elasticache:ListTagsForResource": _CACHE,
    "elasticache:AddTagsToResource": _CACHE,
    "elasticache:RemoveTagsFromResource": _CACHE,
    "elasticache:FailoverGlobalReplicationGroup": _CACHE,
    "elasticache:DisassociateGlobalReplicationGroup": _CACHE,
    "elasticache:CreateGlobalReplicationGroup": _CACHE,
    "elasticache:DeleteGlobalReplicationGroup": _CACHE,
    "elasticache:DeleteReplicationGroup": _CACHE,
    "elasticache:CreateReplicationGroup": Scope("ElastiCacheCreateSecondaryMember",
                                                _cache_member_arns),
    "ec2:DescribeSecurityGroups": _EC2_DESCRIBE,
    "ec2:DescribeVpcs": _EC2_DESCRIBE,
    "ec2:CreateSecurityGroup": Scope("Ec2CreateFenceGroupTaggedByDr", _fence_group_arns,
                                     {"StringEquals": _DR_MADE}),
    "ec2:RevokeSecurityGroupEgress": Scope(
        "Ec2RevokeEgressOfGroupsDrMade", _fence_group_arns,
        {"StringEquals": {f"aws:ResourceTag/{rds.ORIGIN_TAG}": "dr"}}),
    "ec2:CreateTags": Scope("Ec2TagFenceGroupOnCreate", _fence_group_arns,
                            {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}}),
    "cloudwatch:GetMetricStatistics": Scope("CloudWatchReadMetricsNoResourceLevel", None),
    "cloudwatch:DescribeAlarms": Scope("CloudWatchGamedayStopAlarms", _alarm_arns),
    "cloudwatch:PutMetricData": Scope(
        "CloudWatchDrMetricsNoResourceLevel", None,
        {"StringEquals": {"cloudwatch:namespace": gameday.NAMESPACE}}),
    "s3:PutObject": Scope("S3GamedayReports", _report_arns),
    "secretsmanager:GetSecretValue": Scope("SecretsManagerHeartbeatSecrets", _secret_arns),
    "route53:GetHostedZone": _ROUTE53_ZONE,
    "route53:ListResourceRecordSets": _ROUTE53_ZONE,
    "route53:ChangeResourceRecordSets": _ROUTE53_ZONE,
    "route53:GetChange": Scope("Route53Changes", _change_arns, regional=False),
    # The cluster's endpoints are in five regions of their own: no region condition.
    "route53-recovery-cluster:GetRoutingControlState": _ARC,
    "route53-recovery-cluster:UpdateRoutingControlStates": _ARC,
    "cloudfront:GetDistribution": _CLOUDFRONT,
    "cloudfront:GetDistributionConfig": _CLOUDFRONT,
    "cloudfront:UpdateDistribution": _CLOUDFRONT,
    "ecs:DescribeServices": _ECS,
    "ecs:UpdateService": _ECS,
    "ssm:GetParameter": _SSM,
    "ssm:PutParameter": _SSM,
    "sns:Publish": Scope("SnsNotificationTopics", _topic_arns),
    "dynamodb:DescribeTable": _LOCK,
    "dynamodb:PutItem": _LOCK,
    "dynamodb:GetItem": _LOCK,
    "dynamodb:UpdateItem": _LOCK,
    "dynamodb:DeleteItem": _LOCK,
    "dynamodb:Query": _LOCK,
}

NO_CONFIG_SUFFIX = "AnyResourceNoConfigGiven"


def graphs(config: Config, runbook: str | None = None) -> list[Runbook]:
    """The step graphs of one runbook (or all of them), as `dr` would build them."""
    built = {
        "failover": [runbooks.failover(config, "secondary")],
        "failback": [runbooks.failover(config, "primary")],
        "reprotect": [runbooks.reprotect(config, "secondary"),
                      runbooks.reprotect(config, "primary")],
    }
    built["drill"] = built["failover"] + [runbooks.reprotect(config, "secondary")] \
        + built["failback"]
    built["gameday"] = built["drill"]
    if runbook is None:
        return [g for name in runbooks.RUNBOOKS for g in built[name]]
    if runbook not in built:
        raise ValueError(f"unknown runbook {runbook!r} (one of {', '.join(POLICY_RUNBOOKS)})")
    return built[runbook]


def _grants(config: Config, runbook: str | None
            ) -> Iterable[tuple[str, Scope, Config, StepType | None]]:
    """(action, scope, config, step or None for run-level calls) for everything dr sends."""
    for graph in graphs(config, runbook):
        for node in graph.nodes:
            for action in node.step.iam_actions:
                yield action, SCOPES[action], config, node.step
    run_level = list(sns.IAM_ACTIONS) + list(LOCK_ACTIONS)
    if config.journal or is_placeholder(config):
        run_level += JOURNAL_ACTIONS
    if runbook in (None, "reprotect"):
        run_level += DISCOVERY_ACTIONS
    if runbook in (None, "gameday") and (config.gameday or is_placeholder(config)):
        run_level += gameday.IAM_ACTIONS
    for action in run_level:
        yield action, SCOPES[action], config, None


def policy(config: Config | None = None, runbook: str | None = None) -> dict[str, Any]:
    """The IAM policy document; resources narrowed to `config`'s when one is given."""
    narrowed = config is not None and not is_placeholder(config)
    source = config if narrowed else placeholder_config()
    assert source is not None
    statements: dict[str, tuple[set[str], set[str]]] = {}
    conditions: dict[str, dict[str, dict[str, Any]]] = {}
    account = account_of(source) if narrowed else None
    for action, scope, cfg, step in _grants(source, runbook):
        if scope.arns is None:
            sid, resources = scope.sid, ["*"]
        elif narrowed:
            sid, resources = scope.sid, [_in_account(a, account) for a in scope.arns(cfg, step)]
            if not resources:  # e.g. no heartbeat secret, no lock table: nothing to grant
                continue
        else:
            sid, resources = scope.sid + NO_CONFIG_SUFFIX, ["*"]
        actions, arns = statements.setdefault(sid, (set(), set()))
        actions.add(action)
        arns.update(resources)
        condition = {op: dict(keys) for op, keys in (scope.condition or {}).items()}
        if narrowed and scope.regional:
            condition.setdefault("StringEquals", {})["aws:RequestedRegion"] = sorted(
                {source.regions.primary, source.regions.secondary})
        if condition:
            conditions[sid] = condition
    return {"Version": VERSION, "Statement": [
        {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
         "Resource": "*" if arns == {"*"} else sorted(arns),
         **({"Condition": conditions[sid]} if sid in conditions else {})}
        for sid, (actions, arns) in sorted(statements.items())]}


def account_of(config: Config) -> str | None:
    """The AWS account the configuration's ARNs name (topics, secrets...), if they agree."""
    accounts = set(re.findall(r"arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):", repr(config)))
    return accounts.pop() if len(accounts) == 1 else None


def _in_account(arn: str, account: str | None) -> str:
    parts = arn.split(":", 5)
    if account and len(parts) == 6 and parts[4] == "*":
        parts[4] = account
    return ":".join(parts)


def actions(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}
