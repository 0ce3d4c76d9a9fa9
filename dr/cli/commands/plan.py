import click

from dr.cli.options import common, load_config
from dr.cli.runner import execute


@click.command("plan")
@click.option("--to", "to", type=click.Choice(["primary", "secondary"]), default="secondary",
              show_default=True, help="Region to plan a failover to.")
@common
@click.pass_obj
def command(obj: dict, to: str, config_path: str | None, report_dir, log_format: str | None
            ) -> int:
    """Readiness checks and the ordered step graph with each step's intended change.

    The same as `dr failover --to TO --dry-run`: no mutating AWS call is made.
    """
    from dr.runbook.run import Request

    config = load_config(config_path, log_format, obj["debug"])
    return execute(config, Request(command="plan", to=to, dry_run=True, report_dir=report_dir))
