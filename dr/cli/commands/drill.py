import click

from dr.cli.options import (
    common,
    confirm_on_terminal,
    confirm_resume,
    load_config,
    refuse_production,
    run_flags,
)
from dr.cli.runner import execute


@click.command("drill")
@click.option("--to", "to", type=click.Choice(["primary", "secondary"]), default="secondary",
              show_default=True, help="Region to rehearse a failover to.")
@click.option("--dry-run", is_flag=True, help="Record every mutating call instead of sending it.")
@click.option("--no-failback", is_flag=True, help="Stop after the failover and its checks.")
@click.option("--resume", metavar="RUN_ID", default=None, help="Continue an interrupted drill.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--allow-prod", is_flag=True,
              help="Allow a drill in an environment named prod or production.")
@run_flags
@common
@click.pass_obj
def command(obj: dict, to: str, dry_run: bool, no_failback: bool, resume: str | None,
            yes: bool, allow_prod: bool, incident_start, accept_data_loss: bool,
            force_unlock: str | None, config_path: str | None, report_dir,
            log_format: str | None) -> int:
    """Rehearsal: readiness, failover, verification, RTO/RPO measurement, then reprotect and
    failback unless --no-failback. One report covers both directions."""
    from dr.runbook.run import Request

    config = load_config(config_path, log_format, obj["debug"])
    if not dry_run:
        refuse_production(config, allow_prod, "a drill")
        if resume:
            if not yes:
                confirm_resume(resume)
        else:
            confirm_on_terminal(f"Drill {config.app}/{config.environment}: fail over to {to}"
                                f"{'' if no_failback else ' and back'}?", yes)
    return execute(config, Request(command="drill", to=to, dry_run=dry_run,
                                   no_failback=no_failback, incident_start=incident_start,
                                   accept_data_loss=accept_data_loss, resume=resume,
                                   force_unlock=force_unlock, report_dir=report_dir))
