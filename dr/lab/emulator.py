"""The AWS emulator: moto's server on loopback, with the fidelity layer applied first.

One server answers every service and Region (boto3 honours `AWS_ENDPOINT_URL`); the Region
and service of a request come from its SigV4 signature, which is also what
dr/lab/regionfront.py reads to take a Region down.
"""

from __future__ import annotations

import logging
import time
import urllib.request
from types import TracebackType

from moto.server import ThreadedMotoServer

from dr.lab import fidelity
from dr.lab.fidelity import Clock
from dr.lab.timing import INSTANT, TimingProfile

LOOPBACK = "127.0.0.1"


class Emulator:
    """moto's ThreadedMotoServer on 127.0.0.1 (a free port unless `port` is given), with
    `fidelity.apply(profile, clock)` done before it starts. Use as a context manager."""

    def __init__(
        self,
        profile: TimingProfile = INSTANT,
        clock: Clock = time.monotonic,
        port: int = 0,
    ) -> None:
        self._profile = profile
        self._clock = clock
        self._port = port
        self._server: ThreadedMotoServer | None = None
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._endpoint_url

    def start(self) -> Emulator:
        fidelity.apply(self._profile, self._clock)
        # werkzeug logs one line per request on stderr; a drill makes thousands.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self._endpoint_url = f"http://{host}:{port}"
        return self

    def reset(self) -> None:
        """Empty every backend through moto's reset API and forget modelled transitions."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        fidelity.clear()

    def stop(self) -> None:
        """Stop the server; its listening socket is closed when this returns."""
        if self._server is not None:
            self._server.stop()
            self._server = None
            self._endpoint_url = None
        fidelity.clear()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
