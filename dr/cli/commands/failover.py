import click

from dr.cli.options import common, load_config, run_flags
from dr.cli.runner import execute


@click.command("failover")
@click.option("--to", "to", type=click.Choice(["primary", "secondary"]), required=False,
              help="Region to move traffic and the writable database to.")
@click.option("--dry-run", is_flag=True, help="Record every mutating call instead of sending it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--resume", metavar="RUN_ID", default=None,
              help="Continue a run that was interrupted (from its journal).")
@run_flags
@common
@click.pass_obj
def command(obj: dict, to: str | None, dry_run: bool, yes: bool, resume: str | None,
            incident_start, accept_data_loss: bool, force_unlock: str | None,
            config_path: str | None, report_dir, log_format: str | None) -> int:
    """Unplanned failover: move traffic and the writable database to the named region.

    Works when the other region's APIs do not answer: steps that need it are skipped and
    listed as follow-ups.
    """
    from dr.errors import UsageError
    from dr.runbook.run import Request

    if not to and not resume:
        raise UsageError("--to is required (primary or secondary), unless --resume is given")
    config = load_config(config_path, log_format, obj["debug"])
    if not (yes or dry_run or resume):
        target = config.regions.of(to)
        click.confirm(f"Fail over {config.app}/{config.environment} to {to} ({target}): promote "
                      f"{len(config.databases)} database(s) and move traffic?", abort=True)
    request = Request(command="failover", to=to or "secondary", dry_run=dry_run,
                      incident_start=incident_start, accept_data_loss=accept_data_loss,
                      resume=resume, force_unlock=force_unlock, report_dir=report_dir)
    return execute(config, request)
