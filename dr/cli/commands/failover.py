import click

from dr.cli.options import common, confirm, confirm_resume, load_config, run_flags
from dr.cli.runner import execute


@click.command("failover")
@click.option("--to", "to", type=click.Choice(["primary", "secondary"]), required=False,
              help="Region to move traffic and the writable database to.")
@click.option("--dry-run", is_flag=True, help="Record every mutating call instead of sending it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--resume", metavar="RUN_ID", default=None,
              help="Continue a run that was interrupted (from its journal).")
@click.option("--remote", is_flag=True,
              help="Run it as an ECS task in the recovery region (runner: in dr.yaml) and "
                   "follow its shared journal from here.")
@click.option("--remote-timeout", type=click.FloatRange(min=1), default=7200.0,
              show_default=True, help="Seconds --remote follows the run before it gives up "
                                      "following (the run goes on).")
@click.option("--run-id", metavar="RUN_ID", default=None, hidden=True,
              help="The id of the new run (the remote runner's task is given it).")
@run_flags
@common
@click.pass_obj
def command(obj: dict, to: str | None, dry_run: bool, yes: bool, resume: str | None,
            remote: bool, remote_timeout: float, run_id: str | None, incident_start,
            accept_data_loss: bool, force_unlock: str | None, config_path: str | None,
            report_dir, log_format: str | None) -> int:
    """Unplanned failover: move traffic and the writable database to the named region.

    Works when the other region's APIs do not answer: steps that need it are skipped and
    listed as follow-ups.
    """
    from dr.errors import UsageError
    from dr.runbook.run import Request

    if not to and not resume:
        raise UsageError("--to is required (primary or secondary), unless --resume is given")
    config = load_config(config_path, log_format, obj["debug"])
    if resume and not yes:
        confirm_resume(resume)
    elif not (yes or dry_run or resume):
        target = config.regions.of(to)
        confirm(f"Fail over {config.app}/{config.environment} to {to} ({target}): promote "
                f"{len(config.databases)} database(s) and move traffic?")
    if remote:
        if resume or dry_run or not to:
            raise UsageError("--remote starts a new run: give --to, not --resume or --dry-run")
        from dr.cli.remote import run_remotely

        return run_remotely(config, to, incident_start, accept_data_loss, remote_timeout)
    request = Request(command="failover", to=to or "secondary", dry_run=dry_run,
                      incident_start=incident_start, accept_data_loss=accept_data_loss,
                      resume=resume, force_unlock=force_unlock, report_dir=report_dir,
                      run_id=run_id)
    return execute(config, request)
