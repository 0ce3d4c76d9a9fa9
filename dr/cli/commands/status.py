import click

from dr.cli.options import common
from dr.errors import UsageError


@click.command("status", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@common
def command(args: tuple[str, ...], config_path: str | None, report_dir, log_format) -> int:
    """Not implemented yet."""
    raise UsageError("dr status: not implemented yet")
