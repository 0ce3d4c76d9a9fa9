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

from dr.lab.world import PRIMARY, SECONDARY, Lab, LabOptions

STATE_FILE = "state.json"


def serve(options: LabOptions) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lab = Lab(options).up()
    lost: dict[str, str] = {}

    class Control(BaseHTTPRequestHandler):
        def _answer(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._answer(status_of(lab, lost))

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            parts = self.path.strip("/").split("/")
            if parts == ["down"]:
                self._answer({"stopping": True})
                stop.set()
            elif len(parts) == 2 and parts[0] == "outage" and parts[1] in ("primary",
                                                                            "secondary"):
                if parts[1] not in lost:
                    lost[parts[1]] = lab.lose_region(parts[1]).isoformat()
                self._answer(status_of(lab, lost))
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
        state_file.write_text(json.dumps(state, indent=2))
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        lab.down()
        state_file.unlink(missing_ok=True)


def _ports(lab: Lab, server: ThreadingHTTPServer) -> list[int]:
    from urllib.parse import urlparse

    urls = [lab.front.url if lab.front else "", lab.emulator.endpoint_url if lab.emulator else ""]
    urls += [lab.config["health"][0][role] for role in ("primary", "secondary")]
    ports = [urlparse(u).port for u in urls if u]
    if lab.pair is not None:
        ports += [lab.pair.primary.port, lab.pair.standby.port, lab.pair.wan.port]
    return [int(p) for p in ports if p] + [server.server_address[1]]


def status_of(lab: Lab, lost: dict[str, str]) -> dict[str, Any]:
    return {"regions": {"primary": PRIMARY, "secondary": SECONDARY}, "lost": lost,
            "data_plane": lab.pair is not None, "note": lab.data_plane_note,
            "config": str(lab.config_path.resolve()),
            "apps": {role: lab.config["health"][0][role] for role in ("primary", "secondary")}}


def main() -> None:
    parser = argparse.ArgumentParser(description="dr lab background process")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--profile", default="realistic")
    parser.add_argument("--time-scale", type=float, default=0.05)
    parser.add_argument("--wan-delay", type=float, default=2.0)
    parser.add_argument("--no-data-plane", action="store_true")
    args = parser.parse_args()
    from dr import logs

    logs.configure("json")
    serve(LabOptions(profile=args.profile, time_scale=args.time_scale,
                     wan_delay=args.wan_delay, data_plane=not args.no_data_plane,
                     state_dir=args.state_dir))


if __name__ == "__main__":
    main()
