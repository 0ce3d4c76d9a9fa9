"""ECS: scale the recovery region's services up before traffic moves, the other side down
after it has moved (where that region answers)."""

from __future__ import annotations

import math
from typing import Any

from dr.config.model import Service
from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, StepType, register

SCALE_MANUAL = Manual(
    procedure="""```bash
aws ecs update-service --region {region} --cluster {cluster} --service {service} \\
  --desired-count {count}
aws ecs wait services-stable --region {region} --cluster {cluster} --services {service}
```""",
    verify="""```bash
aws ecs describe-services --region {region} --cluster {cluster} --services {service} \\
  --query 'services[0].[desiredCount,runningCount]'   # {count}, {count}
```""",
    undo="""```bash
aws ecs update-service --region {region} --cluster {cluster} --service {service} \\
  --desired-count {previous}
```""")


class ServiceStep(StepType):
    reads = "services"
    item: Service
    manual = SCALE_MANUAL

    @property
    def key(self) -> str:
        return f"{self.item.cluster}/{self.item.service}"

    @property
    def count(self) -> int:
        raise NotImplementedError

    @property
    def previous(self) -> int:
        raise NotImplementedError

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "cluster": self.item.cluster,
                "service": self.item.service, "count": self.count, "previous": self.previous}

    def plan(self) -> str:
        return f"set {self.key} in {self.region} to {self.count} tasks"

    def describe(self, ctx: StepContext) -> dict[str, Any] | None:
        found = ctx.aws.client("ecs", self.region).describe_services(
            cluster=self.item.cluster, services=[self.item.service])["services"]
        return next((s for s in found if s.get("status") == "ACTIVE"), None)

    def set_desired(self, ctx: StepContext) -> None:
        service = self.describe(ctx)
        if service is None:
            raise StepError(f"service {self.key} not found in {self.region}")
        ctx.note(desired_before=service["desiredCount"])
        if service["desiredCount"] == self.count:
            ctx.note(already_done=True)
            return
        ctx.aws.client("ecs", self.region).update_service(
            cluster=self.item.cluster, service=self.item.service, desiredCount=self.count)

    def verify(self, ctx: StepContext) -> None:
        service = self.describe(ctx)
        if service is None or service["desiredCount"] != self.count:
            raise VerifyFailed(f"{self.key} in {self.region}: desired count is not {self.count}")


@register
class ScaleUp(ServiceStep):
    name = "ecs.scale-up"
    action = "scale-up"
    acts_in = "to"
    typical_seconds = 90.0
    timeout_seconds = 900.0
    iam_actions = ("ecs:DescribeServices", "ecs:UpdateService")
    summary = ("Scale the recovery region's service to its active count and wait until enough "
               "tasks run (min_running_fraction of it).")
    why = "Before traffic moves, so the recovery region can carry it; in parallel with promotion."

    @property
    def count(self) -> int:
        return self.item.active_count

    @property
    def previous(self) -> int:
        return self.item.standby_count

    def check(self, ctx: StepContext) -> list[Problem]:
        if self.describe(ctx) is None:
            return [Problem(f"services[{self.key}]", f"service not found in {self.region}")]
        return []

    def apply(self, ctx: StepContext) -> None:
        self.set_desired(ctx)
        needed = math.ceil(self.count * self.item.min_running_fraction)
        ctx.note(running_needed=needed)

        def running() -> bool:
            service = self.describe(ctx)
            return bool(service and service.get("runningCount", 0) >= needed)

        ctx.wait(f"{self.key} in {self.region}: {needed} tasks running", running)

    def rollback(self, ctx: StepContext) -> None:
        ctx.aws.client("ecs", self.region).update_service(
            cluster=self.item.cluster, service=self.item.service,
            desiredCount=ctx.detail.get("desired_before", self.item.standby_count))


@register
class ScaleDown(ServiceStep):
    name = "ecs.scale-down"
    action = "scale-down"
    acts_in = "from"
    best_effort = True
    recovery_path = False
    typical_seconds = 5.0
    timeout_seconds = 300.0
    iam_actions = ("ecs:DescribeServices", "ecs:UpdateService")
    follow_up = ("scale {cluster}/{service} in {from_region} to {count} when the region "
                 "answers again")
    summary = "Scale the old region's service to its standby count, where that region answers."
    why = ("Last, after traffic has moved and the recovery region is verified healthy, so "
           "capacity is never removed before its replacement serves.")

    @property
    def count(self) -> int:
        return self.item.standby_count

    @property
    def previous(self) -> int:
        return self.item.active_count

    def apply(self, ctx: StepContext) -> None:
        self.set_desired(ctx)

    def rollback(self, ctx: StepContext) -> None:
        ctx.aws.client("ecs", self.region).update_service(
            cluster=self.item.cluster, service=self.item.service,
            desiredCount=ctx.detail.get("desired_before", self.item.active_count))
