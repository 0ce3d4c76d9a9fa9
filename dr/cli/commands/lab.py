from pathlib import Path

import click

from dr.cli.options import common

LAB_DIR = Path(".dr") / "lab"


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

    logs.configure(log_format or obj.get("log_format"), debug=obj["debug"])
    report_dir = report_dir or obj.get("report_dir")
    options = LabOptions(profile=profile, time_scale=time_scale, wan_delay=wan_delay,
                         data_plane=not no_data_plane, rpo_seconds=rpo_seconds,
                         state_dir=LAB_DIR / "drill")
    outcome = lab_drill.run(options, report_dir)
    run_summary(outcome.result.report, outcome.result.paths)
    lab_comparison(outcome.comparison)
    return outcome.result.exit_code


@command.command("up")
@click.option("--profile", type=click.Choice(["realistic", "instant"]), default="realistic",
              show_default=True)
@click.option("--time-scale", type=click.FloatRange(min=0.001), default=0.05, show_default=True)
@click.option("--wan-delay", type=click.FloatRange(min=0), default=2.0, show_default=True)
@click.option("--no-data-plane", is_flag=True)
def up(profile: str, time_scale: float, wan_delay: float, no_data_plane: bool) -> int:
    """Start the lab in the background; print the exports and the path of its dr.yaml."""
    from dr.lab import control

    args = ["--profile", profile, "--time-scale", str(time_scale), "--wan-delay", str(wan_delay)]
    state = control.up(LAB_DIR, args + (["--no-data-plane"] if no_data_plane else []))
    for name, value in state["env"].items():
        click.echo(f"export {name}={value}")
    click.echo(f"export DR_CONFIG={state['config']}")
    click.echo(f"# lab running (pid {state['pid']}); its dr.yaml: {state['config']}", err=True)
    return 0


@command.command("outage")
@click.argument("role", type=click.Choice(["primary", "secondary"]))
def outage(role: str) -> int:
    """Lose a region: its regional APIs hang, its database dies, its app stops."""
    from dr.lab import control

    state = control.call(LAB_DIR, "POST", f"/outage/{role}")
    click.echo(f"{role} region ({state['regions'][role]}) lost at {state['lost'][role]}")
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
