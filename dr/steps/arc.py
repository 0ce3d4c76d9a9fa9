"""ARC routing controls: move the records that are failover pairs driven by routing controls
(contract 1.1, `dns[].routing_control`) through the cluster's data plane.

No call goes to the Route 53 control plane (homed in us-east-1): the recovery region's
controls are turned On and the other side's Off in one `UpdateRoutingControlStates`, through
the cluster's regional endpoints tried in turn with short timeouts, the region being left
last. AWS: "ARC ensures that at least three out of the five Regional cluster endpoints are
always accessible ... try each endpoint in rotation"
(https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from dr.config.model import ClusterEndpoint, Config, DnsRecord
from dr.errors import EndpointUnavailable, StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, StepType, register

SERVICE = "route53-recovery-cluster"


@dataclass(frozen=True)
class ControlledTraffic:
    """The records routing controls move, and the cluster endpoints they are set through."""

    records: tuple[DnsRecord, ...]
    endpoints: tuple[ClusterEndpoint, ...]


def controlled(config: Config) -> ControlledTraffic | None:
    """The records that routing controls move (the others go through Route 53), if any."""
    records = tuple(r for r in config.dns if r.routing_control)
    return ControlledTraffic(records, config.routing_control_cluster) if records else None


@register
class SetRoutingControls(StepType):
    name = "arc.set-routing-controls"
    action = "set-routing-controls"
    reads = "dns"
    acts_in = "to"
    typical_seconds = 5.0
    timeout_seconds = 120.0
    iam_actions = ("route53-recovery-cluster:GetRoutingControlState",
                   "route53-recovery-cluster:UpdateRoutingControlStates")
    summary = ("Turn the recovery region's routing controls On and the other side's Off, in "
               "one call to the ARC cluster's data plane.")
    why = ("Where traffic moves (beside the DNS switch): a failover record whose health "
           "check follows a routing control moves with no call to the Route 53 control "
           "plane, so losing us-east-1 does not stop it. A CloudFront origin that is such a "
           "record's name follows it with no CloudFront change.")
    manual = Manual(
        procedure="""```bash
# The cluster's endpoints, the region being left last; each tried with short timeouts.
cat > controls.json <<'JSON'
{entries_json}
JSON
for endpoint in {endpoints_sh}; do
  region=${{endpoint%% *}}; url=${{endpoint#* }}
  if AWS_MAX_ATTEMPTS=1 aws route53-recovery-cluster update-routing-control-states \\
      --region "$region" --endpoint-url "$url" \\
      --cli-connect-timeout 3 --cli-read-timeout 5 \\
      --update-routing-control-state-entries file://controls.json; then
    echo "set through $url"; break
  fi
  echo "no answer from $url: trying the next endpoint" >&2
done
```
Setting a control to the state it has already is harmless: repeat freely.""",
        verify="""```bash
for endpoint in {endpoints_sh}; do
  region=${{endpoint%% *}}; url=${{endpoint#* }}
  if AWS_MAX_ATTEMPTS=1 aws route53-recovery-cluster list-routing-controls \\
      --region "$region" --endpoint-url "$url" --cli-connect-timeout 3 --cli-read-timeout 5 \\
      --query 'RoutingControls[].[RoutingControlArn,RoutingControlState]' --output text; then
    break
  fi
done
# expect On: {on_list}; Off: {off_list}
```""",
        undo="""Run the procedure with the states swapped (`dr failover --to {from_role}` does
exactly this).""")

    item: ControlledTraffic

    @property
    def key(self) -> str:
        return "routing-controls"

    def desired(self) -> dict[str, str]:
        to, other = self.direction.to, self.direction.from_
        states = {}
        for record in self.item.records:
            assert record.routing_control is not None
            states[record.routing_control.side(to)] = "On"
            states[record.routing_control.side(other)] = "Off"
        return states

    def manual_values(self) -> dict[str, Any]:
        desired = self.desired()
        entries = [{"RoutingControlArn": arn, "RoutingControlState": state}
                   for arn, state in desired.items()]
        endpoints = " ".join(shlex.quote(f"{e.region} {e.url}") for e in self._endpoints())
        return {**super().manual_values(), "entries_json": json.dumps(entries, indent=2),
                "endpoints_sh": endpoints or "<CLUSTER_ENDPOINTS>",
                "on_list": " ".join(a for a, s in desired.items() if s == "On"),
                "off_list": " ".join(a for a, s in desired.items() if s == "Off"),
                "from_role": self.direction.from_}

    def plan(self) -> str:
        names = ", ".join(r.name for r in self.item.records)
        return (f"routing controls of {names}: {self.direction.to_region} On, "
                f"{self.direction.from_region} Off (ARC data plane, no Route 53 change)")

    def _endpoints(self) -> list[ClusterEndpoint]:
        """Config order, the region being left last (its endpoint likely lost with it)."""
        return sorted(self.item.endpoints, key=lambda e: e.region == self.direction.from_region)

    def through_endpoints(self, ctx: StepContext, method: str, **params: Any) -> dict[str, Any]:
        """`method` through the first endpoint that answers; the others' silence is noted."""
        silent = []
        for endpoint in self._endpoints():
            try:
                return ctx.aws.call_endpoint(SERVICE, endpoint.region, endpoint.url, method,
                                             **params)
            except EndpointUnavailable as exc:
                silent.append(f"{endpoint.region}: {exc.reason}")
        ctx.note(silent_endpoints=silent)
        raise StepError("no endpoint of the routing control cluster answered ("
                        + "; ".join(silent) + ")")

    def states(self, ctx: StepContext) -> dict[str, str]:
        return {arn: str(self.through_endpoints(ctx, "get_routing_control_state",
                                                RoutingControlArn=arn)["RoutingControlState"])
                for arn in self.desired()}

    def check(self, ctx: StepContext) -> list[Problem]:
        from botocore.exceptions import ClientError

        try:
            ctx.note(routing_controls_before=self.states(ctx))
        except ClientError as exc:
            return [Problem("dns[].routing_control", f"{exc.response['Error']['Code']}: "
                            f"{exc.response['Error'].get('Message', '')}")]
        except StepError as exc:
            return [Problem("routing_control_cluster", str(exc))]
        return []

    def apply(self, ctx: StepContext) -> None:
        desired = self.desired()
        if not ctx.dry_run and self.states(ctx) == desired:
            ctx.note(already_done=True)
            return
        self.through_endpoints(ctx, "update_routing_control_states",
                               UpdateRoutingControlStateEntries=[
                                   {"RoutingControlArn": arn, "RoutingControlState": state}
                                   for arn, state in desired.items()])
        # A client keeps the answer the name servers gave before the change for its TTL.
        ctx.note(routing_controls=desired,
                 replaced_ttl_seconds=max(r.ttl for r in self.item.records))

    def verify(self, ctx: StepContext) -> None:
        found = self.states(ctx)
        wrong = {arn: state for arn, state in found.items() if self.desired()[arn] != state}
        if wrong:
            raise VerifyFailed(f"routing controls not as set: {wrong}")
