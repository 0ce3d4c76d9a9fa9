from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from dr.cli.options import common
from dr.lab.options import TRAFFIC_MODES, LabOptions

LAB_DIR = Path(".dr") / "lab"


def estate_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The lab estate's regions and how its traffic moves (`dr lab drill`, `dr lab up`)."""
    command = click.option(
        "--traffic", type=click.Choice(TRAFFIC_MODES), default=LabOptions.traffic,
        show_default=True,
        help="How a failover moves users: Route 53 record changes, or ARC routing controls "
             "(failover records, the lab's routing control cluster).")(command)
    command = click.option("--secondary-region", default=LabOptions.secondary_region,
                           show_default=True,
                           help="The lab's standby region.")(command)
    return click.option("--primary-region", default=LabOptions.primary_region,
                        show_default=True,
                        help="The lab's primary region (us-east-1 to try --with-global).")(
        command)


@click.group("lab")
@common
@click.pass_obj
def command(obj: dict, config_path: str | None, report_dir: Path | None,
            log_format: str | None) -> None:
    """The embedded local lab: an emulated two-region estate with a real PostgreSQL pair,
    on this machine only (127.0.0.1). `dr lab drill` runs a whole region-loss drill.

    The lab writes its own dr.yaml (under .dr/lab/), so --config is not read here; --report-dir
    and --log-format apply to `dr lab drill`."""
    obj.update(report_dir=report_dir, log_format=log_format)


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
@click.option("--planned", is_flag=True,
              help="The game day instead of a region loss: dr drill (failover, reprotect, "
                   "failback) with the primary alive and the writer committing throughout.")
@click.option("--db-clock-offset", type=float, default=0.0, show_default=True,
              help="Seconds the database servers' clock is set off by.")
@estate_options
@click.option("--with-global", is_flag=True,
              help="Lose the global control planes (Route 53, CloudFront, IAM, STS) with the "
                   "primary region; it must be us-east-1, where they are homed.")
@common
@click.pass_obj
def drill(obj: dict, profile: str, time_scale: float, wan_delay: float, rpo_seconds: float,
          no_data_plane: bool, planned: bool, db_clock_offset: float, primary_region: str,
          secondary_region: str, traffic: str, with_global: bool, config_path: str | None,
          report_dir: Path | None, log_format: str | None) -> int:
    """Bring the lab up, lose the primary region, fail over with the real runbook, compare
    dr's RTO/RPO with the lab's own measurements, tear down. With --planned: a planned drill
    (failover, reprotect, failback) that must lose nothing."""
    from dr import logs
    from dr.cli.render import lab_comparison, run_summary
    from dr.errors import UsageError
    from dr.lab.fidelity.compat import require_written_for

    if planned and with_global:
        raise UsageError("--with-global loses the primary region; --planned keeps it alive")
    if planned:
        from dr.lab.postgres import unavailable_reason

        missing = "--no-data-plane given" if no_data_plane else unavailable_reason()
        if missing:
            raise UsageError("--planned counts the writer's commits on the real data plane, "
                             f"which cannot run here: {missing}")
    require_written_for("moto")
    from dr.lab import drill as lab_drill

    logs.configure(log_format or obj.get("log_format"), debug=obj["debug"])
    report_dir = report_dir or obj.get("report_dir")
    options = LabOptions(profile=profile, time_scale=time_scale, wan_delay=wan_delay,
                         data_plane=not no_data_plane, rpo_seconds=rpo_seconds,
                         state_dir=LAB_DIR / "drill", db_clock_offset=db_clock_offset,
                         primary_region=primary_region, secondary_region=secondary_region,
                         traffic=traffic)
    outcome = lab_drill.run(options, report_dir, planned=planned, with_global=with_global)
    run_summary(outcome.result.report, outcome.result.paths)
    lab_comparison(outcome.comparison)
    return outcome.result.exit_code


@command.command("up")
@click.option("--profile", type=click.Choice(["realistic", "instant"]), default="realistic",
              show_default=True)
@click.option("--time-scale", type=click.FloatRange(min=0.001), default=0.05, show_default=True)
@click.option("--wan-delay", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--no-data-plane", is_flag=True)
@estate_options
def up(profile: str, time_scale: float, wan_delay: float, no_data_plane: bool,
       primary_region: str, secondary_region: str, traffic: str) -> int:
    """Start the lab in the background; print the exports and the path of its dr.yaml."""
    from dr.lab import control
    from dr.lab.fidelity.compat import require_written_for

    require_written_for("moto")
    # Checked here, where a mistake is one line, not in the background process's log.
    LabOptions(primary_region=primary_region, secondary_region=secondary_region,
               traffic=traffic)
    args = ["--profile", profile, "--time-scale", str(time_scale), "--wan-delay", str(wan_delay),
            "--primary-region", primary_region, "--secondary-region", secondary_region,
            "--traffic", traffic]
    state = control.up(LAB_DIR, args + (["--no-data-plane"] if no_data_plane else []))
    for name, value in state["env"].items():
        click.echo(f"export {name}={value}")
    click.echo(f"export DR_CONFIG={state['config']}")
    click.echo(f"# lab running (pid {state['pid']}); its dr.yaml: {state['config']}", err=True)
    return 0


@command.command("outage")
@click.argument("role", type=click.Choice(["primary", "secondary"]))
@click.option("--with-global", is_flag=True,
              help="Lose the global control planes homed in the region too (Route 53, "
                   "CloudFront, IAM, STS: every request signed for it); refused unless the "
                   "region is us-east-1.")
def outage(role: str, with_global: bool) -> int:
    """Lose a region: its regional APIs hang (its routing control cluster endpoint too), its
    database dies, its app stops."""
    from dr.lab import control

    state = control.call(LAB_DIR, "POST",
                         f"/outage/{role}" + ("?with_global=1" if with_global else ""))
    region = state["regions"][role]
    also = (", with the global control planes it homes (Route 53, CloudFront, IAM, STS)"
            if region in state["lost_with_global"] else "")
    click.echo(f"{role} region ({region}) lost at {state['lost'][role]}{also}")
    return 0


@command.command("status")
def status() -> int:
    """What the background lab is running and which regions it has lost."""
    import json

    from dr.lab import control

    click.echo(json.dumps(control.call(LAB_DIR, "GET", "/"), indent=2))
    return 0


@command.command("down")
def down() -> int:
    """Stop every process the lab started; fail if a port is left listening."""
    from dr.errors import DrError
    from dr.lab import control

    left = control.down(LAB_DIR)
    if left:
        raise DrError(f"lab stopped but ports still listen: {left}")
    click.echo("lab stopped; no lab process or port left")
    return 0
