import json

import click

from dr.cli.options import common, load_config


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@common
@click.pass_obj
def command(obj: dict, as_json: bool, config_path: str | None, report_dir,
            log_format: str | None) -> int:
    """Which region is active, each database's role and lag, where DNS and CDN point, desired
    and running counts, and the health of both regions. Read-only."""
    from dr import status
    from dr.cli.render import status_table

    config = load_config(config_path, log_format, obj["debug"])
    state = status.gather(config)
    if as_json:
        click.echo(json.dumps(state, indent=2, default=str))
    else:
        status_table(state)
    return 0
