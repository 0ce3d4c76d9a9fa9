"""The data plane of an ARC (Route 53 Application Recovery Controller) cluster, on loopback.

moto has no `route53-recovery-cluster`. AWS gives every cluster five regional endpoints that
share one state of On/Off routing controls; a client tries them in turn, as any may be
unavailable ("ARC ensures that at least three out of the five Regional cluster endpoints
are always accessible"; https://docs.aws.amazon.com/r53recovery/latest/dg/routing-control.update.api.html).
Here each endpoint is an HTTP server on 127.0.0.1 speaking the service's JSON 1.0 protocol
(`X-Amz-Target: ToggleCustomerAPI.<Operation>`), all of them over one shared state; an
endpoint whose region is lost accepts connections and never answers, as a lost region's
endpoints do. `on_change` tells the lab's DNS when a control changes (its RECOVERY_CONTROL
health checks follow the controls).
https://docs.aws.amazon.com/routing-control/latest/APIReference/API_UpdateRoutingControlStates.html
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"
# Where AWS puts a cluster's five endpoints (any five Regions; these are typical).
ENDPOINT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "ap-northeast-1")
STATES = ("On", "Off")


@dataclass
class _Control:
    arn: str
    name: str
    state: str
    control_panel_arn: str


class _Failure(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class ArcCluster:
    """Five endpoints over one state. Use as a context manager, or start() and stop()."""

    def __init__(self, regions: tuple[str, ...] = ENDPOINT_REGIONS,
                 on_change: Callable[[dict[str, str]], None] | None = None) -> None:
        self.regions = regions
        self.on_change = on_change
        self._controls: dict[str, _Control] = {}
        self._lock = threading.Lock()
        self._down: set[str] = set()
        self._released = threading.Event()
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self.updated_through: list[str] = []  # the endpoint region of each successful update

    # --- the lab's side --------------------------------------------------------------------

    def add_control(self, arn: str, name: str, state: str, control_panel_arn: str) -> None:
        with self._lock:
            self._controls[arn] = _Control(arn, name, state, control_panel_arn)

    def states(self) -> dict[str, str]:
        with self._lock:
            return {arn: c.state for arn, c in self._controls.items()}

    def outage(self, region: str) -> None:
        """The endpoint in `region` stops answering (the region is lost)."""
        with self._lock:
            self._down.add(region)

    def restore(self, region: str) -> None:
        with self._lock:
            self._down.discard(region)

    @property
    def endpoints(self) -> list[dict[str, str]]:
        """As dr.yaml's `routing_control_cluster.endpoints` lists them."""
        return [{"region": region, "url": f"http://{LOOPBACK}:{server.server_address[1]}/v1"}
                for region, server in self._servers.items()]

    def start(self) -> ArcCluster:
        for region in self.regions:
            server = ThreadingHTTPServer((LOOPBACK, 0), _handler(self, region))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True,
                             name=f"arc-{region}").start()
            self._servers[region] = server
        return self

    def stop(self) -> None:
        self._released.set()  # hanging requests end
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        self._servers.clear()

    def __enter__(self) -> ArcCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the API ---------------------------------------------------------------------------

    def answer(self, region: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if operation == "GetRoutingControlState":
                control = self._control(body.get("RoutingControlArn"))
                return {"RoutingControlArn": control.arn, "RoutingControlState": control.state,
                        "RoutingControlName": control.name}
            if operation == "ListRoutingControls":
                panel = body.get("ControlPanelArn")
                return {"RoutingControls": [
                    {"ControlPanelArn": c.control_panel_arn, "RoutingControlArn": c.arn,
                     "RoutingControlName": c.name, "RoutingControlState": c.state}
                    for c in self._controls.values()
                    if panel is None or c.control_panel_arn == panel]}
            if operation == "UpdateRoutingControlState":
                entries = [{"RoutingControlArn": body.get("RoutingControlArn"),
                            "RoutingControlState": body.get("RoutingControlState")}]
            elif operation == "UpdateRoutingControlStates":
                entries = list(body.get("UpdateRoutingControlStateEntries") or [])
            else:
                raise _Failure("UnknownOperationException", f"{operation} is not supported")
            # All or nothing, as AWS applies one call's entries.
            changes = {self._control(e.get("RoutingControlArn")).arn:
                       _state(e.get("RoutingControlState")) for e in entries}
            for arn, state in changes.items():
                self._controls[arn].state = state
            self.updated_through.append(region)
            states = {arn: c.state for arn, c in self._controls.items()}
        if self.on_change:
            self.on_change(states)
        return {}

    def _control(self, arn: Any) -> _Control:
        control = self._controls.get(str(arn))
        if control is None:
            raise _Failure("ResourceNotFoundException", f"routing control {arn} not found",
                           404)
        return control

    def is_down(self, region: str) -> bool:
        with self._lock:
            return region in self._down


def _state(value: Any) -> str:
    if value not in STATES:
        raise _Failure("ValidationException", f"routing control state must be On or Off, "
                       f"not {value!r}")
    return str(value)


def _handler(cluster: ArcCluster, region: str) -> type[BaseHTTPRequestHandler]:
    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            if cluster.is_down(region):
                cluster._released.wait()  # a lost region: accepted, never answered
                return
            operation = str(self.headers.get("X-Amz-Target", "")).rsplit(".", 1)[-1]
            try:
                answer, status = cluster.answer(region, operation, json.loads(raw or b"{}")), 200
            except _Failure as failure:
                answer = {"__type": failure.code, "message": failure.message}
                status = failure.status
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return

    return Endpoint
