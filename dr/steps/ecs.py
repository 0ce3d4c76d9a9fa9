"""ECS: scale the recovery region's services up before traffic moves, the other side down
after it has moved (where that region answers).

An ECS task reads its parameters (SSM `secrets`/`valueFrom`) when it starts: the recovery
region's tasks that started before its parameters were switched still point at the old
region. The scale-up therefore starts a new deployment (`forceNewDeployment`) whenever a
configured parameter changed after the service's current deployment began, or is still to
change in this run (a dry run shows that), and waits for the new deployment's tasks.
"""

from __future__ import annotations

import math
from typing import Any

from dr.config.model import Service
from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, StepType, register

SCALE_MANUAL = Manual(
    procedure="""```bash
DESIRED=$(aws ecs describe-services --region {region} --cluster {cluster} --services {service} \\
  --query 'services[0].desiredCount' --output text)
if [ "$DESIRED" = "{count}" ]; then
  echo "{cluster}/{service} in {region} wants {count} tasks already"
else
  aws ecs update-service --region {region} --cluster {cluster} --service {service} \\
    --desired-count {count} --query service.desiredCount --output text
fi
aws ecs wait services-stable --region {region} --cluster {cluster} --services {service}
```""",
    verify="""```bash
INFO=$(aws ecs describe-services --region {region} --cluster {cluster} --services {service} \\
  --query 'services[0].[desiredCount,runningCount]' --output text)
read -r DESIRED RUNNING <<<"$INFO"
if [ "$DESIRED" = "{count}" ]; then
  echo "ok: {cluster}/{service} in {region} wants {count} tasks ($RUNNING running)"
else
  echo "NOT YET: {cluster}/{service} in {region} wants $DESIRED tasks, not {count}" >&2; false
fi
```""",
    undo="""```bash
aws ecs update-service --region {region} --cluster {cluster} --service {service} \\
  --desired-count {previous} --query service.desiredCount --output text
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

    def set_desired(self, ctx: StepContext, redeploy: bool = False) -> None:
        service = self.describe(ctx)
        if service is None:
            raise StepError(f"service {self.key} not found in {self.region}")
        ctx.note(desired_before=service["desiredCount"])
        if service["desiredCount"] == self.count and not redeploy:
            ctx.note(already_done=True)
            return
        ctx.aws.client("ecs", self.region).update_service(
            cluster=self.item.cluster, service=self.item.service, desiredCount=self.count,
            **({"forceNewDeployment": True} if redeploy else {}))

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
    iam_actions = ("ecs:DescribeServices", "ecs:UpdateService", "ssm:GetParameter")
    manual = Manual(
        procedure="""```bash
# Tasks read the parameters when they start: a new deployment when a parameter changed
# after the current deployment began. The parameter steps set $PARAMS_SET_AT; unset (they
# ran in another shell), deploy anew. Times as the CLI prints both: compared as text.
INFO=$(aws ecs describe-services --region {region} --cluster {cluster} --services {service} \\
  --query "services[0].[desiredCount, deployments[?status=='PRIMARY'] | [0].createdAt]" \\
  --output text)
read -r DESIRED DEPLOYED_AT <<<"$INFO"
if [ -z "${{PARAMS_SET_AT:-}}" ] || [[ "$PARAMS_SET_AT" > "$DEPLOYED_AT" ]]; then
  aws ecs update-service --region {region} --cluster {cluster} --service {service} \\
    --desired-count {count} --force-new-deployment --query service.desiredCount --output text
elif [ "$DESIRED" != "{count}" ]; then
  aws ecs update-service --region {region} --cluster {cluster} --service {service} \\
    --desired-count {count} --query service.desiredCount --output text
else
  echo "{cluster}/{service} in {region}: {count} tasks wanted, started after the parameters"
fi
aws ecs wait services-stable --region {region} --cluster {cluster} --services {service}
```""",
        verify=SCALE_MANUAL.verify,
        undo=SCALE_MANUAL.undo)
    summary = ("Scale the recovery region's service to its active count, with a new deployment "
               "when its tasks started before the parameters were switched, and wait until "
               "enough tasks of that deployment run (min_running_fraction of it).")
    why = ("After the parameters (tasks read them when they start), beside the promotion: the "
           "recovery region can carry traffic, configured for its own database, by the time "
           "that database takes writes.")

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

    def _stale(self, ctx: StepContext) -> list[str]:
        """The configured parameters the service's current tasks have not read: changed
        after its deployment began, or not yet at their target (switched later in this
        run)."""
        from botocore.exceptions import ClientError

        service = self.describe(ctx)
        deployments = (service or {}).get("deployments") or []
        began = next((d.get("createdAt") for d in deployments if d.get("status") == "PRIMARY"),
                     None)
        ssm = ctx.aws.client("ssm", self.region)
        stale = []
        for parameter in ctx.config.parameters:
            try:
                found = ssm.get_parameter(Name=parameter.name)["Parameter"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ParameterNotFound":
                    raise
                found = {}
            changed = found.get("LastModifiedDate")
            if found.get("Value") != parameter.side(self.direction.to) or (
                    began is not None and changed is not None and changed > began):
                stale.append(parameter.name)
        return stale

    def apply(self, ctx: StepContext) -> None:
        stale = self._stale(ctx)
        if stale:
            ctx.note(new_deployment_for=stale)
        self.set_desired(ctx, redeploy=bool(stale))
        needed = math.ceil(self.count * self.item.min_running_fraction)
        ctx.note(running_needed=needed)

        def running() -> bool:
            service = self.describe(ctx)
            primary = next((d for d in (service or {}).get("deployments") or []
                            if d.get("status") == "PRIMARY"), service)
            return bool(primary and primary.get("runningCount", 0) >= needed)

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
