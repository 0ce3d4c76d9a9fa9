"""The `dr` command line: a lazy group of thin commands and one error boundary."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from dr import __version__

COMMANDS = {
    "plan": "readiness checks and the ordered step graph; changes nothing",
    "failover": "move traffic and the writable database to a region",
    "drill": "rehearse: failover, verify, measure, then fail back",
    "reprotect": "after a failover, re-create the replicas in the old region",
    "status": "active region, replica lag, where DNS and CDN point, health",
    "runs": "the runs of this estate, here and in the shared journal, and how each ended",
    "docs": "write the runbook documents generated from the step definitions",
    "iam-policy": "print the least-privilege IAM policy the steps need",
    "gameday": "the scheduled game-day drill, published to S3, CloudWatch and SNS",
    "heartbeat": "write heartbeat rows to the active database, for measured RPO",
    "config": "render a dr.yaml from the Terraform stacks' outputs",
    "lab": "the embedded local lab: a whole region-loss drill on one machine",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs, so `dr --help` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"dr.cli.commands.{name.replace('-', '_')}")
        return module.command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(list(COMMANDS.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dr")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug events.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Disaster-recovery and failover toolkit for the timeline app on AWS.

    Exit codes: 0 done and targets met, 1 a step failed, 2 usage or configuration error,
    3 not ready, 4 a target was missed, 5 another run holds the lock.
    """
    ctx.obj = {"debug": debug}


def main(argv: list[str] | None = None) -> int:
    from dr.redact import ScrubbedStream

    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ScrubbedStream(sys.stdout), ScrubbedStream(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str] | None) -> int:
    from dr.errors import DrError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="dr", standalone_mode=False)
    except click.exceptions.Abort:
        # click's name for a KeyboardInterrupt that reached it; a run in progress handles
        # Ctrl-C itself (dr/runbook/interrupt.py), and a prompt's refusal is NotConfirmed.
        click.echo("dr: interrupted; a run that had started can be continued with "
                   "--resume RUN_ID (see .dr/runs/)", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except DrError as exc:
        if debug:
            raise
        click.echo(f"dr: {exc}", err=True)
        if exc.hint:
            click.echo(f"hint: {exc.hint}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("dr: interrupted; resume with --resume RUN_ID (see .dr/runs/)", err=True)
        return 130
    return result if isinstance(result, int) else 0


def run() -> Any:
    sys.exit(main())
