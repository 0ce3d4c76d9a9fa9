"""structlog set-up: readable lines on a terminal, JSON lines for machines; always stderr,
so that stdout carries only a command's result."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import structlog

from dr.redact import scrub_data

SECRET_KEYS = frozenset({"password", "secret", "token", "dsn", "SecretString"})


def _redact(_: object, __: str, event: dict[str, object]) -> dict[str, object]:
    for key in SECRET_KEYS & event.keys():
        event[key] = "***"
    # By value too: a secret inside an error message has no telling field name.
    return dict(scrub_data(event))


def configure(log_format: str | None, *, debug: bool = False) -> None:
    fmt = log_format or ("console" if sys.stderr.isatty() else "json")
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if debug else logging.INFO),
        # sys.stderr is looked up at each event, not once: it may be replaced (pytest's capture).
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def draws_board(log_format: str | None) -> bool:
    """A live board instead of log lines: by default on a terminal that can redraw in place.
    `--log-format console` keeps today's lines on a terminal; json never draws."""
    return log_format is None and can_redraw(sys.stderr)


def can_redraw(stream: Any) -> bool:
    """A terminal whose lines can be redrawn in place (not a pipe, a file or a dumb one)."""
    return bool(stream.isatty()) and os.environ.get("TERM", "") not in ("", "dumb")


@contextlib.contextmanager
def diverted(sink: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """While the block runs, every event goes to `sink` (stamped, redacted) instead of
    stderr: the live board draws what the lines would have said. Restored on exit."""
    before = structlog.get_config()

    def deliver(_: object, __: str, event: dict[str, Any]) -> dict[str, Any]:
        sink(event)
        raise structlog.DropEvent

    structlog.configure(processors=[*before["processors"][:-1], deliver])
    try:
        yield
    finally:
        structlog.configure(**before)
