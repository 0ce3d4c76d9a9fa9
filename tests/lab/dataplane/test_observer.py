"""The observer follows the DNS record, and recovery needs N passes in a row after the outage."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dr.lab.observer import Observation, Observer


class Switchable:
    """An HTTP server whose every path answers `status`."""

    def __init__(self) -> None:
        self.status = HTTPStatus.SERVICE_UNAVAILABLE
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app() -> Iterator[Switchable]:
    server = Switchable()
    yield server
    server.close()


def test_recovery_is_observed_after_the_record_and_health_both_switch(app: Switchable) -> None:
    record = {"value": "old"}
    urls = {"new": app.url}
    with Observer(lambda: record["value"], urls.get, required_passes=3, interval=0.05) as seen:
        outage_at = datetime.now(UTC)
        seen.mark_outage(outage_at)
        time.sleep(0.2)
        record["value"] = "new"
        time.sleep(0.2)
        assert seen.recovered_at is None
        app.status = HTTPStatus.OK
        healthy_at = datetime.now(UTC)
        recovered_at = seen.wait_recovered(timeout=5)
    assert recovered_at is not None
    # A check that began just before the switch may already see it answered.
    assert -0.05 <= (recovered_at - healthy_at).total_seconds() < 0.2
    rto = seen.rto_seconds
    assert rto is not None and rto == (recovered_at - outage_at).total_seconds()
    errors = {o.error for o in seen.observations if o.dns_value == "old"}
    assert errors == {"no health URL for this target"}
    assert {o.status for o in seen.observations if o.dns_value == "new"} == {503, 200}


def test_failures_of_the_dns_read_are_failed_checks() -> None:
    def broken() -> str:
        raise ConnectionError("emulator down")

    with Observer(broken, lambda value: None, interval=0.02) as seen:
        time.sleep(0.1)
    assert seen.observations
    assert all(not o.ok and "emulator down" in (o.error or "") for o in seen.observations)


def observation(second: int, ok: bool) -> Observation:
    return Observation(datetime(2026, 1, 1, 0, 0, second, tzinfo=UTC), "x", "u", 200, ok)


def test_recovered_at_is_the_first_check_of_the_first_full_streak() -> None:
    seen = Observer(lambda: None, lambda value: None, required_passes=3)
    pattern = [True, True, False, True, True, False, True, True, True, True]
    seen._observations = [observation(s, ok) for s, ok in enumerate(pattern)]
    assert seen.recovered_at is None
    seen.mark_outage(datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC))
    assert seen.recovered_at == datetime(2026, 1, 1, 0, 0, 6, tzinfo=UTC)
