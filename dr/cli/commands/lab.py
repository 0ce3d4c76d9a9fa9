from pathlib import Path

import click

from dr.cli.options import common

LAB_DIR = Path(".dr") / "lab"


@click.group("lab")
def command() -> None:
    """The embedded local lab: an emulated two-region estate with a real PostgreSQL pair,
    on this machine only (127.0.0.1). `dr lab drill` runs a whole region-loss drill."""


@command.command("drill")
@click.option("--profile", type=click.Choice(["realistic", "instant"]), default="realistic",
              show_default=True, help="Modelled AWS timings, or none.")
@click.option("--time-scale", type=click.FloatRange(min=0.001), default=0.05,
              show_default=True, help="Multiplier on the realistic timings.")
@click.option("--wan-delay", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds the cross-region replication link delays bytes.")
@click.option("--rpo-seconds", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="RPO target of the lab's dr.yaml.")
@click.option("--no-data-plane", is_flag=True, help="No PostgreSQL: RPO from replica lag.")
@common
@click.pass_obj
def drill(obj: dict, profile: str, time_scale: float, wan_delay: float, rpo_seconds: float,
          no_data_plane: bool, config_path: str | None, report_dir: Path | None,
          log_format: str | None) -> int:
    """Bring the lab up, lose the primary region, fail over with the real runbook, compare
    dr's RTO/RPO with the lab's own measurements, tear down."""
    from dr import logs
    from dr.cli.render import lab_comparison, run_summary
    from dr.lab import drill as lab_drill
    from dr.lab.world import LabOptions

    logs.configure(log_format, debug=obj["debug"])
    options = LabOptions(profile=profile, time_scale=time_scale, wan_delay=wan_delay,
                         data_plane=not no_data_plane, rpo_seconds=rpo_seconds,
                         state_dir=LAB_DIR / "drill")
    outcome = lab_drill.run(options, report_dir)
    run_summary(outcome.result.report, outcome.result.paths)
    lab_comparison(outcome.comparison)
    return outcome.result.exit_code
