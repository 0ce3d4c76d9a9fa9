"""`dr iam-policy`: a valid IAM policy document, no action wildcard, every action a step or
the run declares, and with --config resources narrowed to that environment's."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import dr.runbooks  # noqa: F401 - registers every step type
from dr import gameday, iam
from dr.cli.main import main
from dr.config.placeholder import placeholder_config
from dr.runbook.steptype import REGISTRY
from dr.steps import sns

EXAMPLE = Path(__file__).with_name("example.dr.yaml")
RUNBOOKS_DIR = Path(__file__).resolve().parents[2] / "runbooks"
ARN = re.compile(r"arn:aws:[a-z0-9-]+:[a-z0-9-*]*:(\*|[0-9]{12})?:\S+")


def iam_policy(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["iam-policy", *args]) == 0
    return json.loads(capsys.readouterr().out)


def assert_well_formed(policy: dict[str, Any]) -> None:
    assert set(policy) == {"Version", "Statement"} and policy["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert set(statement) - {"Condition"} == {"Sid", "Effect", "Action", "Resource"}
        assert re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"])
        assert statement["Effect"] == "Allow"
        services = set()
        for action in statement["Action"]:
            service, _, name = action.partition(":")
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", service), f"{action}: not service:Action"
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name), f"{action}: a wildcard?"
            services.add(service)
        assert len(services) == 1, f"{statement['Sid']}: one service per statement"
        resources = statement["Resource"]
        if resources != "*":
            assert resources == sorted(set(resources)) and "*" not in resources
            assert all(ARN.fullmatch(r) for r in resources), resources


def declared(runbook: str | None = None) -> set[str]:
    found = {a for g in iam.graphs(placeholder_config(), runbook) for n in g.nodes
             for a in n.step.iam_actions}
    found |= set(sns.IAM_ACTIONS) | set(iam.LOCK_ACTIONS) | set(iam.JOURNAL_ACTIONS)
    found |= set(gameday.IAM_ACTIONS) if runbook in (None, "gameday") else set()
    return found | (set(iam.DISCOVERY_ACTIONS) if runbook in (None, "reprotect") else set())


def test_without_config_every_declared_action_on_any_resource(
        capsys: pytest.CaptureFixture[str]) -> None:
    policy = iam_policy(capsys)
    assert_well_formed(policy)
    assert iam.actions(policy) == declared()
    assert iam.actions(policy) >= {a for t in REGISTRY.values() for a in t.iam_actions}
    for statement in policy["Statement"]:
        assert statement["Resource"] == "*"
        assert statement["Sid"].endswith(("NoResourceLevel", "NoConfigGiven")), statement["Sid"]


def test_the_checked_in_copy_is_the_generated_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert json.loads((RUNBOOKS_DIR / "iam-policy.json").read_text()) == iam_policy(capsys)


@pytest.mark.parametrize("runbook", dr.runbooks.RUNBOOKS)
def test_a_runbook_gets_only_its_own_steps_actions(capsys: pytest.CaptureFixture[str],
                                                   runbook: str) -> None:
    policy = iam_policy(capsys, "--runbook", runbook)
    assert_well_formed(policy)
    assert iam.actions(policy) == declared(runbook)


def test_reprotect_needs_no_traffic_switch(capsys: pytest.CaptureFixture[str]) -> None:
    actions = iam.actions(iam_policy(capsys, "--runbook", "reprotect"))
    assert not {a for a in actions if a.startswith(("route53:", "cloudfront:", "ssm:"))}
    assert "rds:PromoteReadReplica" not in actions
    assert "rds:CreateDBInstanceReadReplica" in actions


def test_with_config_resources_are_narrowed(capsys: pytest.CaptureFixture[str]) -> None:
    policy = iam_policy(capsys, "--config", str(EXAMPLE))
    assert_well_formed(policy)
    assert iam.actions(policy) == declared()  # the example uses every feature
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    for statement in policy["Statement"]:
        if statement["Resource"] == "*":
            assert statement["Sid"].endswith("NoResourceLevel"), statement["Sid"]
            assert "Condition" in statement or all(
                a.split(":")[1].startswith(("Describe", "Get")) for a in statement["Action"]
            ), "only reads may go unnarrowed, or writes under a condition"
    assert {"arn:aws:rds:us-east-1:123456789012:db:timeline-main",
            "arn:aws:rds:us-west-2:123456789012:db:timeline-main-dr",
            "arn:aws:rds:us-east-1:123456789012:db:timeline-events",
            "arn:aws:rds:us-west-2:123456789012:db:timeline-events-dr"} \
        <= set(by_sid["RdsDatabases"]["Resource"])
    assert by_sid["ArcRoutingControls"]["Resource"] == [
        "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/aa11",
        "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b/routingcontrol/bb22"]
    assert "Condition" not in by_sid["ArcRoutingControls"]
    assert by_sid["Route53HostedZones"]["Resource"] == [
        "arn:aws:route53:::hostedzone/Z0123456789ABC"]
    assert by_sid["CloudFrontDistributions"]["Resource"] == [
        "arn:aws:cloudfront::123456789012:distribution/E2ABCDEFGHIJK"]
    assert by_sid["EcsServices"]["Resource"] == [
        "arn:aws:ecs:us-east-1:123456789012:service/timeline/api",
        "arn:aws:ecs:us-west-2:123456789012:service/timeline/api"]
    assert by_sid["SsmParameters"]["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/timeline/staging/db_host",
        "arn:aws:ssm:us-west-2:123456789012:parameter/timeline/staging/db_host"]
    assert by_sid["SnsNotificationTopics"]["Resource"] == [
        "arn:aws:sns:us-east-1:123456789012:dr-events",
        "arn:aws:sns:us-west-2:123456789012:dr-events"]
    assert by_sid["DynamoDbLockTable"]["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/dr-journal",
        "arn:aws:dynamodb:us-east-1:123456789012:table/dr-locks",
        "arn:aws:dynamodb:us-west-2:123456789012:table/dr-journal",
        "arn:aws:dynamodb:us-west-2:123456789012:table/dr-locks"]
    assert "arn:aws:secretsmanager:us-west-2:123456789012:secret:timeline-dr-hb-??????" \
        in by_sid["SecretsManagerHeartbeatSecrets"]["Resource"]


def test_with_config_a_runbook_narrows_by_region_too(capsys: pytest.CaptureFixture[str]) -> None:
    by_sid = {s["Sid"]: s for s in iam_policy(capsys, "--config", str(EXAMPLE), "--runbook",
                                               "failover")["Statement"]}
    # Parameters are set in the recovery region only.
    assert by_sid["SsmParameters"]["Resource"] == [
        "arn:aws:ssm:us-west-2:123456789012:parameter/timeline/staging/db_host"]
    # The fence group is made in the region being left only, tagged as dr's, and tagged only
    # as it is made; its egress is revoked only on a group dr made.
    create = by_sid["Ec2CreateFenceGroupTaggedByDr"]
    assert all(":us-east-1:" in r for r in create["Resource"])
    assert create["Condition"]["StringEquals"]["aws:RequestTag/dr:created-by"] == "dr"
    assert by_sid["Ec2TagFenceGroupOnCreate"]["Condition"]["StringEquals"] == {
        "ec2:CreateAction": "CreateSecurityGroup",
        "aws:RequestedRegion": ["us-east-1", "us-west-2"]}
    assert by_sid["Ec2RevokeEgressOfGroupsDrMade"]["Condition"]["StringEquals"][
        "aws:ResourceTag/dr:created-by"] == "dr"
    # Regional services only in the two regions; the global ones are not limited so.
    assert by_sid["RdsDatabases"]["Condition"]["StringEquals"]["aws:RequestedRegion"] == [
        "us-east-1", "us-west-2"]
    assert "Condition" not in by_sid["Route53HostedZones"]


def test_with_config_unused_features_get_no_statement(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    bare = text[:text.index("notify:")]  # no notifications, no lock
    bare = re.sub(r"    heartbeat:\n(      .*\n)+", "", bare)
    path = tmp_path / "dr.yaml"
    path.write_text(bare)
    actions = iam.actions(iam_policy(capsys, "--config", str(path)))
    assert not {a for a in actions if a.startswith(("sns:", "dynamodb:", "secretsmanager:"))}


def test_the_game_day_modules_policy_copy_is_fresh(capsys: pytest.CaptureFixture[str]) -> None:
    """Terraform gives the game-day task exactly this file: it must be what dr generates."""
    assert main(["iam-policy", "--runbook", "gameday"]) == 0
    generated = json.loads(capsys.readouterr().out)
    module = Path(__file__).resolve().parents[2] / "terraform" / "modules" / "gameday"
    committed = json.loads((module / "iam-policy.json").read_text())
    assert committed == generated, "stale: dr iam-policy --runbook gameday > " \
                                   "terraform/modules/gameday/iam-policy.json"
