"""Options every command takes, and the small parsing helpers the commands share."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from dr.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def common(fn: F) -> F:
    """--config, --report-dir and --log-format, as the contract says every command takes."""
    fn = click.option("--log-format", type=click.Choice(["console", "json"]), default=None,
                      help="Log lines for people (console) or machines (json); "
                           "default: a live board of the steps on a terminal (runs), "
                           "console lines on a terminal (other commands), json "
                           "otherwise.")(fn)
    fn = click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
                      default=None, help="Where report.json, report.md, junit.xml and "
                                         "report.html go (default .dr/runs/RUN_ID/).")(fn)
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


_DATE_AND_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def _iso8601(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """A moment with its time zone, not in the future (contract 1.1, "Times"): a time
    without a zone is not silently UTC, nor a bare date midnight."""
    if value is None:
        return None
    example = "(e.g. 2026-11-24T21:40:00Z or 2026-11-24T22:40:00+01:00)"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time {example}") from None
    if not _DATE_AND_TIME.match(value):
        raise click.BadParameter(f"{value!r} has no time of day {example}")
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no time zone (Z or an offset) {example}")
    if moment > datetime.now(UTC):
        raise click.BadParameter(f"{value!r} is later than now: the incident cannot have "
                                 "started in the future")
    return moment


def confirm(question: str) -> None:
    """Ask on stderr (stdout carries results only); anything but yes, an end of input or
    Ctrl-C at the prompt included, is `NotConfirmed`: nothing has been changed yet."""
    from dr.errors import NotConfirmed

    try:
        confirmed = click.confirm(question, err=True)
    except click.exceptions.Abort:
        raise NotConfirmed() from None
    if not confirmed:
        raise NotConfirmed()


def confirm_resume(run_id: str) -> None:
    """Ask before continuing a run; a run that had finished only answers, so no question."""
    from dr.runbook import resume
    from dr.runbook.journal import RUNS_DIR, replay

    resume.check_run_id(run_id)
    past = replay(RUNS_DIR / run_id / "journal.jsonl")
    if past.outcome is None:
        started = past.started
        confirm(f"Resume run {run_id} ({started['command']} to {started['to']}, started "
                f"{started['at']}, {len(past.finished)} step(s) finished)?")


def confirm_on_terminal(question: str, yes: bool) -> None:
    """Ask when a person is at a terminal, unless --yes; scheduled runs go on unasked."""
    if not yes and sys.stdin.isatty():
        confirm(question)


def refuse_production(config: Any, allow_prod: bool, what: str) -> None:
    if config.production and not allow_prod:
        raise UsageError(f"environment {config.environment!r} is production: {what} there "
                         "changes production", hint="pass --allow-prod if you mean it")


def load_config(path: str | None, log_format: str | None, debug: bool) -> Any:
    from dr import config, logs

    logs.configure(log_format, debug=debug)
    if path == "":
        raise UsageError("--config: empty path (is the variable you passed unset?)")
    return config.load(config.default_path() if path is None else path)
