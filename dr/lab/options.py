"""What a lab is made of: its timings, data plane, targets, regions and how traffic moves
(`dr lab drill` and `dr lab up` options), checked when made."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dr.aws.regions import known_regions
from dr.errors import UsageError
from dr.lab.estate import Shape
from dr.lab.timing import TimingProfile

# How a failover moves users: Route 53 record changes, or ARC routing controls (traffic.py).
RECORDS, ROUTING_CONTROLS = "records", "routing-controls"
TRAFFIC_MODES = (RECORDS, ROUTING_CONTROLS)

@dataclass(frozen=True)
class LabOptions:
    profile: str = "realistic"
    time_scale: float = 0.05
    wan_delay: float = 2.0
    data_plane: bool = True
    rpo_seconds: float = 60.0
    rto_seconds: float = 900.0
    state_dir: Path = Path(".dr") / "lab"
    # The database servers' clock set this far off (the heartbeat's server_at, the rows'
    # written_at), as on a host whose clock is wrong.
    db_clock_offset: float = 0.0
    # The estate's size; the data plane, the apps and the observer use its first database,
    # parameter and record (benchmarks build bigger estates with it).
    shape: Shape = field(default_factory=Shape)
    primary_region: str = "eu-west-1"
    secondary_region: str = "eu-central-1"
    traffic: str = RECORDS

    def __post_init__(self) -> None:
        unknown = [r for r in self.regions.values() if r not in known_regions()]
        if unknown:
            raise UsageError(f"lab regions: {unknown[0]} is not an AWS region")
        if self.primary_region == self.secondary_region:
            raise UsageError("lab regions: the primary and secondary regions must differ "
                             f"(both {self.primary_region})")
        if self.traffic not in TRAFFIC_MODES:
            raise UsageError(f"lab traffic: {self.traffic!r} is not one of "
                             f"{', '.join(TRAFFIC_MODES)}")

    @property
    def timing(self) -> TimingProfile:
        return TimingProfile(self.profile, self.time_scale)

    @property
    def regions(self) -> dict[str, str]:
        return {"primary": self.primary_region, "secondary": self.secondary_region}

    def role_of(self, region: str) -> str | None:
        return {r: role for role, r in self.regions.items()}.get(region)
