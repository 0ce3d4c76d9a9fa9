import click

from dr.cli.options import common, load_config


@click.command("heartbeat")
@click.option("--side", type=click.Choice(["primary", "secondary"]), required=True,
              help="Which side's database to write to: run one beside the app in each region; "
                   "only the writable side takes the rows, the other retries until promoted.")
@click.option("--database", "names", multiple=True, metavar="NAME",
              help="Only these databases[].name (default: every one with a heartbeat).")
@click.option("--interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Seconds between rows.")
@click.option("--duration", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds (default: run until interrupted).")
@common
@click.pass_obj
def command(obj: dict, side: str, names: tuple[str, ...], interval: float,
            duration: float | None, config_path: str | None, report_dir,
            log_format: str | None) -> int:
    """Write heartbeat rows to the databases, so a failover's RPO is measured from data:
    incident start minus the newest heartbeat on the promoted database."""
    from dr.heartbeat_runner import run_heartbeats

    config = load_config(config_path, log_format, obj["debug"])
    written = run_heartbeats(config, side, names, interval, duration)
    click.echo(" ".join(f"{name}: {rows} rows" for name, rows in written.items()))
    return 0
