"""`dr failover --remote`: start the run in the recovery region's ECS task, follow it here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from dr.config.model import Config, Role


def run_remotely(config: Config, to: Role, incident_start: datetime | None,
                 accept_data_loss: bool, timeout: float) -> int:
    from dr.remote import Remote, command_line
    from dr.runbook.journal import iso, utcnow
    from dr.runbook.run import new_run_id

    extra = ([f"--incident-start={iso(incident_start)}"] if incident_start else []) + (
        ["--accept-data-loss"] if accept_data_loss else [])
    run_id = new_run_id(utcnow())
    remote = Remote(config, to)
    task = remote.start(run_id, extra)
    click.echo(f"run {run_id} started in the recovery region's task {task}; following its "
               f"journal (by hand: {command_line(config, to, run_id, extra)})", err=True)

    def show(record: dict[str, Any]) -> None:
        what = record.get("step") or record.get("phase") or record.get("outcome") or ""
        status = record.get("status", "")
        click.echo(f"{record['at']}  {record['event']:<17} {what} {status}".rstrip())

    return remote.follow(run_id, task, show, timeout)
