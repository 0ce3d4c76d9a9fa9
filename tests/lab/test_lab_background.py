"""`dr lab up` / `outage` / `dr failover` / `dr status` / `dr lab down`, by hand as the README
shows, each a separate process; `down` leaves no process and no port behind."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

DR = [sys.executable, "-c", "import sys; from dr.cli.main import main; sys.exit(main())"]


def dr(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DR, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180)


def listening(address: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((address, port)) == 0


def test_lab_by_hand_and_down_leaves_nothing(tmp_path: Path) -> None:
    # A user's environment, but for this test's own host-wide lock directory: another run on
    # the machine (another test session) is another operator of the same app/environment.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "DR_")) or k == "DR_LOCK_DIR"}
    started = dr(tmp_path, env, "lab", "up", "--profile", "instant")
    assert started.returncode == 0, started.stderr
    exports = dict(line.removeprefix("export ").split("=", 1)
                   for line in started.stdout.splitlines() if line.startswith("export "))
    assert {"AWS_ENDPOINT_URL", "DR_CONFIG", "DR_RESOLVER"} <= exports.keys()
    state = json.loads((tmp_path / ".dr" / "lab" / "state.json").read_text())
    lab_env = {**env, **exports}
    try:
        assert dr(tmp_path, lab_env, "plan", "--to", "secondary").returncode == 0
        lost = dr(tmp_path, lab_env, "lab", "outage", "primary")
        assert lost.returncode == 0 and "lost" in lost.stdout
        failover = dr(tmp_path, lab_env, "failover", "--to", "secondary", "--yes")
        assert failover.returncode == 0, failover.stdout + failover.stderr
        status = dr(tmp_path, lab_env, "status", "--json")
        assert json.loads(status.stdout)["active"] == "secondary"
    finally:
        down = dr(tmp_path, lab_env, "lab", "down")
    assert down.returncode == 0, down.stderr
    assert not any(listening(address, port) for address, port in state["ports"])
    assert not Path(f"/proc/{state['pid']}").exists() or \
        Path(f"/proc/{state['pid']}/stat").read_text().split(")")[-1].split()[0] == "Z"
    assert not (tmp_path / ".dr" / "lab" / "state.json").exists()
