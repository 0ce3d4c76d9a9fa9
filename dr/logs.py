"""structlog set-up: readable lines on a terminal, JSON lines for machines; always stderr,
so that stdout carries only a command's result."""

from __future__ import annotations

import logging
import sys

import structlog

SECRET_KEYS = frozenset({"password", "secret", "token", "dsn", "SecretString"})


def _redact(_: object, __: str, event: dict[str, object]) -> dict[str, object]:
    for key in SECRET_KEYS & event.keys():
        event[key] = "***"
    return event


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
