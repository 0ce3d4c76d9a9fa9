"""RTO and RPO from timestamps and data, each saying how it was measured."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from dr.runbook.executor import StepRecord, moment
from dr.runbook.steptype import REGISTRY


def rto(records: Sequence[StepRecord], clock_start: datetime, target: float, *,
        dry_run: bool, estimate: float) -> dict[str, Any]:
    """When users are served again (contract 1.1).

    Where a health check names a public URL, the recovery ends when that URL is served by
    the recovery region (`public_url`), and never before the traffic changes are in effect
    for every client: a changed Route 53 record's INSYNC plus the TTL of the answer it
    replaced (routing controls: their change plus that TTL), a CloudFront distribution
    `Deployed`. Other checks end it when the recovery
    region's own URL passes (`health_checks`); without checks, the last step on the recovery
    path (`last_step`). `recovery_region_seconds` (the region's own checks) and
    `traffic_settled_seconds` are reported beside it."""
    if dry_run:
        return {"target_seconds": target, "measured_seconds": None, "met": None,
                "method": "estimate", "estimated_seconds": round(estimate, 1),
                "started_at": _iso(clock_start), "ended_at": None}
    passed = {r.id: moment(r.detail.get("healthy_at")) for r in records
              if r.type in ("health.verify", "health.user-path") and r.status == "succeeded"}
    public = {i: at for i, at in passed.items() if i.endswith(".user-path")}
    regional = {i: at for i, at in passed.items() if i.endswith(".verify")}
    # A check with a public URL is ended by its user's path; the others by their region's.
    covered = {i.removesuffix(".user-path") for i in public}
    ends = list(public.values()) + [at for i, at in regional.items()
                                    if i.removesuffix(".verify") not in covered]
    path = [moment(r.finished_at) for r in records
            if r.type in REGISTRY and REGISTRY[r.type].recovery_path and r.status == "succeeded"]
    settled = traffic_settled(records)
    failed = any(r.status == "failed" or r.detail.get("not_started") for r in records)
    if public and settled is not None:
        ends.append(settled)
    ends = ends or path
    if failed or not ends or any(e is None for e in ends):
        return {"target_seconds": target, "measured_seconds": None, "met": None,
                "method": "not_recovered", "started_at": _iso(clock_start), "ended_at": None}
    end = max(e for e in ends if e is not None)
    seconds = round((end - clock_start).total_seconds(), 3)
    method = "public_url" if public else ("health_checks" if regional else "last_step")
    found: dict[str, Any] = {
        "target_seconds": target, "measured_seconds": seconds, "met": seconds <= target,
        "method": method, "started_at": _iso(clock_start), "ended_at": _iso(end)}
    if regional and all(at is not None for at in regional.values()):
        found["recovery_region_seconds"] = _since(clock_start, max(regional.values()))
    if settled is not None:
        found["traffic_settled_seconds"] = _since(clock_start, settled)
    return found


def traffic_settled(records: Sequence[StepRecord]) -> datetime | None:
    """When the last traffic change was in effect for every client: a Route 53 step's end
    (INSYNC) plus the TTL of the answers it replaced, so too routing controls' (the name
    servers answer by them at once), a CloudFront step's end (Deployed)."""
    moments = []
    for r in records:
        finished = moment(r.finished_at)
        if r.status != "succeeded" or finished is None:
            continue
        if r.type == "route53.switch-records":
            cached = r.detail.get("replaced_ttl_seconds", 0) if r.detail.get(
                "changed_records") else 0
            moments.append(finished + timedelta(seconds=cached))
        elif r.type == "arc.set-routing-controls":
            cached = r.detail.get("replaced_ttl_seconds", 0) if r.detail.get(
                "routing_controls") else 0
            moments.append(finished + timedelta(seconds=cached))
        elif r.type == "cloudfront.switch-origin":
            moments.append(finished)
    return max(moments, default=None)


def _since(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds(), 3)


def rpo(records: Sequence[StepRecord], target: float, incident: datetime | None
        ) -> dict[str, Any]:
    """Per database, the best measure available: a switchover's proof that nothing was lost
    (0: the replica held the fenced old primary's last commit before it was promoted), else
    the heartbeat (reference time minus the newest heartbeat on the promoted database: the
    incident start, else the fence, else the promotion's start), else the replica's recent
    maximum ReplicaLag. The run's RPO is the worst database's; if any database could not be
    measured, none."""
    fence_at = max((moment(r.finished_at) for r in records
                    if r.type == "rds.fence-primary" and r.status == "succeeded"
                    and not r.detail.get("already_done")), default=None)
    proofs = {r.id.removesuffix(".fence"): r.detail["switchover"] for r in records
              if r.type == "rds.fence-primary" and r.status == "succeeded"
              and r.detail.get("switchover")}
    per_db: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.type != "rds.promote-replica":
            continue
        newest = moment(r.detail.get("newest_heartbeat"))
        lag = r.detail.get("replica_lag_seconds")
        proof = proofs.get(r.id.removesuffix(".promote"))
        if proof is not None:
            per_db[r.id] = {"method": "switchover", "seconds": 0.0, **proof}
        elif newest is not None:
            reference = incident or fence_at or moment(r.started_at)
            assert reference is not None
            per_db[r.id] = {"method": "heartbeat", "seconds": round(
                max(0.0, (reference - newest).total_seconds()), 3),
                "reference": "incident_start" if incident else
                ("fenced_at" if fence_at else "promotion_started_at"),
                "reference_at": _iso(reference), "newest_heartbeat": _iso(newest)}
            offset = r.detail.get("database_clock_offset_seconds")
            if offset is not None:
                # Measured on the heartbeat writer's clock; the database's may differ.
                per_db[r.id]["database_clock_offset_seconds"] = offset
        elif lag is not None:
            per_db[r.id] = {"method": "replica_lag", "seconds": float(lag)}
        else:
            per_db[r.id] = {"method": "none", "seconds": None}
    if not per_db or any(d["method"] == "none" for d in per_db.values()):
        return {"target_seconds": target, "measured_seconds": None, "method": "none",
                "met": None, "databases": per_db}
    methods = {d["method"] for d in per_db.values()}
    worst = max(d["seconds"] for d in per_db.values())
    found = {"target_seconds": target, "measured_seconds": worst,
             "method": _overall(methods), "met": worst <= target, "databases": per_db}
    if methods == {"switchover"}:
        # The weakest proof of any database: the WAL position, or ReplicaLag at 0.
        found["proven_by"] = max((d["proven_by"] for d in per_db.values()),
                                 key=("wal_position", "replica_lag").index, default=None)
    return found


def _overall(methods: set[str]) -> str:
    """The run's method: a switchover only if every database's was; otherwise the measure
    of those that were not (the heartbeat only if all of them had one)."""
    if methods == {"switchover"}:
        return "switchover"
    measured = methods - {"switchover"}
    return "heartbeat" if measured == {"heartbeat"} else "replica_lag"


def _iso(value: datetime) -> str:
    from dr.runbook.journal import iso

    return iso(value) or ""
