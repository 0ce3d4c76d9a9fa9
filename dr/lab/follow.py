"""How the lab's data plane follows its control plane (the emulator), so that what `dr` does
to the emulated estate happens to the real databases and their clients too:

- `rds_event`: the fidelity layer's RDS hooks (`fidelity.on_rds`). A promotion promotes the
  side's PostgreSQL; a security-group change to dr's fence group alone closes the side's
  endpoint to new connections (open ones stay, as on AWS); a reboot ends every session; a new
  replica under a side's identifier is a new standby of the other side, from a base backup,
  behind the WAN delay (replication.py);
- `writer_target`: where the application's writes go, read at every (re)connect;
- `publish_lag`: the standby's ReplicaLag in CloudWatch, as RDS publishes it;
- `writable`: without a real database, whether the emulated instance an app's `db_host`
  names would take its writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dr.lab import fidelity

if TYPE_CHECKING:
    from dr.lab.world import Lab


def _side(lab: Lab, region: str, identifier: str) -> str | None:
    role = lab.options.role_of(region)
    if role is None or lab.config["databases"][0][role] != identifier:
        return None
    return role


def rds_event(lab: Lab, event: fidelity.RdsEvent) -> None:
    """The data plane follows what dr did to the emulated instances. Identifiers other than
    the database's two (a retired instance) have nothing behind them any more."""
    from dr.steps.rds import FENCE_GROUP

    side = _side(lab, event.region, event.identifier)
    if side is None:
        return
    if event.kind == "security_groups":
        lab._fenced[side] = event.security_groups == (FENCE_GROUP,)
    elif event.kind == "replica_created":
        lab._fenced[side] = False  # created with its original groups
    if lab.pair is None:
        return
    if event.kind == "promoted":
        lab.pair.promote(side)
    elif event.kind == "security_groups":
        lab.pair.set_fenced(side, lab._fenced[side])
    elif event.kind == "rebooting":
        lab.pair.end_sessions(side)
    elif event.kind == "replica_created":
        lab.pair.rebuild(side)


def writer_target(lab: Lab) -> str | None:
    """The application's writes: they reach the region users are sent to (the public
    record, as the lab's DNS answers it now) and go to the database that region's `db_host`
    parameter names, read at every (re)connect as a starting task reads it. None while
    there is nowhere to write (the writer asks again)."""
    import dns.resolver

    from dr.lab.world import APP_ADDRESSES

    assert lab.edge is not None
    host, port = lab.edge.nameserver.rsplit(":", 1)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = [host], int(port), 1.0
    try:
        address = str(resolver.resolve(lab.config["dns"][0]["name"], "A",
                                       search=False)[0].address)
        role = {a: r for r, a in APP_ADDRESSES.items()}[address]
        db_host = lab._db_host(lab.options.regions[role])
    except Exception:  # noqa: BLE001 - DNS, SSM or an unknown address: nowhere for now
        return None
    return lab._dsn(db_host) if db_host else None


def publish_lag(lab: Lab) -> None:
    """The replica's ReplicaLag in CloudWatch, every period until the lab stops: the data
    plane's real lag, of whichever side is the standby now (RDS's formula for PostgreSQL:
    now() minus the last replayed commit's time), or without one, the WAN delay the lab models
    while the primary is not fenced (once a fence and a reboot end its writes,
    fidelity/cloudwatch.py publishes what RDS would)."""
    from dr.lab.world import LAG_PERIOD_SECONDS

    db = lab.config["databases"][0]
    clients = {role: lab.client("cloudwatch", region)
               for role, region in lab.options.regions.items()}
    while not lab._stop.wait(LAG_PERIOD_SECONDS):
        if lab.incident_at is not None:
            continue
        if lab.pair is not None:
            side = lab.pair.standby_side()
            try:
                lag = lab.pair.replication_lag_seconds()
            except Exception:  # noqa: BLE001 - a standby being rebuilt: next period
                continue
        else:
            side, lag = "secondary", lab.options.wan_delay
            if lab._fenced["primary"]:
                continue
        if side is None or lag is None:
            continue
        clients[side].put_metric_data(
            Namespace="AWS/RDS", MetricData=[{
                "MetricName": "ReplicaLag", "Value": float(lag), "Unit": "Seconds",
                "Timestamp": datetime.now(UTC),
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db[side]}]}])


def writable(lab: Lab, db_host: str) -> tuple[bool, str | None]:
    """Without a real database: the emulated instance `db_host` names takes writes when it
    is standalone and available, and its region has not been lost."""
    param, db = lab.config["parameters"][0], lab.config["databases"][0]
    role = {param["primary"]: "primary", param["secondary"]: "secondary"}.get(db_host)
    if role is None:
        return False, "db_host names no known database"
    if role in lab.lost:
        return False, "its region is lost"
    found = lab.client("rds", lab.options.regions[role]).describe_db_instances(
        DBInstanceIdentifier=db[role])["DBInstances"][0]
    if found.get("ReadReplicaSourceDBInstanceIdentifier"):
        return False, f"{db[role]} is a read replica"
    if found["DBInstanceStatus"] != "available":
        return False, f"{db[role]} is {found['DBInstanceStatus']}"
    return True, None
