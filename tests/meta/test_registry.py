"""Every registered step type declares what the documents, the IAM policy and the engine are
generated from; a missing or malformed declaration fails here, not in an incident."""

from __future__ import annotations

import re

import botocore.session
import pytest

import dr.runbooks  # noqa: F401 - registers every step type
from dr import docs, gameday, iam
from dr.config.placeholder import placeholder_config
from dr.config.schema import SECTIONS
from dr.runbook.steptype import REGISTRY, StepType
from dr.steps import sns

# IAM service prefix -> botocore service name, for the services dr calls.
SERVICES = {"rds": "rds", "ec2": "ec2", "route53": "route53", "cloudfront": "cloudfront",
            "ecs": "ecs", "ssm": "ssm", "cloudwatch": "cloudwatch", "sns": "sns",
            "dynamodb": "dynamodb", "secretsmanager": "secretsmanager", "s3": "s3",
            "route53-recovery-cluster": "route53-recovery-cluster",
            "elasticache": "elasticache"}
# Step types that make no AWS call, and so declare no IAM action.
NO_AWS_CALLS = {"health.verify", "health.user-path"}

STEP_TYPES = sorted(REGISTRY.items())
BOTOCORE = botocore.session.get_session()
ids = [name for name, _ in STEP_TYPES]


def test_the_registry_holds_every_step_type_the_runbooks_use() -> None:
    used = {n.step.name for g in iam.graphs(placeholder_config()) for n in g.nodes}
    assert used == set(REGISTRY)


@pytest.mark.parametrize(("name", "cls"), STEP_TYPES, ids=ids)
def test_step_type_declares_everything(name: str, cls: type[StepType]) -> None:
    assert cls.name == name and re.fullmatch(r"[a-z0-9]+\.[a-z0-9-]+", name)
    assert cls.reads in SECTIONS
    assert cls.acts_in in ("to", "from", "global")
    assert cls.typical_seconds > 0
    assert cls.timeout_seconds >= cls.typical_seconds
    assert cls.summary.strip() and cls.why.strip()
    for part in ("procedure", "verify", "undo"):
        assert getattr(cls.manual, part).strip(), f"{name}: manual.{part} is empty"
    if name in NO_AWS_CALLS:
        assert cls.iam_actions == ()
    else:
        assert cls.iam_actions, f"{name} declares no IAM action"
    assert len(set(cls.iam_actions)) == len(cls.iam_actions), f"{name}: an action twice"


IAM_ACTIONS = sorted({a for _, cls in STEP_TYPES for a in cls.iam_actions}
                     | set(iam.LOCK_ACTIONS) | set(iam.DISCOVERY_ACTIONS)
                     | set(iam.JOURNAL_ACTIONS)
                     | set(sns.IAM_ACTIONS) | set(gameday.IAM_ACTIONS))


@pytest.mark.parametrize("action", IAM_ACTIONS)
def test_iam_action_exists_and_has_a_decided_scope(action: str) -> None:
    prefix, _, operation = action.partition(":")
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", operation), action
    assert prefix in SERVICES, f"{action}: unknown service prefix"
    model = BOTOCORE.get_service_model(SERVICES[prefix])
    assert operation in model.operation_names, f"{action}: no such {prefix} API operation"
    assert action in iam.SCOPES, f"{action}: add it to dr.iam.SCOPES with its resources"


def test_scopes_name_no_action_that_nothing_uses() -> None:
    assert set(iam.SCOPES) == set(IAM_ACTIONS)


@pytest.mark.parametrize(("name", "cls"), STEP_TYPES, ids=ids)
def test_a_readiness_check_is_described_in_the_documents(name: str,
                                                         cls: type[StepType]) -> None:
    has_check = cls.check is not StepType.check
    assert has_check == (name in docs.READINESS), (
        f"{name}: {'describe its check in' if has_check else 'remove it from'} "
        "dr.docs.READINESS")


def test_manual_templates_fill_from_every_step_instance() -> None:
    for graph in iam.graphs(placeholder_config()):
        for node in graph.nodes:
            values = node.step.manual_values()
            for text in (node.step.manual.procedure, node.step.manual.verify,
                         node.step.manual.undo, node.step.follow_up,
                         docs.READINESS.get(node.step.name, "")):
                text.format(**values)  # a KeyError names a placeholder the step does not fill
