from pathlib import Path

import click

from dr.cli.options import common


@click.group("config")
@common
def command(config_path: str | None, report_dir: Path | None, log_format: str | None) -> None:
    """Work with dr.yaml (--config, --report-dir and --log-format are accepted, not read)."""


@command.command("render")
@click.option("--primary", "primary", type=click.Path(exists=True, dir_okay=False,
                                                      path_type=Path), required=True,
              help="`terraform output -json` of the primary stack.")
@click.option("--secondary", "secondary", type=click.Path(exists=True, dir_okay=False,
                                                          path_type=Path), required=True,
              help="`terraform output -json` of the secondary stack.")
@click.option("--rto-seconds", type=click.FloatRange(min=0, min_open=True), default=900,
              show_default=True)
@click.option("--rpo-seconds", type=click.FloatRange(min=0), default=60, show_default=True)
def render(primary: Path, secondary: Path, rto_seconds: float, rpo_seconds: float) -> int:
    """Print a dr.yaml built from the two stacks' dr_inventory outputs (validated)."""
    from dr.config.render import inventory
    from dr.config.render import render as build

    click.echo(build(inventory(primary), inventory(secondary), rto_seconds=rto_seconds,
                     rpo_seconds=rpo_seconds, source=f"{primary} + {secondary}"), nl=False)
    return 0
