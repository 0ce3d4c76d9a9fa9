"""Contract 1.1, "Losing us-east-1": the primary region is us-east-1 and it is lost whole, its
regional APIs and every request signed for it (Route 53's and CloudFront's control planes
among them). The failover ends, bounded, with exit 1: everything in the recovery region is
done, the DNS and CDN steps failed naming the control plane, the report is written. Once the
control planes answer, --resume finishes the run with nothing done twice."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from dr.cli.main import main
from dr.lab.arc import ArcCluster
from dr.lab.estate import Shape, provision
from dr.lab.regionfront import RegionFront
from tests.steps.conftest import World
from tests.support import end_state
from tests.support.health import HealthServer
from tests.support.lab_aws import LabAws

PRIMARY, SECONDARY = "us-east-1", "us-west-2"
BOUND_SECONDS = 90.0


@pytest.fixture
def east_world(aws: LabAws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    servers = {"primary": HealthServer(), "secondary": HealthServer()}
    estate = provision(boto3.session.Session(), primary=PRIMARY, secondary=SECONDARY,
                       shape=Shape(databases=2, zones=1, distributions=1, services=2),
                       health={"api": (servers["primary"].url, servers["secondary"].url)})
    world = World(aws, estate.config, tmp_path / "dr.yaml", servers)
    world.write()
    yield world
    for server in servers.values():
        server.stop()


def report_of(world: World) -> dict[str, Any]:
    [path] = list((world.path.parent / ".dr" / "runs").glob("*/report.json"))
    return dict(json.loads(path.read_text()))


def test_losing_us_east_1_whole_ends_bounded_and_resumes(
        east_world: World, regionfront: RegionFront, capsys: pytest.CaptureFixture[str]
        ) -> None:
    world = east_world
    regionfront.outage(PRIMARY, with_global=True)

    started = time.monotonic()
    code = main(["failover", "--to", "secondary", "--yes", "--config", str(world.path)])
    took = time.monotonic() - started
    said = capsys.readouterr()

    assert code == 1, said.out
    assert took < BOUND_SECONDS  # the contract's "never a hang", as the issue bounds it
    report = report_of(world)
    assert report["outcome"] == "failed" and report.get("resumable") is True
    status = {s["type"]: s for s in report["steps"]}
    assert status["route53.switch-records"]["status"] == "failed"
    assert "Route 53 control plane" in status["route53.switch-records"]["error"]
    assert status["cloudfront.switch-origin"]["status"] == "failed"
    assert "CloudFront control plane" in status["cloudfront.switch-origin"]["error"]
    assert any("Route 53 control plane" in w for w in report["warnings"])
    for step in report["steps"]:
        if step["type"] in ("rds.promote-replica", "ecs.scale-up", "ssm.put-parameter"):
            assert step["status"] == "succeeded", step
    for db in world.config["databases"]:
        promoted = end_state.database(world.aws, SECONDARY, db["secondary"])
        assert "ReadReplicaSourceDBInstanceIdentifier" not in promoted
    for svc in world.config["services"]:
        assert end_state.desired(world.aws, SECONDARY, svc["cluster"],
                                 svc["service"]) == svc["active_count"]
    for param in world.config["parameters"]:
        assert end_state.parameter(world.aws, SECONDARY, param["name"]) == param["secondary"]
    assert "--resume" in said.err

    regionfront.restore(PRIMARY)
    promotions = regionfront.status()["operations"].get("rds:PromoteReadReplica")
    assert main(["failover", "--resume", report["run_id"], "--yes",
                 "--config", str(world.path)]) == 0
    end_state.assert_failed_over(world.aws, world.config, "secondary", other_reachable=False)
    assert regionfront.status()["operations"].get("rds:PromoteReadReplica") == promotions
    resumed = report_of(world)
    assert resumed["outcome"] == "succeeded"
    assert {s["id"]: s["attempts"] for s in resumed["steps"]
            if s["type"] == "rds.promote-replica"} == {
        f"databases.{db['name']}.promote": 1 for db in world.config["databases"]}


def test_plan_names_the_steps_that_need_a_control_plane(
        east_world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--to", "secondary", "--config", str(east_world.path)]) == 0
    out = capsys.readouterr().out
    assert "needs the Route 53 (us-east-1) control plane: dns." in out
    assert "needs the CloudFront (us-east-1) control plane: cdn." in out


@pytest.fixture
def controlled_world(east_world: World) -> Iterator[tuple[World, ArcCluster]]:
    """Every record a failover pair driven by routing controls; the distribution's origin is
    the record's name, so it needs no cdn entry (it follows the record)."""
    world = east_world
    panel = "arn:aws:route53-recovery-control::123456789012:controlpanel/0a1b"
    with ArcCluster() as cluster:
        for n, record in enumerate(world.config["dns"]):
            controls = {role: f"{panel}/routingcontrol/{role[:1]}{n:03d}"
                        for role in ("primary", "secondary")}
            for role, arn in controls.items():
                cluster.add_control(arn, f"{record['name']} {role}",
                                    "On" if role == "primary" else "Off", panel)
            record["routing_control"] = controls
        world.config["routing_control_cluster"] = {"endpoints": cluster.endpoints}
        world.config["cdn"] = []
        world.write()
        yield world, cluster


def test_routing_controls_move_traffic_without_us_east_1(
        controlled_world: tuple[World, ArcCluster], regionfront: RegionFront,
        capsys: pytest.CaptureFixture[str]) -> None:
    world, cluster = controlled_world
    regionfront.outage(PRIMARY, with_global=True)
    cluster.outage(PRIMARY)  # the cluster's us-east-1 endpoint is lost with the region

    started = time.monotonic()
    code = main(["failover", "--to", "secondary", "--yes", "--config", str(world.path)])
    took = time.monotonic() - started

    assert code in (0, 4), capsys.readouterr().out
    assert took < BOUND_SECONDS
    for record in world.config["dns"]:
        states = cluster.states()
        assert states[record["routing_control"]["secondary"]] == "On"
        assert states[record["routing_control"]["primary"]] == "Off"
    # Set in one call, through an endpoint outside the lost region.
    assert len(cluster.updated_through) == 1 and cluster.updated_through[0] != PRIMARY
    # Nothing that changes anything went to the Route 53 or CloudFront control planes.
    changing = {op for op in regionfront.status()["operations"]
                if op.split(":")[0] in ("route53", "cloudfront")
                and op.split(":")[1] in ("POST", "PUT", "DELETE")}
    assert changing == set()
    report = report_of(world)
    step = next(s for s in report["steps"] if s["type"] == "arc.set-routing-controls")
    assert step["status"] == "succeeded"
