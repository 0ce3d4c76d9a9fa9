"""Failover end to end against the emulator: the contract's end state, idempotence, dry run,
and a primary region whose APIs hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dr.aws.gateway import is_mutating
from dr.lab.regionfront import RegionFront
from tests.steps.conftest import World
from tests.support import end_state

DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]


def dr(world: World, *args: str, env: dict[str, str] | None = None,
       timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DR, *args, "--config", str(world.path), "--log-format", "json"],
                          cwd=world.path.parent, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or world.aws.env)})


def last_report(world: World) -> dict[str, Any]:
    reports = sorted((world.path.parent / ".dr" / "runs").glob("*/report.json"),
                     key=lambda p: p.stat().st_mtime)
    return json.loads(reports[-1].read_text())


def mutating_calls(report: dict[str, Any]) -> list[str]:
    return [op for step in report["steps"] for op in step["detail"].get("aws_calls", {})
            if is_mutating(op.split(":", 1)[1])]


def snapshot(world: World, config: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg, aws = config or world.config, world.aws
    regions = cfg["regions"]
    return {
        "dbs": [end_state.database(aws, regions["secondary"], d["secondary"]).get(
            "ReadReplicaSourceDBInstanceIdentifier") for d in cfg["databases"]],
        "dns": [end_state.record_values(aws, r["zone_id"]) for r in cfg["dns"]],
        "cdn": [end_state.origins(aws, c["distribution_id"]) for c in cfg["cdn"]],
        "ecs": [end_state.desired(aws, regions[role], s["cluster"], s["service"])
                for s in cfg["services"] for role in ("primary", "secondary")],
        "ssm": [end_state.parameter(aws, regions[role], p["name"])
                for p in cfg["parameters"] for role in ("primary", "secondary")],
    }


def test_plan_changes_nothing_and_lists_every_intention(world: World) -> None:
    before = snapshot(world)
    result = dr(world, "plan", "--to", "secondary")
    assert result.returncode == 0, result.stderr
    report = last_report(world)
    assert report["outcome"] == "planned" and report["dry_run"] is True
    assert mutating_calls(report) == []
    intended = {i["operation"] for s in report["steps"] for i in s["detail"].get("intentions", [])}
    assert {"PromoteReadReplica", "ModifyDBInstance", "UpdateService", "PutParameter",
            "ChangeResourceRecordSets", "UpdateDistribution"} <= intended
    assert snapshot(world) == before


def test_failover_leaves_the_contract_end_state_and_a_rerun_changes_nothing(
        world: World) -> None:
    reports = world.path.parent / "out"
    result = dr(world, "failover", "--to", "secondary", "--yes", "--report-dir", str(reports))
    assert result.returncode == 0, result.stdout + result.stderr
    end_state.assert_failed_over(world.aws, world.config, "secondary")
    for name in ("report.json", "report.md", "junit.xml"):
        assert (reports / name).is_file()
    report = json.loads((reports / "report.json").read_text())
    assert report["outcome"] == "succeeded"
    # The old primaries answered: a switchover. Without a heartbeat connection, each was
    # rebooted to end its sessions and its replica's ReplicaLag read 0 after that.
    assert report["rpo"]["method"] == "switchover"
    assert report["rpo"]["measured_seconds"] == 0 and report["rpo"]["met"] is True
    assert report["rpo"]["proven_by"] == "replica_lag"
    fences = [s for s in report["steps"] if s["id"].endswith(".fence")]
    assert len(fences) == 3
    for fence in fences:
        assert fence["detail"]["aws_calls"]["rds:RebootDBInstance"] == 1
        proof = fence["detail"]["switchover"]
        assert proof["replica_lag_zero_period"]["starts_at"] >= proof["sessions_ended_at"]
    assert report["rto"]["method"] == "health_checks"

    again = dr(world, "failover", "--to", "secondary", "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert mutating_calls(last_report(world)) == []
    end_state.assert_failed_over(world.aws, world.config, "secondary")


def test_failover_completes_with_the_primary_region_hanging(world: World) -> None:
    with RegionFront(world.aws.endpoint_url) as front:
        front.outage(world.config["regions"]["primary"])
        world.health["primary"].stop()
        started = time.monotonic()
        result = dr(world, "failover", "--to", "secondary", "--yes",
                    env=world.aws.via(front.url).env)
        took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert took < 60
    report = last_report(world)
    skipped = {s["id"]: s for s in report["steps"] if s["status"] == "skipped"}
    fences = [s for s in skipped if s.endswith(".fence")]
    downs = [s for s in skipped if s.endswith(".scale-down")]
    assert len(fences) == 3 and len(downs) == 3
    assert all("not answering" in skipped[s]["detail"]["reason"] for s in fences + downs)
    assert len(report["follow_ups"]) == 7  # each fence and scale-down, and Terraform's
    terraform = report["follow_ups"][-1]
    assert terraform.startswith("Terraform:") and "apply terraform/secondary first" in terraform
    assert (f"terraform/primary once {world.config['regions']['primary']} answers and its old "
            "writers are fenced") in terraform
    end_state.assert_failed_over(world.aws, world.config, "secondary", other_reachable=False)
    # No old primary answered: a failover, whose RPO is the replicas' lag before it.
    assert report["rpo"]["method"] == "replica_lag"
    print(f"failover with the primary region hanging: {took:.1f}s")


def test_report_names_what_changed(world: World, tmp_path: Path) -> None:
    result = dr(world, "failover", "--to", "secondary", "--yes")
    assert result.returncode == 0, result.stderr
    report = last_report(world)
    assert set(report["changed"]) == {s["id"] for s in report["steps"]
                                      if s["id"].split(".")[-1] != "verify"}
