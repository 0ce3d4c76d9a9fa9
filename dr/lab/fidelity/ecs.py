"""ECS as AWS runs it: tasks take time to start and to stop, running counts follow, and a new
deployment replaces every task.

A task reads its parameters (SSM, Secrets Manager) when its container starts, so a parameter
switched later reaches only tasks started after it: a new deployment (`forceNewDeployment`)
is how a running service picks it up. The lab's apps follow this model's tasks through
`on_task` hooks, fired on time by timers: "running" when a task reaches RUNNING (it reads
its parameters then), "draining" when it leaves the load balancer on its way to stopping.

A task started by RunTask (the remote runner) runs until its essential container exits or
StopTask stops it. moto walks such a task one status further at every DescribeTasks
(RUNNING to STOPPED in four), so a follower that polled four times saw its runner stop
mid-run; the lab keeps it RUNNING until StopTask.
"""

from __future__ import annotations

import math
import sys
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from moto.core.utils import utcnow
from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.moto_api import state_manager

from dr.lab import timing
from dr.lab.fidelity.layer import aws_id, layer

log = structlog.get_logger("dr.lab.fidelity")

_NEVER = math.inf
_TIMER_SLACK_SECONDS = 0.01


@dataclass
class _Task:
    id: str
    deployment: str
    ready_at: float  # RUNNING from then on
    drain_at: float = _NEVER  # out of the load balancer from then on, stopping
    stopped_at: float = _NEVER
    announced: set[str] = field(default_factory=set)


@dataclass
class _Deployment:
    id: str
    created_at: datetime


@dataclass
class _Fleet:
    """The tasks of one ECS service and its deployments, newest (PRIMARY) first."""

    region: str
    cluster: str
    service: str
    deployments: list[_Deployment]
    tasks: list[_Task] = field(default_factory=list)

    def _start(self, count: int, now: float, start: float) -> list[_Task]:
        # The tasks of one scale-out reach RUNNING spread over [start, 2*start), not at once.
        new = [_Task(aws_id("t").lower(), self.deployments[0].id, now + start * (1 + k / count))
               for k in range(count)]
        self.tasks += new
        return new

    def _stop(self, task: _Task, at: float, stop: float) -> None:
        task.drain_at, task.stopped_at = at, at + stop

    def forget_stopped(self, now: float) -> None:
        # A stopped task is kept until the hooks have heard that it left.
        listening = bool(layer.task_hooks)
        self.tasks = [t for t in self.tasks
                      if t.stopped_at > now or (listening and "draining" not in t.announced)]
        live = {t.deployment for t in self.tasks}
        self.deployments = self.deployments[:1] + [d for d in self.deployments[1:]
                                                   if d.id in live]

    def scale_to(self, desired: int, now: float, start: float, stop: float) -> None:
        self.forget_stopped(now)
        current = [t for t in self.tasks
                   if t.deployment == self.deployments[0].id and t.drain_at == _NEVER]
        surplus = len(current) - desired
        if surplus < 0:
            self._start(-surplus, now, start)
            return
        # Scale-in drops tasks that are not yet running first, as ECS does.
        for task in sorted(current, key=lambda t: t.ready_at)[len(current) - surplus:]:
            if task.ready_at > now:
                self.tasks.remove(task)
            else:
                self._stop(task, now, stop)

    def redeploy(self, desired: int, now: float, start: float, stop: float) -> None:
        """A new PRIMARY deployment of `desired` tasks; each old task leaves as a new one
        reaches RUNNING (rolling update, minimum healthy 100 %)."""
        self.forget_stopped(now)
        self.deployments.insert(0, _Deployment(f"ecs-svc/{aws_id('')}", utcnow()))
        old = sorted((t for t in self.tasks if t.drain_at == _NEVER), key=lambda t: t.ready_at)
        for task in [t for t in old if t.ready_at > now]:
            self.tasks.remove(task)
        new = self._start(desired, now, start)
        for index, task in enumerate(t for t in old if t.ready_at <= now):
            replaced_at = new[min(index, len(new) - 1)].ready_at if new else now
            self._stop(task, replaced_at, stop)

    def counts(self, now: float, deployment: str | None = None) -> tuple[int, int]:
        mine = [t for t in self.tasks if deployment is None or t.deployment == deployment]
        running = sum(t.ready_at <= now < t.stopped_at for t in mine)
        pending = sum(t.ready_at > now for t in mine)
        return running, pending


def _fleet(service: Service) -> _Fleet:
    fleet: _Fleet | None = getattr(service, "_dr_fleet", None)
    if fleet is None:
        first = (service.deployments or [{}])[0]
        fleet = _Fleet(service.region_name, service.cluster_name, service.name,
                       [_Deployment(first.get("id") or f"ecs-svc/{aws_id('')}",
                                    first.get("createdAt") or utcnow())])
        # A service that existed before the patches: its tasks are already running.
        fleet.tasks = [_Task(aws_id("t").lower(), fleet.deployments[0].id, -_NEVER)
                       for _ in range(int(service.running_count or 0))]
        service._dr_fleet = fleet
        with layer.lock:
            layer.fleets.append(fleet)
    return fleet


def _show_counts(service: Service) -> None:
    fleet = _fleet(service)
    now = layer.clock()
    with layer.lock:
        fleet.forget_stopped(now)
        running, pending = fleet.counts(now)
        shown = []
        template = dict((service.deployments or [{}])[0])
        for index, deployment in enumerate(fleet.deployments):
            mine_running, mine_pending = fleet.counts(now, deployment.id)
            desired = int(service.desired_count or 0) if index == 0 else 0
            shown.append({**template, "id": deployment.id, "createdAt": deployment.created_at,
                          "status": "PRIMARY" if index == 0 else "ACTIVE",
                          "desiredCount": desired, "runningCount": mine_running,
                          "pendingCount": mine_pending,
                          "rolloutState": "COMPLETED" if mine_running == desired
                          and not mine_pending and len(fleet.deployments) == 1
                          else "IN_PROGRESS"})
    service.running_count = running
    service.pending_count = pending
    service.deployments = shown


def announce() -> None:
    """Fire the task hooks whose moment has come, outside the lock, oldest first."""
    now = layer.clock()
    due: list[tuple[float, str, _Fleet, _Task]] = []
    with layer.lock:
        hooks = list(layer.task_hooks)
        for fleet in layer.fleets:
            for task in fleet.tasks:
                for event, at in (("running", task.ready_at), ("draining", task.drain_at)):
                    if at <= now and event not in task.announced:
                        due.append((at, event, fleet, task))
                        task.announced.add(event)
    # On a tie the new task is in the load balancer before the one it replaces leaves.
    for _, event, fleet, task in sorted(due, key=lambda d: (d[0], d[1] != "running")):
        for hook in hooks:
            try:
                hook(event, fleet.region, fleet.cluster, fleet.service, task.id)
            except Exception:  # a broken lab hook must not break the emulator
                log.exception("fidelity.task_hook_failed", task=task.id, event=event)


def schedule(fleets: list[_Fleet] | None = None) -> None:
    """Timers for the coming task events of `fleets` (all by default), when anyone listens."""
    with layer.lock:
        if not layer.task_hooks:
            return
        now = layer.clock()
        moments = {max(at, now) for fleet in (layer.fleets if fleets is None else fleets)
                   for t in fleet.tasks
                   for event, at in (("running", t.ready_at), ("draining", t.drain_at))
                   if at < _NEVER and event not in t.announced}
        for at in sorted(moments):
            timer = threading.Timer(at - now + _TIMER_SLACK_SECONDS, announce)
            timer.daemon = True
            layer.timers = [t for t in layer.timers if t.is_alive()] + [timer]
            timer.start()


def _tasks_run_until_stopped() -> None:
    """AWS: a task stays RUNNING until its essential container exits or it is stopped
    (StopTask); only then does it pass DEACTIVATING, STOPPING and DEPROVISIONING to STOPPED.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html
    moto's state manager (its public API for modelled statuses) would advance the task at
    every DescribeTasks; a count of describes it never reaches keeps it where StopTask puts
    it."""
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": sys.maxsize})


def install() -> None:
    _tasks_run_until_stopped()
    create = EC2ContainerServiceBackend.create_service
    update = EC2ContainerServiceBackend.update_service
    describe = EC2ContainerServiceBackend.describe_services

    def change(service: Service, desired: int, redeploy: bool) -> None:
        fleet = _fleet(service)
        with layer.lock:
            args = (layer.clock(), layer.duration(timing.ECS_TASK_START),
                    layer.duration(timing.ECS_TASK_STOP))
            if redeploy:
                fleet.redeploy(desired, *args)
            else:
                fleet.scale_to(desired, *args)
        _show_counts(service)
        schedule([fleet])

    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Service:
        """AWS: the scheduler starts `desiredCount` tasks for a new service; they reach
        RUNNING after provisioning (a minute or two on Fargate).
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_services.html"""
        service = create(self, *args, **kwargs)
        service.running_count = 0
        change(service, int(service.desired_count or 0), redeploy=False)
        return service

    def update_service(
        self: EC2ContainerServiceBackend, service_properties: dict[str, Any]
    ) -> Service:
        """AWS: changing desiredCount starts or stops tasks; runningCount climbs (or falls)
        as tasks reach RUNNING (or stop), with pendingCount for tasks still starting.
        `forceNewDeployment` starts a new PRIMARY deployment whose tasks replace the old
        ones (rolling update: an old task leaves once a new one runs); the old deployment is
        ACTIVE until its tasks have stopped.
        https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html"""
        resized = service_properties.get("desired_count") is not None
        redeploy = bool(service_properties.get("force_new_deployment"))
        service = update(self, service_properties)
        if resized or redeploy:
            change(service, int(service.desired_count or 0), redeploy)
        else:
            _show_counts(service)
        return service

    def describe_services(
        self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any
    ) -> tuple[list[Service], list[dict[str, str]]]:
        services, failures = describe(self, *args, **kwargs)
        for service in services:
            _show_counts(service)
        return services, failures

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]
    EC2ContainerServiceBackend.describe_services = describe_services  # type: ignore[method-assign]
