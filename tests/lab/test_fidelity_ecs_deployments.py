"""ECS tasks read their parameters when they start: a new deployment replaces every task, and
the lab hears each task start and leave, on time. Seen through boto3 over HTTP, on a clock
the test moves."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.lab import fidelity, timing
from dr.lab.timing import INSTANT, TimingProfile
from tests.support.clock import FakeClock
from tests.support.lab_aws import LabAws

REGION = "us-west-2"
REALISTIC = TimingProfile("realistic")
START = REALISTIC.duration(timing.ECS_TASK_START)
STOP = REALISTIC.duration(timing.ECS_TASK_STOP)


def service(aws: LabAws, desired: int) -> Any:
    ecs = aws.client("ecs", REGION)
    ecs.create_cluster(clusterName="timeline")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 512}])
    ecs.create_service(cluster="timeline", serviceName="api", taskDefinition="api",
                       desiredCount=desired, launchType="FARGATE")
    return ecs


def deployments(ecs: Any) -> list[tuple[str, int, int]]:
    found = ecs.describe_services(cluster="timeline", services=["api"])["services"][0]
    return [(d["status"], d["runningCount"], d["pendingCount"]) for d in found["deployments"]]


def test_a_new_deployment_replaces_each_old_task_as_a_new_one_runs(
        aws: LabAws, clock: FakeClock) -> None:
    ecs = service(aws, desired=1)
    clock.now += 2 * START
    before = datetime.now(UTC) - timedelta(seconds=1)
    ecs.update_service(cluster="timeline", service="api", desiredCount=3,
                       forceNewDeployment=True)
    assert deployments(ecs) == [("PRIMARY", 0, 3), ("ACTIVE", 1, 0)]
    primary = ecs.describe_services(cluster="timeline", services=["api"])["services"][0][
        "deployments"][0]
    assert primary["createdAt"] >= before

    clock.now += START  # the first new task runs: the old one leaves, stopping
    assert deployments(ecs) == [("PRIMARY", 1, 2), ("ACTIVE", 1, 0)]
    clock.now += STOP
    assert deployments(ecs)[0][0] == "PRIMARY" and len(deployments(ecs)) == 1
    clock.now += START
    assert deployments(ecs) == [("PRIMARY", 3, 0)]


def test_task_hooks_hear_each_start_and_leave_on_time(aws: LabAws) -> None:
    fidelity.apply(TimingProfile("realistic", time_scale=0.002))  # task start: 0.12 s
    heard: list[tuple[str, str, float]] = []
    unregister = fidelity.on_task(
        lambda event, region, cluster, name, task: heard.append((event, task, time.monotonic())))
    try:
        ecs = service(aws, desired=1)
        deadline = time.monotonic() + 5
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        [(event, first, _)] = heard
        assert event == "running"
        forced_at = time.monotonic()
        ecs.update_service(cluster="timeline", service="api", forceNewDeployment=True)
        while len(heard) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        unregister()
        fidelity.apply(INSTANT)
    events = [(event, task == first) for event, task, _ in heard]
    # The replacement runs, then (at that same moment) the old task leaves.
    assert events == [("running", True), ("running", False), ("draining", True)]
    assert heard[1][2] - forced_at >= 0.12


def test_a_run_task_runs_until_it_is_stopped(aws: LabAws) -> None:
    """moto alone walked it one status on at every DescribeTasks: STOPPED at the fourth."""
    ecs = service(aws, desired=0)
    [task] = ecs.run_task(cluster="timeline", taskDefinition="api", launchType="FARGATE",
                          startedBy="dr-remote")["tasks"]

    def status() -> tuple[str, str]:
        [found] = ecs.describe_tasks(cluster="timeline", tasks=[task["taskArn"]])["tasks"]
        return found["lastStatus"], found.get("stoppedReason", "")

    assert {status() for _ in range(8)} == {("RUNNING", "")}
    ecs.stop_task(cluster="timeline", task=task["taskArn"], reason="Essential container exited")
    assert status() == ("STOPPED", "Essential container exited")
