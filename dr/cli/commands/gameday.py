import click

from dr.cli.options import common, load_config


@click.command("gameday")
@click.option("--to", "to", type=click.Choice(["primary", "secondary"]), default="secondary",
              show_default=True, help="Region the drill fails over to (the recovery region).")
@click.option("--allow-prod", is_flag=True,
              help="Allow a game day in an environment named prod or production.")
@click.option("--no-failback", is_flag=True, help="Stop after the failover and its checks.")
@common
@click.pass_obj
def command(obj: dict, to: str, allow_prod: bool, no_failback: bool, config_path: str | None,
            report_dir, log_format: str | None) -> int:
    """The scheduled game day: a drill stopped by gameday.stop_alarms, whose report goes to
    S3 (gameday.report_bucket), CloudWatch metrics (namespace DR) and SNS."""
    from dr.cli.render import run_summary
    from dr.gameday import run_gameday

    config = load_config(config_path, log_format, obj["debug"])
    result = run_gameday(config, allow_prod=allow_prod, report_dir=report_dir, to=to,
                         no_failback=no_failback)
    run_summary(result.report, result.paths)
    if result.report.get("stopped_by"):
        click.echo(f"stopped by {result.report['stopped_by']}")
    published = result.report["published"]
    click.echo(f"published: {published['s3'] or 'no report in S3'}, "
               f"{published['metrics']} metrics, SNS {published['sns'] or 'not sent'}")
    for error in published["errors"]:
        click.echo(f"  NOT PUBLISHED  {error}")
    return result.exit_code
