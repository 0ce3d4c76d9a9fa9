"""Terraform agrees with reality after every move dr makes (issue 16).

On the session's applied stacks (conftest.py): `dr failover --to secondary`, `dr reprotect`,
`dr failover --to primary`. After each, the `dr_state` the report's follow-up names is
written into the copy's environments/dev/dr-state.tfvars and both stacks are applied in the
order it gives: then each `plan -detailed-exitcode` exits 0, and every writer dr fenced is
still fenced. In each state, applying a stack with any other dr_state stops at the stack's
dr_state check and changes nothing: no fenced database gets its security groups back.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import emulator_stacks as stacks
import pytest
import terraform_cli as tfcli

from dr.lab.regionfront import RegionFront

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.timeout(1800),
    pytest.mark.needs("terraform"),
]

PRIMARY_DB, SECONDARY_DB = "timeline-dev-main", "timeline-dev-main-dr"
FENCE_TAG = "dr:fenced-from-security-groups"
ALL_STATES = [
    {"active": active, "protected": protected}
    for active in ("primary", "secondary")
    for protected in (True, False)
]
_FOLLOW_UP = re.compile(
    r'`(dr_state = \{ active = "(primary|secondary)", protected = (true|false) \})`'
)
_ORDER = re.compile(r"apply terraform/(primary|secondary) first.*terraform/(primary|secondary)")
_READING = re.compile(r"^(?:module\.[\w-]+(?:\[\d+\])?\.)*data\.(\w+)\.[\w-]+(?:\[\d+\])?: Reading",
                      re.MULTILINE)
# Data sources that need no control plane outside the stack's own region: the provider's
# own tables (partition, region, policy documents, the ELB log-delivery account), STS, and
# reads in the region (the primary's inventory copy, the region's certificate).
REGIONAL_DATA = {"aws_caller_identity", "aws_partition", "aws_region", "aws_iam_policy_document",
                 "aws_elb_service_account", "aws_ssm_parameter", "aws_acm_certificate"}


def _hcl(state: dict) -> str:
    return (f'dr_state = {{ active = "{state["active"]}", '
            f'protected = {str(state["protected"]).lower()} }}\n')


class Estate:
    """The applied stacks, dr.yaml rendered from their outputs, and the AWS they live in."""

    def __init__(self, applied: dict, endpoint: str, env: dict[str, str], tmp: Path,
                 health: str) -> None:
        self.workdir: Path = applied["workdir"]
        self.endpoint = endpoint
        self.env = env
        self.tmp = tmp
        self.config = tmp / "dr.yaml"
        stacks.render_dr_yaml(applied["outputs"], health, self.config)
        self.runs = 0

    def rds(self, stack: str):
        return stacks.boto("rds", stacks.STACK_REGION[stack], self.endpoint)

    def instance(self, stack: str, identifier: str) -> dict:
        return self.rds(stack).describe_db_instances(DBInstanceIdentifier=identifier)[
            "DBInstances"][0]

    def groups_and_fence(self, stack: str, identifier: str) -> tuple[list[str], str | None]:
        db = self.instance(stack, identifier)
        tags = self.rds(stack).list_tags_for_resource(ResourceName=db["DBInstanceArn"])
        fence = next((t["Value"] for t in tags["TagList"] if t["Key"] == FENCE_TAG), None)
        return [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]], fence

    def dr(self, *args: str) -> dict:
        """Run dr; return report.json, after checking report.md carries the same follow-ups."""
        self.runs += 1
        report_dir = self.tmp / f"run-{self.runs}"
        done = subprocess.run(
            ["dr", *args, "--yes", "--config", str(self.config), "--report-dir",
             str(report_dir), "--log-format", "json"],
            capture_output=True, text=True, env=stacks.dr_env(self.endpoint), timeout=600,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads((report_dir / "report.json").read_text())
        markdown = (report_dir / "report.md").read_text()
        for follow_up in report["follow_ups"]:
            assert f"follow-up: {follow_up}" in markdown
        return report

    def write_state(self, state: dict) -> None:
        (stacks.env_dir(self.workdir) / "dr-state.tfvars").write_text(_hcl(state))

    def terraform(self, stack: str, command: str, *args: str):
        return stacks.terraform(self.workdir, stack, command, self.env, *args)

    def terraform_state_list(self, stack: str) -> list[str]:
        listed = tfcli.run(["state", "list"], self.workdir / stack, self.env)
        assert listed.returncode == 0, listed.stderr
        return listed.stdout.split()

    def follow(self, report: dict, lost: RegionFront | None = None) -> dict:
        """Write the dr_state the report's Terraform follow-up names, apply the stacks in
        its order, and prove each plan clean; return the state. With `lost`, the stack
        applied first goes through that proxy, whose other region is down."""
        terraform = [f for f in report["follow_ups"] if f.startswith("Terraform:")]
        assert len(terraform) == 1, report["follow_ups"]
        found = _FOLLOW_UP.search(terraform[0])
        order = _ORDER.search(terraform[0])
        assert found and order, terraform[0]
        assert f"environments/{stacks.ENVIRONMENT}/dr-state.tfvars" in terraform[0]
        (stacks.env_dir(self.workdir) / "dr-state.tfvars").write_text(found.group(1) + "\n")
        for index, stack in enumerate(order.groups()):
            if lost is not None and index == 0:
                applied = self.apply_without_the_other_region(stack, lost)
            else:
                applied = self.terraform(stack, "apply")
            assert applied.returncode == 0, f"apply {stack}:\n{applied.stdout}\n{applied.stderr}"
        for stack in ("primary", "secondary"):
            plan = self.terraform(stack, "plan", "-detailed-exitcode")
            print(f"{found.group(1)}: plan {stack} exit {plan.returncode} in {plan.seconds:.1f} s")
            assert plan.returncode == 0, f"plan {stack}:\n{plan.stdout}\n{plan.stderr}"
        return {"active": found.group(2), "protected": found.group(3) == "true"}

    def apply_without_the_other_region(self, stack: str, lost: RegionFront):
        """Apply `stack` while the other region's APIs hang: it must not need them, and it
        reads no data source through another region's control plane."""
        stacks.write_overrides(self.workdir, stack, self.endpoint, providers_via=lost.url)
        try:
            applied = self.terraform(stack, "apply")
        finally:
            stacks.write_overrides(self.workdir, stack, self.endpoint)
        assert lost.status()["hung"] == 0, lost.status()
        assert set(_READING.findall(applied.stdout)) <= REGIONAL_DATA, applied.stdout
        return applied

    def no_other_state_unfences(self, right: dict, fenced: list[tuple[str, str]]) -> None:
        """Apply each stack holding a fenced instance with every other dr_state: the apply
        stops at the dr_state check, and the fence (groups and tag) is as it was."""
        before = {key: self.groups_and_fence(*key) for key in fenced}
        for stack in sorted({stack for stack, _ in fenced}):
            for state in ALL_STATES:
                if state == right:
                    continue
                self.write_state(state)
                result = self.terraform(stack, "apply")
                assert result.returncode == 1, (state, result.stdout)
                assert "dr_state says" in result.stderr, result.stderr
                after = {key: self.groups_and_fence(*key) for key in fenced}
                assert after == before, (stack, state)
        self.write_state(right)


def _minimum(endpoint: str, region: str) -> int:
    target = stacks.boto("application-autoscaling", region, endpoint).describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=["service/timeline-dev/api"])["ScalableTargets"][0]
    return target["MinCapacity"]


def _alarms(endpoint: str, region: str) -> dict[str, dict]:
    alarms = stacks.boto("cloudwatch", region, endpoint).describe_alarms(
        AlarmNamePrefix="timeline-dev-rds-replica-lag")["MetricAlarms"]
    return {a["AlarmName"]: a for a in alarms}


def _retired(estate: Estate, stack: str, identifier: str) -> str:
    names = [db["DBInstanceIdentifier"] for db in estate.rds(stack).describe_db_instances()[
        "DBInstances"] if db["DBInstanceIdentifier"].startswith(f"{identifier}-retired-")]
    assert len(names) == 1, names
    return names[0]


def test_terraform_agrees_after_failover_reprotect_and_failback(
        applied, moto_endpoint, aws_env, health_endpoint, tmp_path):
    estate = Estate(applied, moto_endpoint, aws_env, tmp_path, health_endpoint)

    # AWS applies a minor engine upgrade (auto_minor_version_upgrade): no plan wants it back.
    for stack, identifier in (("primary", PRIMARY_DB), ("secondary", SECONDARY_DB)):
        estate.rds(stack).modify_db_instance(
            DBInstanceIdentifier=identifier, EngineVersion="16.8", ApplyImmediately=True)
        plan = estate.terraform(stack, "plan", "-detailed-exitcode")
        assert plan.returncode == 0, plan.stdout
    lag = _alarms(moto_endpoint, stacks.SECONDARY_REGION)["timeline-dev-rds-replica-lag"]
    assert lag["TreatMissingData"] == "missing"

    # 1. Failover: the secondary's replica is the writer, the primary's writer fenced. The
    # secondary stack is applied while the primary region's APIs do not answer.
    report = estate.dr("failover", "--to", "secondary")
    groups, fence = estate.groups_and_fence("primary", PRIMARY_DB)
    assert fence is not None and len(groups) == 1
    with RegionFront(moto_endpoint) as front:
        front.outage(stacks.PRIMARY_REGION)
        state = estate.follow(report, lost=front)
    assert state == {"active": "secondary", "protected": False}
    assert estate.groups_and_fence("primary", PRIMARY_DB) == (groups, fence)
    assert _minimum(moto_endpoint, stacks.SECONDARY_REGION) == 2
    assert _minimum(moto_endpoint, stacks.PRIMARY_REGION) == 1
    assert _alarms(moto_endpoint, stacks.SECONDARY_REGION) == {}
    estate.no_other_state_unfences(state, [("primary", PRIMARY_DB)])

    # 2. Reprotect: the fenced writer is retired (renamed), a replica takes its name and
    # Terraform adopts it; the retired one keeps its name and its fence.
    report = estate.dr("reprotect")
    retired_primary = _retired(estate, "primary", PRIMARY_DB)
    state = estate.follow(report)
    listed = estate.terraform_state_list("primary")
    assert "module.database.aws_db_instance.adopted[0]" in listed, listed
    assert state == {"active": "secondary", "protected": True}
    assert estate.groups_and_fence("primary", retired_primary) == (groups, fence)
    replica = estate.instance("primary", PRIMARY_DB)
    assert replica["ReadReplicaSourceDBInstanceIdentifier"].endswith(f":db:{SECONDARY_DB}")
    assert "timeline-dev-rds-replica-lag" in _alarms(moto_endpoint, stacks.PRIMARY_REGION)
    estate.no_other_state_unfences(state, [("primary", retired_primary)])

    # 3. Failback: the primary's replica is the writer again; the secondary's writer is
    # fenced, retired and re-created as a replica (the original topology).
    report = estate.dr("failover", "--to", "primary")
    retired_secondary = _retired(estate, "secondary", SECONDARY_DB)
    secondary_fence = estate.groups_and_fence("secondary", retired_secondary)
    assert secondary_fence[1] is not None
    state = estate.follow(report)
    assert state == {"active": "primary", "protected": True}
    assert estate.groups_and_fence("secondary", retired_secondary) == secondary_fence
    assert estate.groups_and_fence("primary", retired_primary) == (groups, fence)
    assert _minimum(moto_endpoint, stacks.PRIMARY_REGION) == 2
    assert _minimum(moto_endpoint, stacks.SECONDARY_REGION) == 1
    estate.no_other_state_unfences(
        state, [("primary", retired_primary), ("secondary", retired_secondary)])
