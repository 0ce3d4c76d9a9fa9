"""Route 53: point the configured records of each hosted zone at the recovery region.

One step per hosted zone, one ChangeResourceRecordSets batch per zone (split only at the
API's limits), then wait for INSYNC. Records already at the target value cause no call.
The change is made on the control plane (us-east-1). A data-plane mode (failover records
driven by health checks, or ARC routing controls) would be another `Switch` behind the same
step, chosen by configuration; the step's graph position and journaling stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dr.config.model import DnsRecord
from dr.errors import VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, StepType, register

CONTROL_PLANE_REGION = "us-east-1"
# UPSERTs count twice against both limits (Route 53 API reference, ChangeResourceRecordSets).
MAX_RECORDS_PER_BATCH = 1000 // 2
MAX_VALUE_CHARS_PER_BATCH = 32000 // 2


@dataclass(frozen=True)
class ZoneRecords:
    zone_id: str
    records: tuple[DnsRecord, ...]


def fqdn(name: str) -> str:
    return name.rstrip(".").lower() + "."


def zone_id(raw: str) -> str:
    return raw.rsplit("/", 1)[-1]


def group_by_zone(records: tuple[DnsRecord, ...]) -> list[ZoneRecords]:
    zones: dict[str, list[DnsRecord]] = {}
    for record in records:
        zones.setdefault(zone_id(record.zone_id), []).append(record)
    return [ZoneRecords(z, tuple(r)) for z, r in zones.items()]


def batches(changes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    chars = 0
    for change in changes:
        size = sum(len(v["Value"]) for v in change["ResourceRecordSet"]["ResourceRecords"])
        if not out or len(out[-1]) >= MAX_RECORDS_PER_BATCH or chars + size > \
                MAX_VALUE_CHARS_PER_BATCH:
            out.append([])
            chars = 0
        out[-1].append(change)
        chars += size
    return out


@register
class SwitchRecords(StepType):
    name = "route53.switch-records"
    action = "switch"
    reads = "dns"
    acts_in = "global"
    control_plane = "route53"
    typical_seconds = 60.0
    timeout_seconds = 600.0
    iam_actions = ("route53:GetHostedZone", "route53:ListResourceRecordSets",
                   "route53:ChangeResourceRecordSets", "route53:GetChange")
    summary = ("UPSERT every configured record of the hosted zone that is not already at the "
               "recovery region's value, in one change batch, and wait for INSYNC.")
    why = ("After the recovery region has capacity (ECS scaled up) and its application points "
           "at the promoted database (parameters), so traffic arrives at a working stack.")
    manual = Manual(
        procedure="""```bash
cat > change-{zone_id}.json <<'JSON'
{{"Comment": "dr failover to {to_region}", "Changes": [
{changes}
]}}
JSON
# How many of the {count} records have their {to_region} value already?
AT_TARGET=$(aws route53 list-resource-record-sets --region {region} --hosted-zone-id {zone_id} \\
  --query "length(ResourceRecordSets[?{at_target}])" --output text)
if [ "$AT_TARGET" = "{count}" ]; then
  echo "zone {zone_id}: every record has its {to_region} value already"
else
  CHANGE_ID=$(aws route53 change-resource-record-sets --region {region} \\
    --hosted-zone-id {zone_id} --change-batch file://change-{zone_id}.json \\
    --query ChangeInfo.Id --output text)
  aws route53 wait resource-record-sets-changed --region {region} --id "$CHANGE_ID"
fi
```""",
        verify="""```bash
AT_TARGET=$(aws route53 list-resource-record-sets --region {region} --hosted-zone-id {zone_id} \\
  --query "length(ResourceRecordSets[?{at_target}])" --output text)
if [ "$AT_TARGET" = "{count}" ]; then
  echo "ok: zone {zone_id}: every record has its {to_region} value"
else
  echo "NOT YET: zone {zone_id}: $AT_TARGET of {count} records at their {to_region} value" >&2
  false
fi
```""",
        undo="""Run the same change batch with the {from_region} values (`dr failover --to`
the other region does exactly this).""")

    item: ZoneRecords

    @property
    def key(self) -> str:
        return self.item.zone_id

    def manual_values(self) -> dict[str, Any]:
        changes = ",\n".join(
            f'  {{"Action": "UPSERT", "ResourceRecordSet": {{"Name": "{r.name}", "Type": '
            f'"{r.type}", "TTL": {r.ttl}, "ResourceRecords": [{{"Value": '
            f'"{r.side(self.direction.to)}"}}]}}}}' for r in self.item.records)
        return {**super().manual_values(), "zone_id": self.item.zone_id, "changes": changes,
                "count": len(self.item.records), "at_target": self._at_target_query()}

    def _at_target_query(self) -> str:
        """A JMESPath filter, inside a double-quoted shell word, matching the record sets
        that are already what the change batch makes them."""
        def raw(text: object) -> str:  # a JMESPath raw string literal
            return "'" + str(text).replace("\\", "\\\\").replace("'", "\\'") + "'"

        matches = [f"(Name=={raw(fqdn(r.name))} && Type=={raw(r.type)} && "
                   f"to_string(TTL)=={raw(r.ttl)} && "
                   f"join(' ', ResourceRecords[].Value)=={raw(r.side(self.direction.to))})"
                   for r in self.item.records]
        query = " || ".join(matches)
        for special in ("\\", "$", "`", '"'):  # what a double-quoted shell word expands
            query = query.replace(special, "\\" + special)
        return query

    @property
    def region(self) -> str:
        return CONTROL_PLANE_REGION

    def plan(self) -> str:
        names = ", ".join(f"{r.name} -> {r.side(self.direction.to)}" for r in self.item.records)
        return f"zone {self.item.zone_id}: UPSERT {names}"

    def _current(self, ctx: StepContext) -> dict[tuple[str, str], dict[str, Any]]:
        sets = ctx.aws.client("route53", self.region).paginate(
            "list_resource_record_sets", "ResourceRecordSets", HostedZoneId=self.item.zone_id)
        return {(fqdn(s["Name"]), s["Type"]): s for s in sets}

    def check(self, ctx: StepContext) -> list[Problem]:
        from botocore.exceptions import ClientError

        resource = f"dns zone {self.item.zone_id}"
        try:
            zone = ctx.aws.client("route53", self.region).get_hosted_zone(Id=self.item.zone_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchHostedZone", "InvalidInput"):
                return [Problem(resource, "hosted zone not found")]
            raise
        domain = fqdn(zone["HostedZone"]["Name"])
        current = self._current(ctx)
        problems = []
        for record in self.item.records:
            name = fqdn(record.name)
            if name != domain and not name.endswith("." + domain):
                problems.append(Problem(f"dns record {record.name}",
                                        f"is not inside zone {domain} ({self.item.zone_id})"))
            existing = current.get((name, record.type))
            if existing and ("SetIdentifier" in existing or "AliasTarget" in existing):
                problems.append(Problem(f"dns record {record.name}",
                                        "has a routing policy or alias; dr switches simple "
                                        "records only"))
        return problems

    def _pending_changes(self, ctx: StepContext) -> tuple[list[dict[str, Any]], int]:
        """The UPSERTs still to send, and the longest TTL of the answers they replace: a
        client may keep such an answer that long after the change is INSYNC."""
        current = self._current(ctx)
        changes = []
        replaced_ttl = 0
        for record in self.item.records:
            target = record.side(self.direction.to)
            existing = current.get((fqdn(record.name), record.type))
            values = [v["Value"] for v in (existing or {}).get("ResourceRecords", [])]
            if existing and values == [target] and existing.get("TTL") == record.ttl:
                continue
            replaced_ttl = max(replaced_ttl, int((existing or {}).get("TTL", 0)))
            changes.append({"Action": "UPSERT", "ResourceRecordSet": {
                "Name": fqdn(record.name), "Type": record.type, "TTL": record.ttl,
                "ResourceRecords": [{"Value": target}]}})
        return changes, replaced_ttl

    def apply(self, ctx: StepContext) -> None:
        changes, replaced_ttl = self._pending_changes(ctx)
        if not changes:
            ctx.note(already_done=True)
            return
        route53 = ctx.aws.client("route53", self.region)
        change_ids = []
        for batch in batches(changes):
            answer = route53.change_resource_record_sets(
                HostedZoneId=self.item.zone_id,
                ChangeBatch={"Comment": f"dr {ctx.run.command} {ctx.run.run_id}",
                             "Changes": batch})
            change_ids.append(answer.get("ChangeInfo", {}).get("Id"))
        ctx.note(changed_records=len(changes), change_batches=len(change_ids),
                 replaced_ttl_seconds=replaced_ttl)
        for change_id in filter(None, change_ids):
            ctx.wait(f"Route 53 change {change_id} INSYNC",
                     lambda c=change_id: route53.get_change(Id=c)["ChangeInfo"]["Status"]
                     == "INSYNC")

    def verify(self, ctx: StepContext) -> None:
        left, _ = self._pending_changes(ctx)
        if left:
            names = ", ".join(c["ResourceRecordSet"]["Name"] for c in left)
            raise VerifyFailed(f"zone {self.item.zone_id}: not at target: {names}")
