"""The least-privilege IAM policy `dr` needs, generated from the step registry.

Actions are the union of what the steps of the chosen runbooks declare, plus the calls a run
makes outside its steps (notifications, the DynamoDB lock, `dr reprotect` finding the active
side, and `dr gameday` reading its stop alarms and publishing its report). Each action
belongs to one scope; a scope becomes one statement whose `Sid` names what its resources are,
or why they cannot be narrowed. With a configuration, the resources are the configured ones
(account `*`: dr does not know it); without one, `*`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dr import gameday, runbooks
from dr.config.model import ROLES, Config
from dr.config.placeholder import is_placeholder, placeholder_config
from dr.runbook.graph import Runbook
from dr.runbook.steptype import StepType
from dr.steps import rds, sns

VERSION = "2012-10-17"

# dr.runbook.lock.DynamoLock: the table's key schema, the conditional put, the holder's
# read when the put is refused, lease renewal, release.
LOCK_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem",
                "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# dr.runbooks.active_role: which side is writable and not fenced (the fence tag), before
# `dr reprotect`.
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
    return [f"arn:aws:ssm:{step.region}:*:parameter/{step.item.name.lstrip('/')}"]


def _topic_arns(config: Config, step: StepType | None) -> list[str]:
    return [config.notify.sns_topic_arn.side(r) for r in ROLES] if config.notify else []


def _table_arns(config: Config, step: StepType | None) -> list[str]:
    if config.lock is None:
        return []
    return [f"arn:aws:dynamodb:{config.regions.of(r)}:*:table/{config.lock.dynamodb_table}"
            for r in ROLES]


def _report_arns(config: Config, step: StepType | None) -> list[str]:
    if config.gameday is None or not config.gameday.report_bucket:
        return []
    return [f"arn:aws:s3:::{config.gameday.report_bucket}/{config.app}/{config.environment}/*"]


def _alarm_arns(config: Config, step: StepType | None) -> list[str]:
    alarms = config.gameday.stop_alarms if config.gameday else ()
    return [f"arn:aws:cloudwatch:{config.regions.of(r)}:*:alarm:{name}"
            for r in ROLES for name in alarms]


_DB = Scope("RdsDatabases", _db_arns)
_ROUTE53_ZONE = Scope("Route53HostedZones", _zone_arns)
_CLOUDFRONT = Scope("CloudFrontDistributions", _distribution_arns)
_ECS = Scope("EcsServices", _service_arns)
_SSM = Scope("SsmParameters", _parameter_arns)
_FENCE = Scope("Ec2FenceSecurityGroup", _fence_group_arns)
_EC2_DESCRIBE = Scope("Ec2DescribeNoResourceLevel", None)
_LOCK = Scope("DynamoDbLockTable", _table_arns)

# Every IAM action dr may use, and its scope. A step declaring an action missing here is an
# error (tests/meta/test_registry.py): each action's scope is decided, not defaulted.
SCOPES: dict[str, Scope] = {
    "rds:DescribeDBInstances": _DB,
    "rds:ModifyDBInstance": _DB,
    "rds:AddTagsToResource": _DB,
    "rds:ListTagsForResource": _DB,
    "rds:RemoveTagsFromResource": _DB,
    "rds:PromoteReadReplica": _DB,
    "rds:CreateDBInstanceReadReplica": Scope("RdsCreateReplica", _replica_arns),
    "ec2:DescribeSecurityGroups": _EC2_DESCRIBE,
    "ec2:DescribeVpcs": _EC2_DESCRIBE,
    "ec2:CreateSecurityGroup": _FENCE,
    "ec2:RevokeSecurityGroupEgress": _FENCE,
    "ec2:CreateTags": _FENCE,
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
    "route53:GetChange": Scope("Route53Changes", _change_arns),
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
    conditions: dict[str, dict[str, dict[str, str]]] = {}
    for action, scope, cfg, step in _grants(source, runbook):
        if scope.arns is None:
            sid, resources = scope.sid, ["*"]
        elif narrowed:
            sid, resources = scope.sid, scope.arns(cfg, step)
            if not resources:  # e.g. no heartbeat secret, no lock table: nothing to grant
                continue
        else:
            sid, resources = scope.sid + NO_CONFIG_SUFFIX, ["*"]
        actions, arns = statements.setdefault(sid, (set(), set()))
        actions.add(action)
        arns.update(resources)
        if scope.condition:
            conditions[sid] = scope.condition
    return {"Version": VERSION, "Statement": [
        {"Sid": sid, "Effect": "Allow", "Action": sorted(actions),
         "Resource": "*" if arns == {"*"} else sorted(arns),
         **({"Condition": conditions[sid]} if sid in conditions else {})}
        for sid, (actions, arns) in sorted(statements.items())]}


def actions(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}
