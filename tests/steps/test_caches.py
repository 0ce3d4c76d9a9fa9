"""ElastiCache global datastores: a failover with the primary region lost leaves the recovery
region's member standalone and writable (a dry run only intends it), and `dr reprotect`
builds the datastore again around it; a planned drill fails the datastore over and back;
readiness refuses a member that is missing or outside the datastore, and a failback onto a
member left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dr import config as dr_config
from dr import runbooks
from dr.cli.main import main
from dr.lab import fidelity
from dr.lab.estate import Shape
from dr.lab.fidelity.elasticache import prefix
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT, TimingProfile
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy
from dr.steps.elasticache import DETACHED_TAG
from tests.steps.conftest import World, build
from tests.support.lab_aws import LabAws
from tests.support.timeouts import LEFT_REGION


@pytest.fixture
def cached(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """One database, one record, distribution, service and parameter, and one cache."""
    monkeypatch.chdir(tmp_path)
    built = build(aws, tmp_path, Shape(caches=1))
    yield built
    for server in built.health.values():
        server.stop()


@pytest.fixture
def cache_only(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The cache and a health check alone: `dr reprotect` finds the active side from the
    cache (after a failover with a region lost, an estate's databases need their fence
    follow-up done before it can tell)."""
    monkeypatch.chdir(tmp_path)
    built = build(aws, tmp_path, Shape(databases=0, zones=0, distributions=0, services=0,
                                       parameters=0, caches=1))
    yield built
    for server in built.health.values():
        server.stop()


def group(world: World, role: str) -> dict[str, Any]:
    cache = world.config["caches"][0]
    return world.aws.client("elasticache", world.config["regions"][role]).\
        describe_replication_groups(ReplicationGroupId=cache[role])["ReplicationGroups"][0]


def role_in(world: World, role: str) -> tuple[str | None, str | None]:
    info = group(world, role).get("GlobalReplicationGroupInfo") or {}
    return info.get("GlobalReplicationGroupId"), info.get("GlobalReplicationGroupMemberRole")


def tags(world: World, role: str) -> dict[str, str]:
    found = world.aws.client("elasticache", world.config["regions"][role]).\
        list_tags_for_resource(ResourceName=group(world, role)["ARN"])["TagList"]
    return {t["Key"]: t["Value"] for t in found}


def original_datastore(world: World) -> str:
    return f"{prefix(world.config['regions']['primary'])}-" \
        f"{world.config['caches'][0]['global_group']}"


def run(world: World, command: str, to: str, *, front: RegionFront | None = None,
        **request: Any) -> Result:
    runner = Runner(dr_config.load(world.path), planner=runbooks.phases,
                    poll=PollPolicy(floor=0.05, cap=0.2), impatient=LEFT_REGION,
                    state_dir=world.path.parent / ".dr", **({"after_append": request.pop(
                        "after_append")} if "after_append" in request else {}))
    return runner.run(Request(command=command, to=to, **request))  # type: ignore[arg-type]


def step(result: Result, suffix: str) -> dict[str, Any]:
    return next(s for s in result.report["steps"] if s["id"].endswith(suffix))


def test_primary_region_lost_leaves_the_member_standalone_then_reprotect_rebuilds_it(
        cache_only: World, monkeypatch: pytest.MonkeyPatch) -> None:
    regions = cache_only.config["regions"]
    node = group(cache_only, "primary")["MemberClusters"][0]
    settings_before = cache_only.aws.client("elasticache", regions["primary"]).\
        describe_cache_clusters(CacheClusterId=node)["CacheClusters"][0]
    with RegionFront(cache_only.aws.endpoint_url) as front:
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        front.outage(regions["primary"])
        planned = run(cache_only, "plan", "secondary", dry_run=True)
        assert planned.outcome == "planned", json.dumps(planned.report, indent=1, default=str)
        intended = step(planned, "caches.sessions.promote")["detail"]["intentions"]
        assert [i["operation"] for i in intended] == ["AddTagsToResource",
                                                      "DisassociateGlobalReplicationGroup"]
        assert role_in(cache_only, "secondary") == (original_datastore(cache_only), "SECONDARY")
        assert DETACHED_TAG not in tags(cache_only, "secondary")  # the dry run changed nothing

        result = run(cache_only, "failover", "secondary")
        assert result.outcome == "succeeded", json.dumps(result.report, indent=1, default=str)
        promote = step(result, "caches.sessions.promote")
        assert promote["detail"]["method"] == "disassociate", promote
        assert "elasticache:DisassociateGlobalReplicationGroup" in promote["detail"]["aws_calls"]
        assert any("dr reprotect" in f and "timeline-sessions" in f
                   for f in result.report["follow_ups"]), result.report["follow_ups"]
        # Writable and standalone, with the record of why, while the region is still lost.
        assert group(cache_only, "secondary")["Status"] == "available"
        assert role_in(cache_only, "secondary") == (None, None)
        assert tags(cache_only, "secondary")[DETACHED_TAG] == original_datastore(cache_only)
        again = run(cache_only, "failover", "secondary")  # a rerun finds it done
        assert again.outcome == "succeeded"
        assert step(again, "caches.sessions.promote")["detail"].get("already_done") is True

        front.restore(regions["primary"])
        # The old primary still heads the datastore it was left with.
        assert role_in(cache_only, "primary") == (original_datastore(cache_only), "PRIMARY")
        reprotected = run(cache_only, "reprotect", "secondary")
        assert reprotected.outcome == "succeeded", json.dumps(reprotected.report, indent=1,
                                                              default=str)
        suffix = cache_only.config["caches"][0]["global_group"]
        recreated = f"{prefix(regions['secondary'])}-{suffix}"
        assert role_in(cache_only, "secondary") == (recreated, "PRIMARY")
        assert role_in(cache_only, "primary") == (recreated, "SECONDARY")
        assert DETACHED_TAG not in tags(cache_only, "secondary")
        assert tags(cache_only, "primary")["dr:created-by"] == "dr reprotect"
        client = cache_only.aws.client("elasticache", regions["primary"])
        rebuilt = client.describe_cache_clusters(
            CacheClusterId=group(cache_only, "primary")["MemberClusters"][0])["CacheClusters"][0]
        assert rebuilt["CacheSubnetGroupName"] == settings_before["CacheSubnetGroupName"]
        assert rebuilt["SecurityGroups"] == settings_before["SecurityGroups"]
        assert [d["GlobalReplicationGroupId"] for d in client.describe_global_replication_groups(
            )["GlobalReplicationGroups"]] == [recreated]  # the one left behind is gone

        back = run(cache_only, "failover", "primary")
        assert back.outcome == "succeeded", json.dumps(back.report, indent=1, default=str)
        assert step(back, "caches.sessions.promote")["detail"]["method"] == "failover"
        assert role_in(cache_only, "primary") == (recreated, "PRIMARY")
        assert role_in(cache_only, "secondary") == (recreated, "SECONDARY")


def test_a_planned_drill_makes_the_member_primary_and_brings_it_back(cached: World) -> None:
    seen: dict[str, tuple[str | None, str | None]] = {}

    def after(record: dict[str, Any]) -> None:
        # When the failover phase's cache step has finished, before reprotect and failback.
        if record["event"] == "step.finished" \
                and record["step"] == "failover/caches.sessions.promote":
            seen["secondary"], seen["primary"] = role_in(cached, "secondary"), role_in(
                cached, "primary")

    result = run(cached, "drill", "secondary", after_append=after)
    assert result.outcome == "succeeded", json.dumps(result.report, indent=1, default=str)
    gid = original_datastore(cached)
    assert seen == {"secondary": (gid, "PRIMARY"), "primary": (gid, "SECONDARY")}
    assert step(result, "failover/caches.sessions.promote")["detail"]["method"] == "failover"
    assert step(result, "failback/caches.sessions.promote")["detail"]["method"] == "failover"
    for suffix in ("retire", "recreate-global", "create-secondary"):
        assert step(result, f"reprotect/caches.sessions.{suffix}")["detail"]["already_done"]
    assert role_in(cached, "primary") == (gid, "PRIMARY")
    assert role_in(cached, "secondary") == (gid, "SECONDARY")


def test_a_failover_under_way_when_the_run_starts_is_waited_out_not_sent_again(
        cache_only: World) -> None:
    """As after an attempt killed right after its FailoverGlobalReplicationGroup (or its
    detach: the same wait): the datastore refuses another change while `modifying`."""
    regions, cache = cache_only.config["regions"], cache_only.config["caches"][0]
    fidelity.apply(TimingProfile("realistic", time_scale=0.02))  # a failover takes 1.2 s
    try:
        cache_only.aws.client("elasticache", regions["secondary"]).\
            failover_global_replication_group(
                GlobalReplicationGroupId=original_datastore(cache_only),
                PrimaryRegion=regions["secondary"], PrimaryReplicationGroupId=cache["secondary"])
        result = run(cache_only, "failover", "secondary")
    finally:
        fidelity.apply(INSTANT)
    assert result.outcome == "succeeded", json.dumps(result.report, indent=1, default=str)
    detail = step(result, "caches.sessions.promote")["detail"]
    assert detail["waited_for_status"] == "modifying" and detail["done_by_earlier_attempt"]
    assert "elasticache:FailoverGlobalReplicationGroup" not in detail["aws_calls"]
    assert role_in(cache_only, "secondary") == (original_datastore(cache_only), "PRIMARY")


def member_missing(world: World) -> str:
    world.config["caches"][0]["secondary"] = "timeline-nope-dr"
    return "timeline-nope-dr (" + world.config["regions"]["secondary"] + "): replication " \
        "group not found"


def member_standalone(world: World) -> str:
    client = world.aws.client("elasticache", world.config["regions"]["secondary"])
    client.create_replication_group(ReplicationGroupId="timeline-loose",
                                    ReplicationGroupDescription="not in any datastore")
    world.config["caches"][0]["secondary"] = "timeline-loose"
    return "timeline-loose (" + world.config["regions"]["secondary"] + "): is not in the " \
        "global datastore timeline-sessions"


def member_elsewhere(world: World) -> str:
    actual = original_datastore(world)
    world.config["caches"][0]["global_group"] = "timeline-other"
    return f"is a member of the global datastore {actual}, not of timeline-other"


@pytest.mark.parametrize("break_it", [member_missing, member_standalone, member_elsewhere])
def test_readiness_refuses_a_member_missing_or_outside_the_datastore(
        cache_only: World, capsys: pytest.CaptureFixture[str], break_it: Any) -> None:
    expected = break_it(cache_only)
    cache_only.write()
    code = main(["failover", "--to", "secondary", "--yes", "--config", str(cache_only.path)])
    said = "".join(capsys.readouterr())
    assert code == 3, said
    assert expected in said, said
    gid = cache_only.aws.client("elasticache", cache_only.config["regions"]["primary"]).\
        describe_global_replication_groups()["GlobalReplicationGroups"][0]
    assert gid["Status"] == "available"  # nothing changed: both members still in it
    assert role_in(cache_only, "primary") == (gid["GlobalReplicationGroupId"], "PRIMARY")


def test_failing_back_onto_the_member_left_behind_is_a_data_loss_decision(
        cache_only: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    regions = cache_only.config["regions"]
    with RegionFront(cache_only.aws.endpoint_url) as front:
        monkeypatch.setenv("AWS_ENDPOINT_URL", front.url)
        front.outage(regions["primary"])
        assert run(cache_only, "failover", "secondary").outcome == "succeeded"
        front.restore(regions["primary"])
        # No reprotect: the primary's member heads the datastore it was left with, and lacks
        # every session written in the secondary since.
        refused = run(cache_only, "failover", "primary")
        assert refused.outcome == "not_ready"
        problems = " ".join(refused.report["problems"])
        assert "was detached from it by dr" in problems and "--accept-data-loss" in problems
        accepted = run(cache_only, "failover", "primary", accept_data_loss=True)
    assert accepted.outcome == "succeeded", json.dumps(accepted.report, indent=1, default=str)
    assert role_in(cache_only, "primary") == (original_datastore(cache_only), "PRIMARY")
