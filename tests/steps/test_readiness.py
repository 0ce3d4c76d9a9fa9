"""Readiness failures: each exits 3, names the resource, and changes nothing."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from dr.cli.main import main
from dr.lab.regionfront import RegionFront
from tests.steps.conftest import World
from tests.steps.test_failover_e2e import snapshot
from tests.support import end_state


def replica_missing(world: World) -> str:
    world.config["databases"][1]["secondary"] = "timeline-nope-dr"
    return "timeline-nope-dr"


def lag_above_target(world: World) -> str:
    db = world.config["databases"][0]["secondary"]
    world.aws.client("cloudwatch", world.config["regions"]["secondary"]).put_metric_data(
        Namespace="AWS/RDS", MetricData=[{
            "MetricName": "ReplicaLag", "Value": 240.0, "Unit": "Seconds",
            "Timestamp": datetime.now(UTC),
            "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db}]}])
    return "replica lag 240 s is above the RPO target"


def zone_unknown(world: World) -> str:
    world.config["dns"][0]["zone_id"] = "ZUNKNOWN123"
    return "ZUNKNOWN123"


def distribution_unknown(world: World) -> str:
    world.config["cdn"][0]["distribution_id"] = "ENOSUCHDIST"
    return "ENOSUCHDIST"


def origin_unknown(world: World) -> str:
    world.config["cdn"][1]["origin_id"] = "api-v2"
    return "api-v2"


def service_missing(world: World) -> str:
    world.aws.client("ecs", world.config["regions"]["secondary"]).delete_service(
        cluster="timeline", service="worker2", force=True)
    return "timeline/worker2"


def health_failing(world: World) -> str:
    world.health["secondary"].stop()
    return world.health["secondary"].url


CASES: dict[str, Callable[[World], str]] = {
    "replica-missing": replica_missing, "replica-lag": lag_above_target,
    "zone-unknown": zone_unknown, "distribution-unknown": distribution_unknown,
    "origin-unknown": origin_unknown, "service-missing": service_missing,
    "recovery-health-failing": health_failing,
}


@pytest.mark.parametrize("break_it", CASES.values(), ids=CASES.keys())
def test_not_ready_exits_3_names_the_resource_and_changes_nothing(
        world: World, break_it: Callable[[World], str], capsys: pytest.CaptureFixture[str]
) -> None:
    original = copy.deepcopy(world.config)
    before = snapshot(world)
    named = break_it(world)
    world.write()
    code = main(["failover", "--to", "secondary", "--yes", "--config", str(world.path)])
    out = capsys.readouterr()
    assert code == 3, out.out + out.err
    assert named in out.out
    assert "NOT READY" in out.out
    assert snapshot(world, original) == before


def test_accept_data_loss_lets_lag_above_target_through(
        world: World, regionfront: RegionFront, capsys: pytest.CaptureFixture[str]) -> None:
    """In an outage (the primary region hangs) the lag is lost: the RPO target is missed."""
    lag_above_target(world)
    regionfront.outage(world.config["regions"]["primary"])
    code = main(["failover", "--to", "secondary", "--yes", "--accept-data-loss",
                 "--config", str(world.path)])
    out = capsys.readouterr().out
    assert code == 4, out
    assert "RPO 240.0s" in out


def test_lag_above_target_costs_a_switchover_nothing(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """The old primary answers: the replica catches up before it is promoted, so the lag that
    readiness weighed as a possible loss is not lost."""
    lag_above_target(world)
    code = main(["failover", "--to", "secondary", "--yes", "--accept-data-loss",
                 "--config", str(world.path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "RPO 0.0s (target 60s, switchover)" in out


def test_a_missing_replica_names_the_instance_dr_retired_from_it(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """A failback interrupted between retire and re-create: the data is under another name.
    Readiness names it as a data loss; accepted, the failover renames it back and promotes."""
    regions = world.config["regions"]
    replica = world.config["databases"][1]["secondary"]
    retired = f"{replica}-retired-202611242333051d2b"
    rds = world.aws.client("rds", regions["secondary"])
    rds.modify_db_instance(DBInstanceIdentifier=replica, NewDBInstanceIdentifier=retired,
                           ApplyImmediately=True)
    cfg = ["--yes", "--config", str(world.path)]
    code = main(["failover", "--to", "secondary", *cfg])
    out = capsys.readouterr().out
    assert code == 3, out
    assert f"{retired} was retired from it by dr" in out
    assert "--accept-data-loss renames it back" in out
    assert rds.describe_db_instances(DBInstanceIdentifier=retired)["DBInstances"]  # untouched

    code = main(["failover", "--to", "secondary", "--accept-data-loss", *cfg])
    assert code == 0, capsys.readouterr().out
    end_state.assert_failed_over(world.aws, world.config, "secondary")
    names = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert replica in names and retired not in names
