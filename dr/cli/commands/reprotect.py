import click

from dr.cli.options import common, confirm_on_terminal, confirm_resume, load_config
from dr.cli.runner import execute


@click.command("reprotect")
@click.option("--dry-run", is_flag=True, help="Record every mutating call instead of sending it.")
@click.option("--resume", metavar="RUN_ID", default=None, help="Continue an interrupted run.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--force-unlock", metavar="RUN_ID", default=None,
              help="Take the lock held by this (dead) run.")
@common
@click.pass_obj
def command(obj: dict, dry_run: bool, resume: str | None, yes: bool, force_unlock: str | None,
            config_path: str | None, report_dir, log_format: str | None) -> int:
    """After a failover: retire the fenced old primaries and re-create them as cross-region
    replicas of the new primaries, so that a failback is possible."""
    from dr.runbook.run import Request

    config = load_config(config_path, log_format, obj["debug"])
    if resume and not yes:
        confirm_resume(resume)
    elif not dry_run:
        confirm_on_terminal(f"Re-protect {config.app}/{config.environment}: retire the fenced "
                            "old primaries and re-create them as replicas?", yes)
    return execute(config, Request(command="reprotect", to="secondary", dry_run=dry_run,
                                   resume=resume, force_unlock=force_unlock,
                                   report_dir=report_dir))
