"""The immutable, typed form of dr.yaml that the rest of `dr` reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

Role = Literal["primary", "secondary"]
ROLES: tuple[Role, Role] = ("primary", "secondary")

T = TypeVar("T")


def other(role: Role) -> Role:
    return "secondary" if role == "primary" else "primary"


@dataclass(frozen=True)
class Sided(Generic[T]):
    """The two regions' sides of one thing."""

    primary: T
    secondary: T

    def side(self, role: Role) -> T:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Regions:
    primary: str
    secondary: str

    def of(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Targets:
    rto_seconds: float
    rpo_seconds: float


@dataclass(frozen=True)
class Heartbeat:
    table: str
    secret: Sided[str] | None = None
    dsn: Sided[str] | None = None


@dataclass(frozen=True)
class Database:
    name: str
    primary: str
    secondary: str
    heartbeat: Heartbeat | None = None
    # A planned move (the old primary answers) waits this long for the replica to hold every
    # commit of the fenced old primary before it unfences it and fails.
    switchover_timeout_seconds: float = 300.0

    def side(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Cache:
    """An ElastiCache (Redis OSS / Valkey) global datastore: its name (the id suffix, which a
    re-created datastore keeps while its region prefix changes) and each region's member."""

    name: str
    global_group: str
    primary: str
    secondary: str

    def side(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class DnsRecord:
    zone_id: str
    name: str
    type: str
    ttl: int
    primary: str
    secondary: str
    # A failover pair driven by ARC routing controls (contract 1.1): the data plane moves it.
    routing_control: Sided[str] | None = None

    def side(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Distribution:
    distribution_id: str
    origin_id: str
    primary: str
    secondary: str

    def side(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Service:
    cluster: str
    service: str
    active_count: int
    standby_count: int
    min_running_fraction: float = 1.0


@dataclass(frozen=True)
class Parameter:
    name: str
    primary: str
    secondary: str

    def side(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class HealthCheck:
    name: str
    primary: str
    secondary: str
    expect_status: int = 200
    consecutive: int = 3
    interval_seconds: float = 0.5
    timeout_seconds: float = 2.0
    # The URL users call (through Route 53 and/or CloudFront), and the key of its JSON body
    # that names the region that served it (contract 1.1, "The user's path").
    public: str | None = None
    region_key: str | None = None

    def side(self, role: Role) -> str:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Notify:
    sns_topic_arn: Sided[str]


@dataclass(frozen=True)
class Lock:
    dynamodb_table: str
    lease_seconds: int = 120


@dataclass(frozen=True)
class JournalTable:
    """`journal:`: the DynamoDB table, in each region, that keeps a copy of every run's
    journal (hash key `run`, range key `seq`)."""

    dynamodb_table: str


@dataclass(frozen=True)
class Runner:
    """`runner:`: the ECS task (the game-day task definition) that runs `dr` in the recovery
    region for `dr failover --remote`; cluster and family have the same names in both."""

    cluster: str
    task_definition: str
    subnets: Sided[tuple[str, ...]]
    security_groups: Sided[tuple[str, ...]] | None = None
    container: str = "dr"


@dataclass(frozen=True)
class ClusterEndpoint:
    region: str
    url: str


@dataclass(frozen=True)
class Gameday:
    report_bucket: str | None = None
    stop_alarms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    app: str
    environment: str
    regions: Regions
    targets: Targets
    databases: tuple[Database, ...] = ()
    caches: tuple[Cache, ...] = ()
    dns: tuple[DnsRecord, ...] = ()
    cdn: tuple[Distribution, ...] = ()
    services: tuple[Service, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    health: tuple[HealthCheck, ...] = ()
    notify: Notify | None = None
    lock: Lock | None = None
    gameday: Gameday | None = None
    routing_control_cluster: tuple[ClusterEndpoint, ...] = ()
    journal: JournalTable | None = None
    runner: Runner | None = None
    version: int = 1
    source: str = field(default="dr.yaml", compare=False)

    @property
    def lock_key(self) -> str:
        return f"{self.app}/{self.environment}"

    @property
    def production(self) -> bool:
        """An environment named prod or production: a rehearsal there needs --allow-prod."""
        return self.environment.lower() in ("prod", "production")
