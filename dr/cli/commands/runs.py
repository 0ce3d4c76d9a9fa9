import json

import click

from dr.cli.options import common, load_config


@click.command("runs")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@common
@click.pass_obj
def command(obj: dict, as_json: bool, config_path: str | None, report_dir,
            log_format: str | None) -> int:
    """The runs of this estate (this machine's, and the shared journal's with `journal:`),
    each with how it ended, or that it can be resumed."""
    from pathlib import Path

    from dr.runs import all_runs

    config = load_config(config_path, log_format, obj["debug"])
    runs = all_runs(config, Path(".dr"))
    if as_json:
        click.echo(json.dumps(runs, indent=2))
        return 0
    for run in runs:
        click.echo(f"{run['run_id']}  {run['command']:<9} to {run['to']:<9} "
                   f"{run['started_at']}  {run['outcome']:<40} {run['where']}")
    if not runs:
        click.echo("no runs", err=True)
    return 0
