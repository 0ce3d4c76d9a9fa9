"""CloudFront: point the configured origin of each distribution at the recovery region.

Only the configured origins' DomainName changes; every other origin and setting is sent back
exactly as read. UpdateDistribution carries the ETag read with the config (IfMatch); when
someone else changed the distribution in between (PreconditionFailed), it reads and tries again.
"""

from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass
from typing import Any

from dr.config.model import Distribution
from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, StepType, register

CONTROL_PLANE_REGION = "us-east-1"
MAX_CONFLICTS = 5


@dataclass(frozen=True)
class DistributionOrigins:
    distribution_id: str
    origins: tuple[Distribution, ...]


def group_by_distribution(items: tuple[Distribution, ...]) -> list[DistributionOrigins]:
    grouped: dict[str, list[Distribution]] = {}
    for item in items:
        grouped.setdefault(item.distribution_id, []).append(item)
    return [DistributionOrigins(d, tuple(o)) for d, o in grouped.items()]


@register
class SwitchOrigin(StepType):
    name = "cloudfront.switch-origin"
    action = "switch"
    reads = "cdn"
    acts_in = "global"
    control_plane = "cloudfront"
    typical_seconds = 300.0
    timeout_seconds = 1800.0
    iam_actions = ("cloudfront:GetDistribution", "cloudfront:GetDistributionConfig",
                   "cloudfront:UpdateDistribution")
    summary = ("Change the configured origins' domain to the recovery region's (nothing else), "
               "with IfMatch on the ETag, and wait until the distribution is Deployed.")
    why = ("With the DNS switch, once the recovery region can serve. The wait for Deployed "
           "overlaps with the other steps.")
    manual = Manual(
        procedure="""```bash
# The configuration and its ETag; only the configured origins' DomainName changes (jq).
aws cloudfront get-distribution-config --region {region} --id {distribution_id} \\
  > distribution-{distribution_id}.json
if jq -e {unchanged} distribution-{distribution_id}.json > /dev/null; then
  echo "distribution {distribution_id}: {origin_ids} at {targets} already"
else
  jq {edit} distribution-{distribution_id}.json > config-{distribution_id}.json
  # PreconditionFailed: someone changed it since it was read; run this block again.
  aws cloudfront update-distribution --region {region} --id {distribution_id} \\
    --if-match "$(jq -r .ETag distribution-{distribution_id}.json)" \\
    --distribution-config file://config-{distribution_id}.json \\
    --query Distribution.Status --output text
fi
aws cloudfront wait distribution-deployed --region {region} --id {distribution_id}
```""",
        verify="""```bash
aws cloudfront get-distribution-config --region {region} --id {distribution_id} \\
  > distribution-{distribution_id}.json
STATUS=$(aws cloudfront get-distribution --region {region} --id {distribution_id} \\
  --query Distribution.Status --output text)
if jq -e {unchanged} distribution-{distribution_id}.json > /dev/null \\
    && [ "$STATUS" = Deployed ]; then
  echo "ok: distribution {distribution_id}: {origin_ids} at {targets}, Deployed"
else
  echo "NOT YET: distribution {distribution_id} is $STATUS; origins:" >&2
  jq -c '[.DistributionConfig.Origins.Items[] | [.Id, .DomainName]]' \\
    distribution-{distribution_id}.json >&2
  false
fi
```""",
        undo="""The same update with the {from_region} domains ({previous}).""")

    item: DistributionOrigins

    @property
    def key(self) -> str:
        return self.item.distribution_id

    @property
    def region(self) -> str:
        return CONTROL_PLANE_REGION

    def manual_values(self) -> dict[str, Any]:
        edit = ".DistributionConfig | " + " | ".join(
            f"(.Origins.Items[] | select(.Id == {json.dumps(o.origin_id)}) | .DomainName) = "
            f"{json.dumps(o.side(self.direction.to))}" for o in self.item.origins)
        return {**super().manual_values(), "distribution_id": self.item.distribution_id,
                "origin_ids": ", ".join(o.origin_id for o in self.item.origins),
                "targets": ", ".join(o.side(self.direction.to) for o in self.item.origins),
                "previous": ", ".join(o.side(self.direction.from_) for o in self.item.origins),
                "edit": shlex.quote(edit),
                "unchanged": shlex.quote(f".DistributionConfig == ({edit})")}

    def plan(self) -> str:
        moves = ", ".join(f"origin {o.origin_id} -> {o.side(self.direction.to)}"
                          for o in self.item.origins)
        return f"distribution {self.item.distribution_id}: {moves}"

    def _read(self, ctx: StepContext) -> tuple[dict[str, Any], str]:
        answer = ctx.aws.client("cloudfront", self.region).get_distribution_config(
            Id=self.item.distribution_id)
        return answer["DistributionConfig"], answer["ETag"]

    def _targets(self) -> dict[str, str]:
        return {o.origin_id: o.side(self.direction.to) for o in self.item.origins}

    def check(self, ctx: StepContext) -> list[Problem]:
        from botocore.exceptions import ClientError

        resource = f"cdn distribution {self.item.distribution_id}"
        try:
            config, _ = self._read(ctx)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NoSuchDistribution":
                return [Problem(resource, "distribution not found")]
            raise
        known = {o["Id"] for o in config["Origins"].get("Items", [])}
        return [Problem(resource, f"origin {o.origin_id!r} not found (has: "
                                  f"{', '.join(sorted(known))})")
                for o in self.item.origins if o.origin_id not in known]

    def _changed(self, config: dict[str, Any]) -> dict[str, Any] | None:
        updated = copy.deepcopy(config)
        changed = False
        for origin in updated["Origins"]["Items"]:
            target = self._targets().get(origin["Id"])
            if target is not None and origin["DomainName"] != target:
                origin["DomainName"] = target
                changed = True
        return updated if changed else None

    def apply(self, ctx: StepContext) -> None:
        from botocore.exceptions import ClientError

        cloudfront = ctx.aws.client("cloudfront", self.region)
        for attempt in range(1, MAX_CONFLICTS + 1):
            config, etag = self._read(ctx)
            updated = self._changed(config)
            if updated is None:
                ctx.note(already_done=attempt == 1)
                break
            try:
                cloudfront.update_distribution(Id=self.item.distribution_id, IfMatch=etag,
                                               DistributionConfig=updated)
                ctx.note(conflicts=attempt - 1)
                break
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "PreconditionFailed":
                    raise
                ctx.log.info("cloudfront.conflict", attempt=attempt)
        else:
            raise StepError(f"distribution {self.item.distribution_id} kept changing under us "
                            f"({MAX_CONFLICTS} PreconditionFailed)")
        ctx.wait(f"distribution {self.item.distribution_id} Deployed", lambda: cloudfront
                 .get_distribution(Id=self.item.distribution_id)["Distribution"]["Status"]
                 == "Deployed")

    def verify(self, ctx: StepContext) -> None:
        config, _ = self._read(ctx)
        if self._changed(config) is not None:
            raise VerifyFailed(f"distribution {self.item.distribution_id}: origins not at target")
