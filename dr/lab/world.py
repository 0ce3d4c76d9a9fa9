"""The lab's world: an emulated two-region estate, a real PostgreSQL pair behind a WAN link,
a writer, one small app per region and an outside observer — brought up, broken, torn down.

Everything listens on 127.0.0.1 and everything it starts is stopped by `down()`, also after a
failure halfway through `up()`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import structlog
import yaml
from botocore.config import Config as BotoConfig

from dr.lab import fidelity
from dr.lab.emulator import Emulator
from dr.lab.estate import Shape, provision
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT, TimingProfile

log = structlog.get_logger("dr.lab")

PRIMARY, SECONDARY = "eu-west-1", "eu-central-1"
HEARTBEAT_TABLE = "dr_heartbeat"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab"}
LAG_PERIOD_SECONDS = 0.5


@dataclass(frozen=True)
class LabOptions:
    profile: str = "realistic"
    time_scale: float = 0.05
    wan_delay: float = 2.0
    data_plane: bool = True
    rpo_seconds: float = 60.0
    rto_seconds: float = 900.0
    state_dir: Path = Path(".dr") / "lab"
    # The estate's size; the data plane, the apps and the observer use its first database,
    # parameter and record (benchmarks build bigger estates with it).
    shape: Shape = field(default_factory=Shape)

    @property
    def timing(self) -> TimingProfile:
        return TimingProfile(self.profile, self.time_scale)


class StandInApp:
    """A region's app when there is no real database: healthy when its `db_host` parameter
    names an emulated instance that is writable (standalone and available)."""

    def __init__(self, region: str, healthy: Any) -> None:
        self.region = region
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                ok = healthy()
                self.send_response(200 if ok else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"lab-app-{owner.region}")

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/health"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Lab:
    options: LabOptions
    emulator: Emulator | None = None
    front: RegionFront | None = None
    pair: Any = None
    writer: Any = None
    apps: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    incident_at: datetime | None = None
    data_plane_note: str | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stack: list[Any] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.options.state_dir / "dr.yaml"

    @property
    def env(self) -> dict[str, str]:
        """What `dr` needs to reach the lab's AWS (through the region front)."""
        assert self.front is not None
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.front.url,
                "AWS_DEFAULT_REGION": PRIMARY}

    def client(self, service: str, region: str) -> Any:
        """A client straight to the emulator, for the lab's own machinery."""
        assert self.emulator is not None
        return boto3.client(service, region_name=region, endpoint_url=self.emulator.endpoint_url,
                            aws_access_key_id="lab", aws_secret_access_key="lab",
                            config=BotoConfig(connect_timeout=1, read_timeout=5,
                                              retries={"total_max_attempts": 2}))

    def up(self) -> Lab:
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def _up(self) -> None:
        opts = self.options
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        self.emulator = Emulator(INSTANT).start()
        self._stack.append(self.emulator.stop)
        # moto's backends live in the process: start from an empty estate.
        self.emulator.reset()
        self.front = RegionFront(self.emulator.endpoint_url).start()
        self._stack.append(self.front.stop)
        session = boto3.session.Session(aws_access_key_id="lab", aws_secret_access_key="lab")
        # Provisioning goes straight to the emulator, not through the region front.
        with environment({"AWS_ENDPOINT_URL": self.emulator.endpoint_url}):
            estate = provision(session, primary=PRIMARY, secondary=SECONDARY,
                               shape=opts.shape, rpo_seconds=opts.rpo_seconds,
                               rto_seconds=opts.rto_seconds, replica_lag=None)
        self.config = estate.config
        self._start_data_plane()
        self._start_apps()
        self.config["health"] = [{
            "name": "api", "primary": self.apps["primary"].health_url,
            "secondary": self.apps["secondary"].health_url, "expect_status": 200,
            "consecutive": 3, "interval_seconds": 0.1, "timeout_seconds": 1.0}]
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        fidelity.set_profile(opts.timing)
        self._spawn(self._publish_lag, "lab-replica-lag")
        log.info("lab.up", config=str(self.config_path), endpoint=self.front.url,
                 data_plane=self.pair is not None)

    def _start_data_plane(self) -> None:
        from dr.lab import postgres

        reason = None if self.options.data_plane else "--no-data-plane given"
        reason = reason or postgres.unavailable_reason()
        if reason:
            self.data_plane_note = f"no real data plane ({reason}): RPO from replica lag"
            return
        from dr.lab.writer import Writer

        self.pair = postgres.PostgresPair(wan_delay=self.options.wan_delay)
        self._stack.append(self.pair.stop)
        self.pair.start()
        db = self.config["databases"][0]
        db["heartbeat"] = {"table": HEARTBEAT_TABLE, "dsn": {
            "primary": self.pair.primary_dsn, "secondary": self.pair.standby_dsn}}
        self.writer = Writer(self.pair.primary_dsn, heartbeat_table=HEARTBEAT_TABLE)
        self._stack.append(self.writer.stop)
        self.writer.start()
        self._stack.append(fidelity.on_promoted(self._promoted))

    def _promoted(self, region: str, identifier: str) -> None:
        if self.pair is not None and identifier == self.config["databases"][0]["secondary"]:
            self.pair.promote_standby()

    def _db_host(self, region: str) -> str | None:
        name = self.config["parameters"][0]["name"]
        try:
            return str(self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"])
        except Exception:  # noqa: BLE001 - an unreadable parameter is an unhealthy app
            return None

    def _start_apps(self) -> None:
        param, db = self.config["parameters"][0], self.config["databases"][0]
        for role, region in (("primary", PRIMARY), ("secondary", SECONDARY)):
            if self.pair is not None:
                from dr.lab.regional_app import RegionalApp

                dsns = {param["primary"]: self.pair.primary_dsn,
                        param["secondary"]: self.pair.standby_dsn}
                app: Any = RegionalApp(region, lambda r=region: self._db_host(r), dsns.get)
            else:
                ids = {param["primary"]: (PRIMARY, db["primary"]),
                       param["secondary"]: (SECONDARY, db["secondary"])}
                app = StandInApp(region, lambda r=region, ids=ids: self._writable(
                    ids.get(self._db_host(r) or "")))
            app.start()
            self._stack.append(app.stop)
            self.apps[role] = app

    def _writable(self, target: tuple[str, str] | None) -> bool:
        if target is None or (self.incident_at and target[0] == PRIMARY):
            return False
        found = self.client("rds", target[0]).describe_db_instances(
            DBInstanceIdentifier=target[1])["DBInstances"][0]
        return bool(found["DBInstanceStatus"] == "available"
                    and not found.get("ReadReplicaSourceDBInstanceIdentifier"))

    def _publish_lag(self) -> None:
        """The replica's ReplicaLag in CloudWatch: the data plane's real lag, or without one,
        the WAN delay the lab models."""
        replica = self.config["databases"][0]["secondary"]
        cloudwatch = self.client("cloudwatch", SECONDARY)
        while not self._stop.wait(LAG_PERIOD_SECONDS):
            lag = (self.pair.replication_lag_seconds() if self.pair is not None
                   else self.options.wan_delay)
            if lag is None or self.incident_at is not None:
                continue
            cloudwatch.put_metric_data(Namespace="AWS/RDS", MetricData=[{
                "MetricName": "ReplicaLag", "Value": float(lag), "Unit": "Seconds",
                "Timestamp": datetime.now(UTC),
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": replica}]}])

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def warm_up(self) -> None:
        """Let replication reach its steady lag and CloudWatch see it before any loss."""
        if self.pair is None:
            time.sleep(2 * LAG_PERIOD_SECONDS + 0.1)
            return
        deadline = time.monotonic() + self.options.wan_delay + 15
        while time.monotonic() < deadline:
            lag = self.pair.replication_lag_seconds()
            if lag is not None and lag <= self.options.wan_delay + 0.5:
                break
            time.sleep(0.2)
        time.sleep(self.options.wan_delay + 2 * LAG_PERIOD_SECONDS + 0.2)

    def lose_primary_region(self) -> datetime:
        return self.lose_region("primary")

    def lose_region(self, role: str) -> datetime:
        """The region's APIs hang, its database dies, its app stops."""
        assert self.front is not None
        region = PRIMARY if role == "primary" else SECONDARY
        self.front.outage(region)
        self.apps[role].stop()
        if self.pair is not None and role == "primary":
            self.incident_at = self.pair.lose_primary_region()
        else:
            if self.pair is not None:
                self.pair.standby.crash()
            self.incident_at = datetime.now(UTC)
        log.info("lab.region_lost", region=region, at=self.incident_at.isoformat())
        return self.incident_at

    def down(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        while self._stack:
            stop = self._stack.pop()
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - tear down everything else regardless
                log.warning("lab.stop_failed", part=getattr(stop, "__qualname__", "?"),
                            error=str(exc))
        fidelity.clear()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Environment variables set for the duration of a block, then restored."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
