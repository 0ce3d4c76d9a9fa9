"""`dr status`: where everything points now, read-only and best effort per region.

Both regions get short timeouts: status is what an operator runs first in an outage, and a
region that does not answer is shown as unreachable rather than waited on.
"""

from __future__ import annotations

import time
from typing import Any

from dr.aws.gateway import CallLog, Gateway, SessionFactory, StepAws, default_session_factory
from dr.config.model import ROLES, Config
from dr.errors import RegionUnavailable
from dr.runbook.journal import iso, utcnow
from dr.steps import health, rds
from dr.steps.route53 import CONTROL_PLANE_REGION, fqdn

BUDGET_SECONDS = 60.0


def _side(value: str | None, pair: Any) -> str:
    if value is None:
        return "unknown"
    for role in ROLES:
        if value == pair.side(role):
            return role
    return "other"


def _safe(fn: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn()
    except RegionUnavailable as exc:
        return {"error": f"region not answering: {exc.reason}"}
    except (ClientError, BotoCoreError) as exc:
        return {"error": str(exc)}


def _database(aws: StepAws, config: Config, db: Any) -> dict[str, Any]:
    sides: dict[str, Any] = {}
    for role in ROLES:
        region = config.regions.of(role)

        def read(role: Any = role, region: str = region) -> dict[str, Any]:
            from botocore.exceptions import ClientError

            try:
                instance = aws.client("rds", region).describe_db_instances(
                    DBInstanceIdentifier=db.side(role))["DBInstances"][0]
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "DBInstanceNotFound":
                    return {"role": "missing"}
                raise
            source = rds.source_of(instance)
            fenced = rds.fenced_from(aws, region, instance) is not None
            info = {"role": "replica" if source else ("fenced" if fenced else "writer"),
                    "status": instance["DBInstanceStatus"], "source": source}
            if source:
                info["replica_lag_seconds"] = _lag(aws, region, db.side(role))
            return info

        sides[role] = _safe(read)
    return {"name": db.name, **sides}


def _lag(aws: StepAws, region: str, identifier: str) -> float | None:
    from datetime import timedelta

    now = utcnow()
    points = aws.client("cloudwatch", region).get_metric_statistics(
        Namespace="AWS/RDS", MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=1), Period=60,
        Statistics=["Maximum"])["Datapoints"]
    latest = max(points, key=lambda p: p["Timestamp"], default=None)
    return float(latest["Maximum"]) if latest else None


def gather(config: Config, session_factory: SessionFactory = default_session_factory
           ) -> dict[str, Any]:
    # Short timeouts everywhere, the global control planes too: status must never hang.
    gateway = Gateway(dry_run=True, patient_regions=frozenset(),
                      session_factory=session_factory, impatient_global=True)
    aws = gateway.for_step(time.monotonic() + BUDGET_SECONDS, CallLog())
    route53 = aws.client("route53", CONTROL_PLANE_REGION)
    cloudfront = aws.client("cloudfront", CONTROL_PLANE_REGION)

    def record(r: Any) -> dict[str, Any]:
        sets = route53.list_resource_record_sets(
            HostedZoneId=r.zone_id, StartRecordName=r.name, StartRecordType=r.type,
            MaxItems="1")["ResourceRecordSets"]
        match = [s for s in sets if fqdn(s["Name"]) == fqdn(r.name) and s["Type"] == r.type]
        value = match[0]["ResourceRecords"][0]["Value"] if match and \
            match[0].get("ResourceRecords") else None
        return {"value": value, "points_to": _side(value, r)}

    def origin(c: Any) -> dict[str, Any]:
        dist = cloudfront.get_distribution(Id=c.distribution_id)["Distribution"]
        found = [o["DomainName"] for o in dist["DistributionConfig"]["Origins"]["Items"]
                 if o["Id"] == c.origin_id]
        value = found[0] if found else None
        return {"domain": value, "points_to": _side(value, c), "status": dist["Status"]}

    def service(s: Any, role: Any) -> dict[str, Any]:
        found = aws.client("ecs", config.regions.of(role)).describe_services(
            cluster=s.cluster, services=[s.service])["services"]
        if not found:
            return {"error": "service not found"}
        return {"desired": found[0]["desiredCount"], "running": found[0]["runningCount"]}

    def parameter(p: Any, role: Any) -> dict[str, Any]:
        value = aws.client("ssm", config.regions.of(role)).get_parameter(
            Name=p.name)["Parameter"]["Value"]
        return {"value": value, "points_to": _side(value, p)}

    state: dict[str, Any] = {
        "app": config.app, "environment": config.environment, "at": iso(utcnow()),
        "regions": {"primary": config.regions.primary, "secondary": config.regions.secondary},
        "databases": [_database(aws, config, db) for db in config.databases],
        "dns": [{"name": r.name, **_safe(lambda r=r: record(r))} for r in config.dns],
        "cdn": [{"distribution_id": c.distribution_id, "origin_id": c.origin_id,
                 **_safe(lambda c=c: origin(c))} for c in config.cdn],
        "services": [{"service": f"{s.cluster}/{s.service}",
                      **{role: _safe(lambda s=s, role=role: service(s, role)) for role in ROLES}}
                     for s in config.services],
        "parameters": [{"name": p.name, **{role: _safe(lambda p=p, role=role: parameter(p, role))
                                           for role in ROLES}} for p in config.parameters],
        "health": [{"name": h.name, **{role: {"url": h.side(role), "answer": health.probe(
            h.side(role), h.timeout_seconds)} for role in ROLES}} for h in config.health],
        "unreachable_regions": gateway.down_regions,
    }
    state["active"] = _active(state)
    return state


def _active(state: dict[str, Any]) -> str:
    """The region traffic and writes go to, when everything agrees; `mixed` otherwise."""
    votes = [r.get("points_to") for r in state["dns"] + state["cdn"]]
    for db in state["databases"]:
        writers = [role for role in ROLES if db[role].get("role") == "writer"]
        votes += writers if len(writers) == 1 else ["mixed"]
    sides = set(votes) - {None}
    if len(sides) == 1 and sides <= set(ROLES):
        return str(next(iter(sides)))
    return "mixed" if sides else "unknown"
