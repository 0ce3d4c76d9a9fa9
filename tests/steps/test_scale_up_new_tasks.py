"""ECS tasks read their parameters when they start: the scale-up of the recovery region
starts a new deployment after the parameters are switched, once (a rerun starts none), and a
dry run says it would."""

from __future__ import annotations

import json
from typing import Any

from dr.cli.main import main
from tests.steps.conftest import SECONDARY, World


def service(world: World) -> dict[str, Any]:
    found = world.aws.client("ecs", SECONDARY).describe_services(
        cluster="timeline", services=["api"])["services"][0]
    return dict(found)


def primary_deployment(world: World) -> dict[str, Any]:
    return next(d for d in service(world)["deployments"] if d["status"] == "PRIMARY")


def report(world: World) -> dict[str, Any]:
    runs = sorted((world.path.parent / ".dr" / "runs").glob("*/report.json"),
                  key=lambda p: p.stat().st_mtime)
    return dict(json.loads(runs[-1].read_text()))


def test_the_new_deployment_starts_after_the_parameters_once(small_world: World) -> None:
    before = primary_deployment(small_world)
    parameter = small_world.config["parameters"][0]["name"]
    assert main(["failover", "--to", "secondary", "--yes", "--config",
                 str(small_world.path)]) == 0
    after = primary_deployment(small_world)
    switched = small_world.aws.client("ssm", SECONDARY).get_parameter(
        Name=parameter)["Parameter"]["LastModifiedDate"]
    assert after["id"] != before["id"] and after["createdAt"] >= switched
    assert (after["desiredCount"], after["runningCount"]) == (4, 4)
    [scale_up] = [s for s in report(small_world)["steps"] if s["type"] == "ecs.scale-up"]
    assert scale_up["detail"]["new_deployment_for"] == [parameter]

    assert main(["failover", "--to", "secondary", "--yes", "--config",
                 str(small_world.path)]) == 0
    assert primary_deployment(small_world)["id"] == after["id"]


def test_a_dry_run_says_the_tasks_would_be_replaced(small_world: World) -> None:
    before = primary_deployment(small_world)
    assert main(["plan", "--to", "secondary", "--config", str(small_world.path)]) == 0
    [scale_up] = [s for s in report(small_world)["steps"] if s["type"] == "ecs.scale-up"]
    [intention] = scale_up["detail"]["intentions"]
    assert intention["operation"] == "UpdateService"
    assert primary_deployment(small_world)["id"] == before["id"]
    assert "forceNewDeployment" in json.dumps(intention)
