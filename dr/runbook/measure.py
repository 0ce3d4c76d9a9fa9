"""RTO and RPO from timestamps and data, each saying how it was measured."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dr.runbook.executor import StepRecord, moment
from dr.runbook.steptype import REGISTRY


def rto(records: Sequence[StepRecord], clock_start: datetime, target: float, *,
        dry_run: bool, estimate: float) -> dict[str, Any]:
    """The recovery ends when every health check of the recovery region passes; without
    health checks, when the last step on the recovery path has verified."""
    if dry_run:
        return {"target_seconds": target, "measured_seconds": None, "met": None,
                "method": "estimate", "estimated_seconds": round(estimate, 1),
                "started_at": _iso(clock_start), "ended_at": None}
    health = [moment(r.detail.get("healthy_at")) for r in records
              if r.type == "health.verify" and r.status == "succeeded"]
    path = [moment(r.finished_at) for r in records
            if r.type in REGISTRY and REGISTRY[r.type].recovery_path and r.status == "succeeded"]
    failed = any(r.status == "failed" or r.detail.get("not_started") for r in records)
    ends = health or path
    if failed or not ends or any(e is None for e in ends):
        return {"target_seconds": target, "measured_seconds": None, "met": None,
                "method": "not_recovered", "started_at": _iso(clock_start), "ended_at": None}
    end = max(e for e in ends if e is not None)
    seconds = round((end - clock_start).total_seconds(), 3)
    return {"target_seconds": target, "measured_seconds": seconds, "met": seconds <= target,
            "method": "health_checks" if health else "last_step",
            "started_at": _iso(clock_start), "ended_at": _iso(end)}


def rpo(records: Sequence[StepRecord], target: float, incident: datetime | None
        ) -> dict[str, Any]:
    """Per database, the best measure available: heartbeat (reference time minus the newest
    heartbeat on the promoted database) or the replica's recent maximum ReplicaLag.
    The run's RPO is the worst database's; if any database could not be measured, none."""
    fence_at = max((moment(r.finished_at) for r in records
                    if r.type == "rds.fence-primary" and r.status == "succeeded"
                    and not r.detail.get("already_done")), default=None)
    per_db: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.type != "rds.promote-replica":
            continue
        newest = moment(r.detail.get("newest_heartbeat"))
        lag = r.detail.get("replica_lag_seconds")
        if newest is not None:
            reference = incident or fence_at or moment(r.started_at)
            assert reference is not None
            per_db[r.id] = {"method": "heartbeat", "seconds": round(
                max(0.0, (reference - newest).total_seconds()), 3),
                "reference": "incident_start" if incident else
                ("fenced_at" if fence_at else "promotion_started_at")}
        elif lag is not None:
            per_db[r.id] = {"method": "replica_lag", "seconds": float(lag)}
        else:
            per_db[r.id] = {"method": "none", "seconds": None}
    if not per_db or any(d["method"] == "none" for d in per_db.values()):
        return {"target_seconds": target, "measured_seconds": None, "method": "none",
                "met": None, "databases": per_db}
    methods = {d["method"] for d in per_db.values()}
    worst = max(d["seconds"] for d in per_db.values())
    return {"target_seconds": target, "measured_seconds": worst,
            "method": "heartbeat" if methods == {"heartbeat"} else "replica_lag",
            "met": worst <= target, "databases": per_db}


def _iso(value: datetime) -> str:
    from dr.runbook.journal import iso

    return iso(value) or ""
