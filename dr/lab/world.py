"""The lab's world: an emulated two-region estate, a real PostgreSQL pair behind a WAN link,
a writer, one small app per region, and the data plane users meet (a DNS server answering
Route 53's zones, a CloudFront edge) — brought up, broken, torn down.

Each region's app listens on its own loopback address, the same port for both, and the
estate's regional names resolve to those addresses, so that a DNS answer (or CloudFront's
origin) decides which region serves. The apps run the tasks of the emulator's ECS model:
a task reads its region's `db_host` parameter when it starts. Everything listens on
127.0.0.0/8 and everything it starts is stopped by `down()`, also after a failure halfway
through `up()`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import structlog
import yaml
from botocore.config import Config as BotoConfig

from dr import publicurl
from dr.lab import fidelity, follow, traffic
from dr.lab.arc import ArcCluster
from dr.lab.edge import Edge
from dr.lab.emulator import Emulator
from dr.lab.estate import provision
from dr.lab.options import ROUTING_CONTROLS, LabOptions
from dr.lab.regional_app import RegionalApp
from dr.lab.regionfront import RegionFront
from dr.lab.timing import INSTANT

log = structlog.get_logger("dr.lab")

HEARTBEAT_TABLE = "dr_heartbeat"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab"}
LAG_PERIOD_SECONDS = 0.5
APP_ADDRESSES = {"primary": "127.0.0.11", "secondary": "127.0.0.12"}
EDGE_ADDRESS = "127.0.0.20"
# The apps' JSON body names the region that served it under this key.
REGION_KEY = "region"
RECORD_TTL_SECONDS = 60
# health[].timeout_seconds: twice the apps' own bound on their database probe, so a loaded
# machine's slow database reads as a 503 from the app, not as a region that does not answer.
HEALTH_TIMEOUT_S = 2.0


@dataclass
class Lab:
    options: LabOptions
    emulator: Emulator | None = None
    front: RegionFront | None = None
    pair: Any = None
    writer: Any = None
    apps: dict[str, RegionalApp] = field(default_factory=dict)
    edge: Edge | None = None
    config: dict[str, Any] = field(default_factory=dict)
    incident_at: datetime | None = None
    data_plane_note: str | None = None
    arc: ArcCluster | None = None  # with --traffic routing-controls
    # Each lost region's role: when it was lost; and the regions lost with the global
    # control planes they home.
    lost: dict[str, datetime] = field(default_factory=dict)
    lost_with_global: set[str] = field(default_factory=set)
    # Each side's instance fenced (dr's fence group only), as the RDS hooks last said.
    _fenced: dict[str, bool] = field(default_factory=lambda: {"primary": False,
                                                                "secondary": False})
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _stack: list[Any] = field(default_factory=list)

    @property
    def config_path(self) -> Path:
        return self.options.state_dir / "dr.yaml"

    @property
    def env(self) -> dict[str, str]:
        """What `dr` needs to reach the lab's AWS (through the region front)."""
        assert self.front is not None and self.edge is not None
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.front.url,
                "AWS_DEFAULT_REGION": self.options.primary_region,
                publicurl.ENV: self.edge.nameserver}

    @property
    def public_urls(self) -> dict[str, str]:
        """The URLs users call, by name: each record's name and each distribution's domain."""
        return {h["name"]: h["public"] for h in self.config.get("health", [])}

    @property
    def record_ttl(self) -> int:
        """The records' TTL on the lab's clock, like every modelled wait (whole seconds)."""
        timing = self.options.timing
        if timing.name == "instant":
            return 0
        return max(1, round(RECORD_TTL_SECONDS * timing.time_scale))

    def client(self, service: str, region: str) -> Any:
        """A client straight to the emulator, for the lab's own machinery."""
        assert self.emulator is not None
        return boto3.client(service, region_name=region, endpoint_url=self.emulator.endpoint_url,
                            aws_access_key_id="lab", aws_secret_access_key="lab",
                            config=BotoConfig(connect_timeout=1, read_timeout=5,
                                              retries={"total_max_attempts": 2}))

    def on_down(self, stop: Any) -> None:
        """`stop` is called by `down()`, after whatever was started later."""
        self._stack.append(stop)

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
        self._decide_data_plane()
        port = self._start_apps()
        session = boto3.session.Session(aws_access_key_id="lab", aws_secret_access_key="lab")
        # Provisioning goes straight to the emulator, not through the region front.
        with environment({"AWS_ENDPOINT_URL": self.emulator.endpoint_url}):
            estate = provision(session, primary=opts.primary_region,
                               secondary=opts.secondary_region,
                               shape=opts.shape, rpo_seconds=opts.rpo_seconds,
                               rto_seconds=opts.rto_seconds, replica_lag=None,
                               record_ttl=self.record_ttl, origin_port=port)
        self.config = estate.config
        traffic.name_regional_endpoints(self, APP_ADDRESSES, RECORD_TTL_SECONDS)
        if opts.traffic == ROUTING_CONTROLS:
            self.arc = traffic.use_routing_controls(self)
        if self.data_plane_note is None:
            self._start_data_plane()
        self._stack.append(fidelity.on_rds(lambda event: follow.rds_event(self, event)))
        self.edge = Edge(opts.timing, edge_address=EDGE_ADDRESS).start()
        self._stack.append(self.edge.stop)
        if self.pair is not None:
            self._start_writer()
        # The apps run the ECS model's tasks: those running now read their parameter now.
        self._stack.append(fidelity.on_task(self._task))
        assert self.edge.cdn is not None
        self.config["health"] = traffic.health_checks(self, port, self.edge.cdn.port,
                                                      HEALTH_TIMEOUT_S, REGION_KEY)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        fidelity.set_profile(opts.timing)
        self._spawn(lambda: follow.publish_lag(self), "lab-replica-lag")
        log.info("lab.up", config=str(self.config_path), endpoint=self.front.url,
                 dns=self.edge.nameserver, data_plane=self.pair is not None)

    def _decide_data_plane(self) -> None:
        from dr.lab import postgres

        reason = None if self.options.data_plane else "--no-data-plane given"
        reason = reason or postgres.unavailable_reason()
        if reason:
            self.data_plane_note = f"no real data plane ({reason}): RPO from replica lag"

    def _start_data_plane(self) -> None:
        from dr.lab.replication import PostgresPair

        self.pair = PostgresPair(wan_delay=self.options.wan_delay)
        self._stack.append(self.pair.stop)
        self.pair.start()
        if self.options.db_clock_offset:
            self.pair.set_clock_offset(self.options.db_clock_offset)
        db = self.config["databases"][0]
        db["heartbeat"] = {"table": HEARTBEAT_TABLE, "dsn": {
            "primary": self.pair.primary_dsn, "secondary": self.pair.standby_dsn}}
        # A switchover waits for the replica's catch-up, about the WAN delay, after the
        # fence takes effect (30 s modelled, scaled): fail well before a person would.
        db["switchover_timeout_seconds"] = round(15 + 3 * self.options.wan_delay, 1)

    def _start_writer(self) -> None:
        from dr.lab.writer import Writer

        self.writer = Writer(lambda: follow.writer_target(self), heartbeat_table=HEARTBEAT_TABLE)
        self._stack.append(self.writer.stop)
        self.writer.start()

    def _db_host(self, region: str) -> str | None:
        name = self.config["parameters"][0]["name"]
        return str(self.client("ssm", region).get_parameter(Name=name)["Parameter"]["Value"])

    def _start_apps(self) -> int:
        """Both regions' apps on one port (a URL names one), each on its own address."""
        for _ in range(20):
            port = 0
            started: list[RegionalApp] = []
            try:
                for role, region in self.options.regions.items():
                    app = RegionalApp(region, lambda r=region: self._db_host(r), self._dsn,
                                      address=APP_ADDRESSES[role], port=port,
                                      writable=(lambda host: follow.writable(self, host))
                                      if self.data_plane_note else None)
                    app.start()
                    started.append(app)
                    port = app.port
            except OSError:  # that port is taken on the other address: another one
                for app in started:
                    app.stop()
                continue
            for role, app in zip(("primary", "secondary"), started, strict=True):
                self._stack.append(app.stop)
                self.apps[role] = app
            return port
        raise OSError("no port free on both apps' addresses")

    def _task(self, event: str, region: str, cluster: str, service: str, task: str) -> None:
        first = self.config["services"][0]
        role = self.options.role_of(region)
        if role is None or (cluster, service) != (first["cluster"], first["service"]):
            return
        if event == "running":
            self.apps[role].task_started(task)
        else:
            self.apps[role].task_leaving(task)

    def _dsn(self, db_host: str) -> str | None:
        """The endpoint of the instance `db_host` names (an instance's endpoint stays with
        its identifier: after a re-protection it leads to the new replica)."""
        if self.pair is None:
            return None
        param = self.config["parameters"][0]
        side = {param["primary"]: "primary", param["secondary"]: "secondary"}.get(db_host)
        return self.pair.dsn(side) if side else None

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

    def lose_region(self, role: str, *, with_global: bool = False) -> datetime:
        """The region's APIs hang (its routing control cluster endpoint too), its database
        dies, its app stops; `with_global`: and every request signed for it to a global
        service (Route 53, CloudFront, IAM, STS), which only us-east-1 homes (else a
        UsageError, before anything changes). Losing a lost region again changes nothing,
        but may add its global control planes."""
        region = self.options.regions[role]
        if with_global:
            traffic.require_global_home(region)
        assert self.front is not None
        self.front.outage(region, with_global=with_global)
        added_global = with_global and region not in self.lost_with_global
        if with_global:
            self.lost_with_global.add(region)
        if role in self.lost:
            if added_global:
                log.info("lab.region_lost", region=region, at=self.lost[role].isoformat(),
                         with_global=True)
            return self.lost[role]
        if self.arc is not None:
            self.arc.outage(region)
        self.apps[role].stop()
        self.incident_at = self.pair.lose(role) if self.pair is not None else datetime.now(UTC)
        self.lost[role] = self.incident_at
        log.info("lab.region_lost", region=region, at=self.incident_at.isoformat(),
                 with_global=with_global)
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
