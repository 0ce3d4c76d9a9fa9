"""The lab's regional app runs the ECS model's tasks, and each task reads its parameter when
it starts: a parameter switched later changes nothing for a running task, only for the
tasks of a new deployment."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from dr.lab import fidelity
from dr.lab.regional_app import RegionalApp
from tests.support.lab_aws import LabAws

REGION = "us-west-2"
PARAMETER = "/timeline/staging/db_host"


def health(app: RegionalApp) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(app.health_url, timeout=5) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


def test_a_task_started_before_a_parameter_switch_keeps_the_old_value(aws: LabAws) -> None:
    ssm, ecs = aws.client("ssm", REGION), aws.client("ecs", REGION)
    ssm.put_parameter(Name=PARAMETER, Value="db.old", Type="String")
    app = RegionalApp(REGION, lambda: ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"],
                      lambda host: None, writable=lambda host: (host == "db.new", None))

    def follow(event: str, region: str, cluster: str, service: str, task: str) -> None:
        if event == "running":
            app.task_started(task)
        else:
            app.task_leaving(task)

    with app:
        assert health(app) == (503, {"region": REGION, "healthy": False, "task": None,
                                     "db_host": None, "error": "no running task"})
        unregister = fidelity.on_task(follow)
        try:
            ecs.create_cluster(clusterName="timeline")
            ecs.register_task_definition(family="api", containerDefinitions=[
                {"name": "api", "image": "api:1", "memory": 512}])
            ecs.create_service(cluster="timeline", serviceName="api", taskDefinition="api",
                               desiredCount=1, launchType="FARGATE")
            deadline = time.monotonic() + 5
            while not app.tasks and time.monotonic() < deadline:
                time.sleep(0.01)
            [first] = app.tasks
            assert app.tasks == {first: "db.old"}

            ssm.put_parameter(Name=PARAMETER, Value="db.new", Overwrite=True)
            status, body = health(app)
            assert (status, body["task"], body["db_host"]) == (503, first, "db.old")

            ecs.update_service(cluster="timeline", service="api", forceNewDeployment=True)
            while first in app.tasks and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            unregister()
        [second] = app.tasks
        assert second != first and app.tasks == {second: "db.new"}
        status, body = health(app)
        assert (status, body["region"], body["db_host"]) == (200, REGION, "db.new")
