import json

import click

from dr.cli.options import common, load_config


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@click.option("--watch", is_flag=True,
              help="Read again every --interval seconds until Ctrl-C: a board redrawn in "
                   "place on a terminal, each reading in full otherwise (one JSON document "
                   "a line with --json).")
@click.option("--interval", type=click.FloatRange(min=0.5), default=5.0, show_default=True,
              help="Seconds between readings with --watch.")
@common
@click.pass_obj
def command(obj: dict, as_json: bool, watch: bool, interval: float, config_path: str | None,
            report_dir, log_format: str | None) -> int:
    """Which region is active, each database's role and lag, where DNS and CDN point, desired
    and running counts, and the health of both regions. Read-only."""
    from dr import status
    from dr.cli.render import status_table

    config = load_config(config_path, log_format, obj["debug"])
    if watch:
        from dr.cli.watch import watch_status

        return watch_status(config, every=interval, as_json=as_json, gather=status.gather)
    state = status.gather(config)
    if as_json:
        click.echo(json.dumps(state, indent=2, default=str))
    else:
        status_table(state)
    return 0
