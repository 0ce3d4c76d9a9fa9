"""Secrets `dr` has read never leave it: every output is scrubbed by value.

Redacting by field name (`password=...`) missed the leak that mattered: libpq echoes a
malformed DSN's password inside its error message (`invalid percent-encoded token:
"Super%ZZSecret123"`), and that message went to stdout, the JSON logs, the reports, the
journal and the SNS message. So whatever secret `dr` reads (a heartbeat DSN's password from
dr.yaml, a Secrets Manager secret) is remembered here, in the forms it may appear in (as
written, percent-decoded, percent-encoded, JSON-escaped), and every writer (log lines,
journal records, report files, notifications, stdout and stderr) passes its text through
`scrub`. The registry is process-wide, as the secrets are.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
# Shorter values would mask ordinary words; no real password is this short.
_MIN_LENGTH = 4
_KEYWORD_PASSWORD = re.compile(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def remember(secret: str | None) -> None:
    """Scrub `secret`, in every form it may be written in, from all output from now on."""
    global _pattern
    if not secret or len(secret) < _MIN_LENGTH:
        return
    forms = {secret, unquote(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(f for f in forms if len(f) >= _MIN_LENGTH)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def remember_dsn(dsn: str | None) -> None:
    """The password inside a libpq connection string, URL (`postgresql://u:PW@h/db`) or
    keyword (`password=PW`) form."""
    if not dsn:
        return
    if "://" in dsn:
        try:
            remember(urlsplit(dsn).password)
        except ValueError:
            pass
    for match in _KEYWORD_PASSWORD.finditer(dsn):
        value = match.group(1)
        if value.startswith("'") and value.endswith("'"):
            value = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        remember(value)


def scrub(text: str) -> str:
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def scrub_data(value: Any) -> Any:
    """`value` with every string in it scrubbed (dicts, lists and tuples walked)."""
    if _pattern is None:
        return value
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_data(v) for v in value)
    return value


class ScrubbedStream:
    """A text stream that scrubs what is written to it: stdout and stderr of `dr`."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(scrub(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
