"""`dr lab drill`: bring the lab up, lose the primary region, run the real failover (the same
runbook as `dr failover`, its RTO clock started at the moment of the loss), then compare what
`dr` measured with what the lab knows independently, and tear everything down.

The lab's observer is a user (dr/lab/observer.py): it reaches the service by its public DNS
name and through the CloudFront edge, with its own resolver. The comparison names both of
`dr`'s figures, the recovery region's own health and the user's path, beside the
observer's and the critical-path bound (dr/lab/bound.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from dr import config as drconfig
from dr import runbooks
from dr.aws.gateway import IMPATIENT
from dr.lab import traffic
from dr.lab.bound import critical_path_bound
from dr.lab.observer import Observer
from dr.lab.world import REGION_KEY, Lab, LabOptions, environment
from dr.runbook import report as reports
from dr.runbook.journal import iso, parse_iso
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy

log = structlog.get_logger("dr.lab")

OBSERVER_PASSES = 3


@dataclass(frozen=True)
class DrillOutcome:
    result: Result
    comparison: dict[str, Any]


def run(options: LabOptions, report_dir: Path | None, *, planned: bool = False,
        with_global: bool = False) -> DrillOutcome:
    """`with_global`: the primary region is lost with the global control planes it homes
    (us-east-1 only: a UsageError before the lab starts otherwise)."""
    if with_global:
        traffic.require_global_home(options.primary_region)
    lab = Lab(options)
    try:
        lab.up()
        if planned:  # the game day: dr drill with the primary region alive (planned.py)
            from dr.lab import planned as planned_drill

            return DrillOutcome(*planned_drill.run(lab, options, report_dir))
        observer = observer_for(lab)
        lab.warm_up()
        observer.start()
        incident = lab.lose_region("primary", with_global=with_global)
        observer.mark_outage(incident)
        config = drconfig.load(lab.config_path)
        with environment(lab.env):
            # Waits and the timeouts that detect the lost region run on the lab's clock. The
            # lock is this lab's: another lab on the host is another estate.
            scale = max(options.timing.time_scale, 0.01)
            runner = Runner(config, planner=runbooks.phases, poll=PollPolicy().scaled(scale),
                            impatient=IMPATIENT.scaled(scale), state_dir=options.state_dir.parent,
                            lock_dir=options.state_dir / "locks")
            result = runner.run(Request(command="failover", to="secondary",
                                        incident_start=incident, report_dir=report_dir))
        observer.wait_served(timeout=10)
        observer.stop()
        if lab.writer is not None:
            lab.writer.stop()
        comparison = _compare(lab, config, result, observer, incident)
        comparison["with_global"] = with_global
        result.report["lab"] = comparison
        reports.write(result.report, result.paths[0].parent)
        return DrillOutcome(result, comparison)
    finally:
        lab.down()


def observer_for(lab: Lab) -> Observer:
    """A user of the lab's service: every public URL, through the lab's DNS."""
    assert lab.edge is not None
    return Observer(lab.public_urls, lab.edge.nameserver, lab.options.secondary_region,
                    region_key=REGION_KEY, required_passes=OBSERVER_PASSES)


def traffic_in_effect(steps: list[dict[str, Any]], record_ttl: int) -> datetime | None:
    """When the last traffic change was in effect for every client, from the lab's side:
    each DNS step's end plus the records' TTL where it changed one (a client keeps the
    answer it has that long: so too after routing controls change what the name servers
    answer), each CDN step's end."""
    ends = []
    for step in steps:
        finished = parse_iso(step["finished_at"]) if step.get("finished_at") else None
        if finished is None or step["status"] != "succeeded":
            continue
        if step["type"] == "route53.switch-records":
            changed = bool(step["detail"].get("changed_records"))
            ends.append(finished + timedelta(seconds=record_ttl if changed else 0))
        elif step["type"] == "arc.set-routing-controls":
            changed = not step["detail"].get("already_done")
            ends.append(finished + timedelta(seconds=record_ttl if changed else 0))
        elif step["type"] == "cloudfront.switch-origin":
            ends.append(finished)
    return max(ends, default=None)


def _compare(lab: Lab, config: Any, result: Result, observer: Observer, incident: datetime
             ) -> dict[str, Any]:
    report = result.report
    book = runbooks.failover(config, "secondary")
    observed = observer.rto_seconds
    in_effect = traffic_in_effect(report["steps"], lab.record_ttl)
    comparison: dict[str, Any] = {
        "profile": lab.options.profile, "time_scale": lab.options.time_scale,
        "regions": lab.options.regions, "traffic": lab.options.traffic,
        "wan_delay_seconds": lab.options.wan_delay, "data_plane": lab.pair is not None,
        "note": lab.data_plane_note, "incident_at": iso(incident),
        "record_ttl_seconds": lab.record_ttl, "public_urls": lab.public_urls,
        "rto": {"dr_seconds": report["rto"]["measured_seconds"],
                "dr_method": report["rto"].get("method"),
                "dr_recovery_region_seconds": report["rto"].get("recovery_region_seconds"),
                "dr_traffic_settled_seconds": report["rto"].get("traffic_settled_seconds"),
                "observer_seconds": observed,
                "observer_paths_seconds": observer.paths_seconds,
                "traffic_in_effect_seconds": round((in_effect - incident).total_seconds(), 3)
                if in_effect else None,
                "target_seconds": report["rto"]["target_seconds"],
                "critical_path_bound_seconds": round(
                    critical_path_bound(book, lab.options.timing), 3)},
        "rpo": {"dr_seconds": report["rpo"]["measured_seconds"],
                "dr_method": report["rpo"]["method"],
                "target_seconds": report["rpo"]["target_seconds"]},
    }
    if lab.writer is not None and lab.pair is not None:
        loss = lab.writer.true_loss(lab.pair.standby_dsn, incident)
        comparison["rpo"].update(true_loss_seconds=round(loss.window_seconds, 3),
                                 acknowledged_commits=loss.acknowledged,
                                 lost_commits=loss.missing)
    return comparison
