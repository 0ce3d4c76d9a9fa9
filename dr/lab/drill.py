"""`dr lab drill`: bring the lab up, lose the primary region, run the real failover (the same
runbook as `dr failover`, its RTO clock started at the moment of the loss), then compare what
`dr` measured with what the lab knows independently, and tear everything down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from dr import config as drconfig
from dr import runbooks
from dr.aws.gateway import IMPATIENT
from dr.lab import timing
from dr.lab.world import Lab, LabOptions, environment
from dr.runbook import report as reports
from dr.runbook.journal import iso
from dr.runbook.run import Request, Result, Runner
from dr.runbook.waiting import PollPolicy

log = structlog.get_logger("dr.lab")

# Which modelled operation each step type waits for; steps not listed wait for nothing.
MODELLED = {
    "rds.promote-replica": timing.PROMOTE_READ_REPLICA,
    "route53.switch-records": timing.ROUTE53_CHANGE,
    "cloudfront.switch-origin": timing.CLOUDFRONT_DEPLOY,
    "ecs.scale-up": timing.ECS_TASK_START,
}
OBSERVER_PASSES = 3


@dataclass(frozen=True)
class DrillOutcome:
    result: Result
    comparison: dict[str, Any]


def critical_path_bound(runbook: Any, profile: timing.TimingProfile) -> float:
    """The earliest the recovery can end: the longest chain of modelled waits up to the
    steps that end the RTO clock (health checks, else the whole recovery path)."""
    modelled = {n.id: profile.duration(MODELLED[n.step.name]) if n.step.name in MODELLED
                else 0.0 for n in runbook.nodes}
    finish = runbook.finish_estimates(modelled)
    ends = [n.id for n in runbook.nodes if n.step.name == "health.verify"] or \
        [n.id for n in runbook.nodes if n.step.recovery_path]
    return max((finish[i] for i in ends), default=0.0)


def run(options: LabOptions, report_dir: Path | None) -> DrillOutcome:
    lab = Lab(options)
    try:
        lab.up()
        observer = _observer(lab)
        lab.warm_up()
        observer.start()
        incident = lab.lose_primary_region()
        observer.mark_outage(incident)
        config = drconfig.load(lab.config_path)
        with environment(lab.env):
            # Waits and the timeouts that detect the lost region run on the lab's clock.
            scale = max(options.timing.time_scale, 0.01)
            runner = Runner(config, planner=runbooks.phases, poll=PollPolicy().scaled(scale),
                            impatient=IMPATIENT.scaled(scale), state_dir=options.state_dir.parent)
            result = runner.run(Request(command="failover", to="secondary",
                                        incident_start=incident, report_dir=report_dir))
        observer.wait_recovered(timeout=10)
        observer.stop()
        if lab.writer is not None:
            lab.writer.stop()
        comparison = _compare(lab, config, result, observer, incident)
        result.report["lab"] = comparison
        reports.write(result.report, result.paths[0].parent)
        return DrillOutcome(result, comparison)
    finally:
        lab.down()


def _observer(lab: Lab) -> Any:
    from dr.lab.observer import Observer

    record = lab.config["dns"][0]
    route53 = lab.client("route53", "us-east-1")
    urls = {record["primary"]: lab.apps["primary"].health_url,
            record["secondary"]: lab.apps["secondary"].health_url}

    def dns_value() -> str | None:
        sets = route53.list_resource_record_sets(
            HostedZoneId=record["zone_id"], StartRecordName=record["name"],
            StartRecordType=record["type"], MaxItems="1")["ResourceRecordSets"]
        return sets[0]["ResourceRecords"][0]["Value"] if sets else None

    return Observer(dns_value, urls.get, required_passes=OBSERVER_PASSES)


def _compare(lab: Lab, config: Any, result: Result, observer: Any, incident: Any
             ) -> dict[str, Any]:
    report = result.report
    book = runbooks.failover(config, "secondary")
    observed = observer.rto_seconds
    comparison: dict[str, Any] = {
        "profile": lab.options.profile, "time_scale": lab.options.time_scale,
        "wan_delay_seconds": lab.options.wan_delay, "data_plane": lab.pair is not None,
        "note": lab.data_plane_note, "incident_at": iso(incident),
        "rto": {"dr_seconds": report["rto"]["measured_seconds"],
                "observer_seconds": round(observed, 3) if observed is not None else None,
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
