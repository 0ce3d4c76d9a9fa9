"""The lab in the background (`dr lab up`): a process that holds the lab and answers a small
control API on 127.0.0.1, described by `.dr/lab/state.json`, until `dr lab down`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dr.errors import DrError
from dr.lab.options import TRAFFIC_MODES
from dr.lab.world import Lab, LabOptions

STATE_FILE = "state.json"


def serve(options: LabOptions) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lab = Lab(options).up()
    losing = threading.Lock()  # one outage at a time

    class Control(BaseHTTPRequestHandler):
        def _answer(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._answer(status_of(lab))

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            if parts == ["down"]:
                self._answer({"stopping": True})
                stop.set()
            elif len(parts) == 2 and parts[0] == "outage" and parts[1] in ("primary",
                                                                            "secondary"):
                with_global = parse_qs(url.query).get("with_global") == ["1"]
                try:
                    with losing:
                        lab.lose_region(parts[1], with_global=with_global)
                except DrError as exc:  # refused, nothing changed: the CLI says it in a line
                    self._answer({"error": str(exc), "exit_code": exc.exit_code}, 400)
                    return
                self._answer(status_of(lab))
            else:
                self._answer({"error": f"unknown control path {self.path}"}, 404)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Control)
    threading.Thread(target=server.serve_forever, daemon=True, name="lab-control").start()
    state_file = options.state_dir / STATE_FILE
    try:
        state = {"pid": os.getpid(), "control_url": f"http://127.0.0.1:{server.server_address[1]}",
                 "config": str(lab.config_path.resolve()), "env": lab.env,
                 "ports": _ports(lab, server)}
        # Written whole, then renamed: `dr lab up` polls for the file and must never read
        # it half-written.
        partial = state_file.with_suffix(".partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(state_file)
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        lab.down()
        state_file.unlink(missing_ok=True)


def _ports(lab: Lab, server: ThreadingHTTPServer) -> list[tuple[str, int]]:
    """Every (address, port) the lab listens on, for `dr lab down` to check."""
    from urllib.parse import urlparse

    urls = [lab.front.url if lab.front else "", lab.emulator.endpoint_url if lab.emulator else ""]
    urls += [app.health_url for app in lab.apps.values()]
    found = [(str(u.hostname), int(u.port)) for u in map(urlparse, urls) if u.port]
    if lab.edge is not None and lab.edge.cdn is not None:
        found += [(lab.edge.dns.address, lab.edge.dns.port),
                  (lab.edge.cdn.address, lab.edge.cdn.port)]
    if lab.pair is not None:
        found += [("127.0.0.1", p) for p in lab.pair.ports]
    return found + [("127.0.0.1", server.server_address[1])]


def status_of(lab: Lab) -> dict[str, Any]:
    return {"regions": lab.options.regions, "traffic": lab.options.traffic,
            "lost": {role: at.isoformat() for role, at in lab.lost.items()},
            "lost_with_global": sorted(lab.lost_with_global),
            "data_plane": lab.pair is not None, "note": lab.data_plane_note,
            "config": str(lab.config_path.resolve()),
            "apps": {role: app.health_url for role, app in lab.apps.items()},
            "public_urls": lab.public_urls}


def main() -> None:
    parser = argparse.ArgumentParser(description="dr lab background process")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--profile", default="realistic")
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--wan-delay", type=float, default=2.0)
    parser.add_argument("--no-data-plane", action="store_true")
    parser.add_argument("--primary-region", default=LabOptions.primary_region)
    parser.add_argument("--secondary-region", default=LabOptions.secondary_region)
    parser.add_argument("--traffic", choices=TRAFFIC_MODES, default=LabOptions.traffic)
    args = parser.parse_args()
    from dr import logs

    logs.configure("json")
    serve(LabOptions(profile=args.profile, time_scale=args.time_scale,
                     wan_delay=args.wan_delay, data_plane=not args.no_data_plane,
                     state_dir=args.state_dir, primary_region=args.primary_region,
                     secondary_region=args.secondary_region, traffic=args.traffic))


if __name__ == "__main__":
    main()
