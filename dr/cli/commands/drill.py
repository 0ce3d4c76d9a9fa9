import click

from dr.cli.options import common, load_config, run_flags
from dr.cli.runner import execute


@click.command("drill")
@click.option("--to", "to", type=click.Choice(["primary", "secondary"]), default="secondary",
              show_default=True, help="Region to rehearse a failover to.")
@click.option("--dry-run", is_flag=True, help="Record every mutating call instead of sending it.")
@click.option("--no-failback", is_flag=True, help="Stop after the failover and its checks.")
@click.option("--resume", metavar="RUN_ID", default=None, help="Continue an interrupted drill.")
@run_flags
@common
@click.pass_obj
def command(obj: dict, to: str, dry_run: bool, no_failback: bool, resume: str | None,
            incident_start, accept_data_loss: bool, force_unlock: str | None,
            config_path: str | None, report_dir, log_format: str | None) -> int:
    """Rehearsal: readiness, failover, verification, RTO/RPO measurement, then reprotect and
    failback unless --no-failback. One report covers both directions."""
    from dr.runbook.run import Request

    config = load_config(config_path, log_format, obj["debug"])
    return execute(config, Request(command="drill", to=to, dry_run=dry_run,
                                   no_failback=no_failback, incident_start=incident_start,
                                   accept_data_loss=accept_data_loss, resume=resume,
                                   force_unlock=force_unlock, report_dir=report_dir))
