"""/health answers 503 fast and says why when the database cannot be written, or when no
task runs."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from dr.lab.regional_app import RegionalApp

from .conftest import port_is_free


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A port that accepts TCP connections and never answers, like an unreachable host."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"host=127.0.0.1 port={server.getsockname()[1]} dbname=x user=x"


def test_a_database_that_does_not_answer_is_unhealthy_within_a_second(black_hole: str) -> None:
    with RegionalApp("r", lambda: "db", lambda host: black_hole) as app:
        app.task_started("t1")
        started = time.monotonic()
        status, body = get(app.health_url)
        elapsed = time.monotonic() - started
    assert status == 503
    assert "no answer" in str(body["error"])
    assert elapsed < 1.9  # the probe's 1 s deadline, not psycopg's 2 s connect timeout


def test_unknown_or_unreadable_parameter_is_unhealthy() -> None:
    def ssm_down() -> str:
        raise TimeoutError("ssm did not answer")

    with RegionalApp("r", lambda: "nowhere", lambda host: None) as app:
        app.task_started("t1")
        assert get(app.health_url)[0] == 503
        assert get(app.health_url.replace("/health", "/other"))[0] == 404
    with RegionalApp("r", ssm_down, lambda host: None) as app:
        app.task_started("t1")
        status, body = get(app.health_url)
    assert status == 503
    assert "ssm did not answer" in str(body["error"])


def test_without_a_running_task_it_answers_503_and_round_robins_between_tasks() -> None:
    values = iter(["a", "b"])
    with RegionalApp("r", lambda: next(values), lambda host: None,
                     writable=lambda host: (host == "a", None)) as app:
        assert get(app.health_url) == (503, {"region": "r", "healthy": False, "task": None,
                                             "db_host": None, "error": "no running task"})
        app.task_started("t1")
        app.task_started("t2")
        app.task_started("t1")  # known: keeps what it read
        seen = [get(app.health_url) for _ in range(4)]
        app.task_leaving("t2")
        after = get(app.health_url)
    assert sorted((s, b["task"], b["db_host"]) for s, b in seen) == [
        (200, "t1", "a"), (200, "t1", "a"), (503, "t2", "b"), (503, "t2", "b")]
    assert after[0] == 200 and after[1]["task"] == "t1"


def test_stop_frees_the_port() -> None:
    app = RegionalApp("r", lambda: None, lambda host: None)
    app.start()
    port = app.port
    app.stop()
    app.stop()
    assert port_is_free(port)
