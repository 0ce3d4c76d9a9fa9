"""The WAN proxy delays both directions, forwards at once at delay 0, and cut() loses data."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from dr.lab.wan import WanProxy

from .conftest import port_is_free


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    def echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()
    server.close()


def round_trip(port: int, payload: bytes = b"ping") -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        started = time.monotonic()
        conn.sendall(payload)
        assert conn.recv(len(payload)) == payload
        return time.monotonic() - started


def test_delay_zero_forwards_at_once(echo_server: tuple[str, int]) -> None:
    with WanProxy(echo_server, delay=0) as wan:
        assert round_trip(wan.port) < 0.05


def test_each_direction_is_delayed(echo_server: tuple[str, int]) -> None:
    with WanProxy(echo_server, delay=0.3) as wan:
        assert 0.6 <= round_trip(wan.port) < 0.75


def test_cut_drops_bytes_in_flight_and_refuses_new_connections(
    echo_server: tuple[str, int],
) -> None:
    wan = WanProxy(echo_server, delay=0.5)
    port = wan.start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"never arrives")
        time.sleep(0.1)
        wan.cut()
        try:
            received = conn.recv(100)
        except ConnectionResetError:
            received = b""
        assert received == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    wan.close()
    wan.close()
    assert port_is_free(port)
    assert not [t for t in threading.enumerate() if t.name == "dr-wan"]
