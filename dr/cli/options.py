"""Options every command takes, and the small parsing helpers the commands share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from dr.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def common(fn: F) -> F:
    """--config, --report-dir and --log-format, as the contract says every command takes."""
    fn = click.option("--log-format", type=click.Choice(["console", "json"]), default=None,
                      help="Log lines for people (console) or machines (json); "
                           "default: console on a terminal, json otherwise.")(fn)
    fn = click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
                      default=None, help="Where report.json, report.md and junit.xml go "
                                         "(default .dr/runs/RUN_ID/).")(fn)
    fn = click.option("--config", "config_path", type=click.Path(dir_okay=False),
                      default=None, help="dr.yaml to use (default ./dr.yaml or $DR_CONFIG).")(fn)
    return fn


def run_flags(fn: F) -> F:
    """Flags of failover and drill."""
    fn = click.option("--force-unlock", metavar="RUN_ID", default=None,
                      help="Take the lock held by this (dead) run.")(fn)
    fn = click.option("--accept-data-loss", is_flag=True,
                      help="Proceed although replica lag is above the RPO target.")(fn)
    fn = click.option("--incident-start", callback=_iso8601, default=None, metavar="ISO8601",
                      help="When the incident began: the RTO clock starts here.")(fn)
    return fn


def _iso8601(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    from dr.runbook.journal import parse_iso

    try:
        return parse_iso(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time "
                                 "(e.g. 2026-11-24T21:40:00Z)") from None


def load_config(path: str | None, log_format: str | None, debug: bool) -> Any:
    from dr import config, logs

    logs.configure(log_format, debug=debug)
    if path == "":
        raise UsageError("--config: empty path (is the variable you passed unset?)")
    return config.load(config.default_path() if path is None else path)
