"""How a run's result is shown to a person (stdout) — the report files hold the rest."""

from __future__ import annotations

from typing import Any

import click


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}s"


def run_summary(report: dict[str, Any], paths: list[Any]) -> None:
    rto, rpo = report["rto"], report["rpo"]
    click.echo(f"dr {report['command']} {report['from_region']} -> {report['to_region']}: "
               f"{report['outcome']}  (run {report['run_id']})")
    for problem in report.get("problems", []):
        click.echo(f"  NOT READY  {problem}")
    for lost in report.get("data_lost", []):
        click.echo(f"  DATA LOST  {lost}")
    width = max((len(s["id"]) for s in report["steps"]), default=10)
    for step in report["steps"]:
        detail = step["detail"]
        note = step.get("error") or detail.get("reason") or detail.get("plan", "")
        if detail.get("already_done"):
            note = "already done" + (f"; {note}" if note else "")
        click.echo(f"  {step['status']:<9} {step['id']:<{width}}  "
                   f"{_seconds(step['seconds']):>8}  {note}")
        for intention in detail.get("intentions", []):
            click.echo(f"  {'':<9} {'':<{width}}  {'':>8}  would call "
                       f"{intention['service']}:{intention['operation']} "
                       f"({intention['region']})")
    if rto.get("method") == "estimate":
        click.echo(f"RTO estimate {_seconds(rto.get('estimated_seconds'))} "
                   f"(target {rto['target_seconds']}s, critical path of typical durations)")
    else:
        click.echo(f"RTO {_seconds(rto['measured_seconds'])} (target {rto['target_seconds']}s, "
                   f"{rto.get('method')})   RPO {_seconds(rpo['measured_seconds'])} "
                   f"(target {rpo['target_seconds']}s, {rpo['method']})")
        if rto.get("method") == "public_url":
            click.echo(f"  RTO by figure: user's path {_seconds(rto['measured_seconds'])}, "
                       f"recovery region {_seconds(rto.get('recovery_region_seconds'))}, "
                       f"traffic settled {_seconds(rto.get('traffic_settled_seconds'))}")
    for phase in report.get("phases", []):
        click.echo(f"  phase {phase['name']}: RTO {_seconds(phase['rto']['measured_seconds'])}"
                   f", RPO {_seconds(phase['rpo']['measured_seconds'])} "
                   f"({phase['rpo']['method']})")
    if report["dry_run"]:
        for plane, steps in report.get("control_planes", {}).items():
            click.echo(f"needs the {plane} control plane: {', '.join(steps)}")
    for follow_up in report.get("follow_ups", []):
        click.echo(f"follow-up: {follow_up}")
    if paths:
        click.echo(f"report: {paths[0]}")


def status_table(state: dict[str, Any]) -> None:
    regions = state["regions"]
    click.echo(f"{state['app']}/{state['environment']}: active {state['active']}  "
               f"(primary {regions['primary']}, secondary {regions['secondary']})")
    for region, reason in state["unreachable_regions"].items():
        click.echo(f"  UNREACHABLE {region}: {reason}")
    rows = status_rows(state)
    width = max((len(r[0]) for r in rows), default=10)
    click.echo(f"  {'':<{width}}  {'primary':<28}  secondary")
    for name, primary, secondary in rows:
        click.echo(f"  {name:<{width}}  {primary:<28}  {secondary}")
    for name, points_to in traffic_rows(state):
        click.echo(f"  {name} -> {points_to}")


def _cell(value: dict[str, Any], *keys: str) -> str:
    if "error" in value:
        return f"error: {value['error']}"
    return " ".join(f"{value.get(k)}" for k in keys if value.get(k) is not None)


def status_rows(state: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What `dr status` found per side: (thing, primary, secondary); the table and the
    `--watch` board both show these."""
    rows: list[tuple[str, str, str]] = []
    for db in state["databases"]:
        rows.append((f"db {db['name']}", _cell(db["primary"], "role", "status"),
                     _cell(db["secondary"], "role", "status", "replica_lag_seconds")))
    for svc in state["services"]:
        rows.append((f"ecs {svc['service']}", _cell(svc["primary"], "desired", "running"),
                     _cell(svc["secondary"], "desired", "running")))
    for param in state["parameters"]:
        rows.append((f"ssm {param['name']}", _cell(param["primary"], "points_to"),
                     _cell(param["secondary"], "points_to")))
    for check in state["health"]:
        rows.append((f"health {check['name']}", str(check["primary"]["answer"]),
                     str(check["secondary"]["answer"])))
    return rows


def traffic_rows(state: dict[str, Any]) -> list[tuple[str, str]]:
    """Where each DNS record and CDN origin sends users: (thing, side and value)."""
    return ([(f"dns {r['name']}", _cell(r, "value", "points_to")) for r in state["dns"]]
            + [(f"cdn {c['distribution_id']}/{c['origin_id']}",
                _cell(c, "domain", "points_to", "status")) for c in state["cdn"]])


def lab_comparison(lab: dict[str, Any]) -> None:
    rto, rpo = lab["rto"], lab["rpo"]
    if lab.get("note"):
        click.echo(f"lab: {lab['note']}")
    regions = lab.get("regions") or {}
    estate = (f", {regions['primary']} to {regions['secondary']} by {lab.get('traffic')}"
              if regions else "")
    estate += ", global control planes lost too" if lab.get("with_global") else ""
    click.echo(f"lab ({lab['profile']}, time scale {lab['time_scale']}, WAN delay "
               f"{lab['wan_delay_seconds']}s{estate}):")
    click.echo(f"  RTO, user's path       dr {_seconds(rto['dr_seconds'])} "
               f"({rto.get('dr_method')})   observer {_seconds(rto['observer_seconds'])}   "
               f"bound {_seconds(rto['critical_path_bound_seconds'])}   target "
               f"{rto['target_seconds']}s")
    click.echo(f"  RTO, recovery region   dr {_seconds(rto.get('dr_recovery_region_seconds'))}"
               f"   traffic in effect {_seconds(rto.get('traffic_in_effect_seconds'))}")
    true_loss = rpo.get("true_loss_seconds")
    lost = (f"   true loss {_seconds(true_loss)} ({rpo['lost_commits']} of "
            f"{rpo['acknowledged_commits']} acknowledged commits)" if true_loss is not None
            else "")
    click.echo(f"  RPO  dr {_seconds(rpo['dr_seconds'])} ({rpo['dr_method']}){lost}   "
               f"target {rpo['target_seconds']}s")
    for phase in lab.get("phases", []):
        counted = phase["rpo"]
        switched = phase.get("switchover") or {}
        catch_up = (f"   switchover: fence in effect "
                    f"{_seconds(switched.get('fence_in_effect_seconds'))}, caught up "
                    f"{_seconds(switched.get('caught_up_seconds'))} "
                    f"({switched.get('proven_by')})" if switched else "")
        click.echo(f"  {phase['phase']:<9} {counted['acknowledged_commits']} commits "
                   f"acknowledged ({counted.get('acknowledged_in_phase')} in it), "
                   f"{counted['lost_commits']} lost on the writer after it "
                   f"({phase['writer_after']}){catch_up}")
    if "final_replica_lag_seconds" in lab:
        click.echo(f"  replica lag at the end {_seconds(lab['final_replica_lag_seconds'])}")
