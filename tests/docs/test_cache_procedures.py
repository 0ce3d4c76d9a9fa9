"""The ElastiCache steps' manual procedures, run as written with the real AWS CLI against the
emulator (the same harness as test_manual_procedures.py): with the primary region lost the
recovery region's member is detached by hand, `reprotect.md` then rebuilds the global
datastore around it, and `failback.md` fails it back; every block run twice changes nothing
the second time. The AWS CLI starts in about a second a command: `slow`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dr.lab.estate import Shape
from dr.lab.fidelity.elasticache import prefix
from dr.lab.regionfront import RegionFront
from dr.steps.elasticache import DETACHED_TAG
from tests.docs.test_manual_procedures import by_hand, needs_tools, render, run, shell_env
from tests.steps.conftest import build
from tests.support.lab_aws import LabAws


def state(aws: LabAws, config: dict[str, Any]) -> dict[str, Any]:
    """Each member's status, datastore, role and tags, and each region's datastores."""
    found: dict[str, Any] = {}
    for role, region in config["regions"].items():
        client = aws.client("elasticache", region)
        for group in client.describe_replication_groups()["ReplicationGroups"]:
            info = group.get("GlobalReplicationGroupInfo") or {}
            tags = client.list_tags_for_resource(ResourceName=group["ARN"])["TagList"]
            found[f"{role} {group['ReplicationGroupId']}"] = (
                group["Status"], info.get("GlobalReplicationGroupId"),
                info.get("GlobalReplicationGroupMemberRole"),
                sorted((t["Key"], t["Value"]) for t in tags))
        found[f"{role} datastores"] = sorted(
            d["GlobalReplicationGroupId"]
            for d in client.describe_global_replication_groups()["GlobalReplicationGroups"])
    return found


def twice(blocks: list[str], env: dict[str, str], cwd: Path, aws: LabAws,
          config: dict[str, Any]) -> str:
    said = run(blocks, env, cwd)
    before = state(aws, config)
    run(blocks, env, cwd)
    assert state(aws, config) == before, "the second run changed something"
    return said


@needs_tools
@pytest.mark.slow
def test_a_cache_detached_by_hand_rebuilt_and_failed_back(aws: LabAws, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.chdir(tmp_path)
    world = build(aws, tmp_path, Shape(zones=0, distributions=0, services=0, parameters=0,
                                       caches=1))
    try:
        config, cache = world.config, world.config["caches"][0]
        regions = config["regions"]
        documents = render(world.path, tmp_path / "docs")
        steps = {name: [b for step, b in by_hand(documents[name])
                        if step.startswith("caches.")]
                 for name in ("failover.md", "reprotect.md", "failback.md")}
        assert [len(b) for b in steps.values()] == [2, 6, 2]  # procedure and verification
        old = f"{prefix(regions['primary'])}-{cache['global_group']}"
        new = f"{prefix(regions['secondary'])}-{cache['global_group']}"
        with RegionFront(aws.endpoint_url) as front:
            env = shell_env(front.url, tmp_path / "home")
            front.outage(regions["primary"])
            said = twice(steps["failover.md"], env, tmp_path, aws, config)
            assert "ok: timeline-sessions-dr is a standalone primary (writable)" in said
            front.restore(regions["primary"])
            now = state(aws, config)
            assert now["secondary timeline-sessions-dr"] == (
                "available", None, None, [(DETACHED_TAG, old)])
            assert now["primary timeline-sessions"][1:3] == (old, "PRIMARY")

            twice(steps["reprotect.md"], env, tmp_path, aws, config)
            now = state(aws, config)
            assert now["secondary timeline-sessions-dr"] == ("available", new, "PRIMARY", [])
            assert now["primary timeline-sessions"] == (
                "available", new, "SECONDARY", [("dr:created-by", "dr reprotect")])
            assert now["primary datastores"] == now["secondary datastores"] == [new]

            said = twice(steps["failback.md"], env, tmp_path, aws, config)
            assert "ok: timeline-sessions is the global datastore's primary" in said
            now = state(aws, config)
            assert now["primary timeline-sessions"][1:3] == (new, "PRIMARY")
            assert now["secondary timeline-sessions-dr"][1:3] == (new, "SECONDARY")
    finally:
        for server in world.health.values():
            server.stop()
