"""Shared helpers for the data-plane tests: real PostgreSQL and real sockets on loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

needs_postgres = pytest.mark.needs("postgres")


def port_is_free(port: int) -> bool:
    """Nothing listens on `port`; connections closed moments ago (TIME_WAIT) are ignored,
    as servers (PostgreSQL included) set SO_REUSEADDR."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def process_is_gone(pid: int) -> bool:
    """True when `pid` has exited; a zombie (exited, not yet reaped by init) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    # The state follows the parenthesised command name.
    return stat.rsplit(")", 1)[1].split()[0] in {"Z", "X"}
