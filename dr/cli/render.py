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
    for phase in report.get("phases", []):
        click.echo(f"  phase {phase['name']}: RTO {_seconds(phase['rto']['measured_seconds'])}"
                   f", RPO {_seconds(phase['rpo']['measured_seconds'])} "
                   f"({phase['rpo']['method']})")
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

    def cell(value: dict[str, Any], *keys: str) -> str:
        if "error" in value:
            return f"error: {value['error']}"
        return " ".join(f"{value.get(k)}" for k in keys if value.get(k) is not None)

    rows: list[tuple[str, str, str]] = []
    for db in state["databases"]:
        rows.append((f"db {db['name']}", cell(db["primary"], "role", "status"),
                     cell(db["secondary"], "role", "status", "replica_lag_seconds")))
    for svc in state["services"]:
        rows.append((f"ecs {svc['service']}", cell(svc["primary"], "desired", "running"),
                     cell(svc["secondary"], "desired", "running")))
    for param in state["parameters"]:
        rows.append((f"ssm {param['name']}", cell(param["primary"], "points_to"),
                     cell(param["secondary"], "points_to")))
    for check in state["health"]:
        rows.append((f"health {check['name']}", str(check["primary"]["answer"]),
                     str(check["secondary"]["answer"])))
    width = max((len(r[0]) for r in rows), default=10)
    click.echo(f"  {'':<{width}}  {'primary':<28}  secondary")
    for name, primary, secondary in rows:
        click.echo(f"  {name:<{width}}  {primary:<28}  {secondary}")
    for record in state["dns"]:
        click.echo(f"  dns {record['name']} -> {cell(record, 'value', 'points_to')}")
    for cdn in state["cdn"]:
        click.echo(f"  cdn {cdn['distribution_id']}/{cdn['origin_id']} -> "
                   f"{cell(cdn, 'domain', 'points_to', 'status')}")


def lab_comparison(lab: dict[str, Any]) -> None:
    rto, rpo = lab["rto"], lab["rpo"]
    if lab.get("note"):
        click.echo(f"lab: {lab['note']}")
    click.echo(f"lab ({lab['profile']}, time scale {lab['time_scale']}, WAN delay "
               f"{lab['wan_delay_seconds']}s):")
    click.echo(f"  RTO  dr {_seconds(rto['dr_seconds'])}   observer "
               f"{_seconds(rto['observer_seconds'])}   bound "
               f"{_seconds(rto['critical_path_bound_seconds'])}   target "
               f"{rto['target_seconds']}s")
    true_loss = rpo.get("true_loss_seconds")
    lost = (f"   true loss {_seconds(true_loss)} ({rpo['lost_commits']} of "
            f"{rpo['acknowledged_commits']} acknowledged commits)" if true_loss is not None
            else "")
    click.echo(f"  RPO  dr {_seconds(rpo['dr_seconds'])} ({rpo['dr_method']}){lost}   "
               f"target {rpo['target_seconds']}s")
