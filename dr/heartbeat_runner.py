"""`dr heartbeat`: one writer thread per configured database, until stopped."""

from __future__ import annotations

import json
import signal
import threading
import time

from dr import heartbeat
from dr.aws.gateway import CallLog, Gateway
from dr.config.model import Config, Database, Role
from dr.errors import UsageError

SECRET_TIMEOUT_SECONDS = 30.0


def _dsn(config: Config, db: Database, side: Role) -> str:
    assert db.heartbeat is not None
    if db.heartbeat.dsn:
        return db.heartbeat.dsn.side(side)
    assert db.heartbeat.secret is not None
    arn = db.heartbeat.secret.side(side)
    region = config.regions.of(side)
    aws = Gateway(dry_run=False, patient_regions=frozenset({region})).for_step(
        time.monotonic() + SECRET_TIMEOUT_SECONDS, CallLog())
    secret = aws.client("secretsmanager", region).get_secret_value(SecretId=arn)
    return heartbeat.dsn_from_secret(json.loads(secret["SecretString"]))


def run_heartbeats(config: Config, side: Role, names: tuple[str, ...], interval: float,
                   duration: float | None) -> dict[str, int]:
    chosen = [db for db in config.databases if db.heartbeat and (not names or db.name in names)]
    unknown = set(names) - {db.name for db in config.databases}
    if unknown:
        raise UsageError(f"--database: no databases[].name {', '.join(sorted(unknown))}")
    if not chosen:
        raise UsageError("no database has a heartbeat (databases[].heartbeat in dr.yaml)")
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    written: dict[str, int] = {}

    def write(db: Database) -> None:
        assert db.heartbeat is not None
        written[db.name] = heartbeat.write_forever(_dsn(config, db, side), db.heartbeat.table,
                                                   interval, stop)

    threads = [threading.Thread(target=write, args=(db,), name=f"heartbeat-{db.name}")
               for db in chosen]
    for thread in threads:
        thread.start()
    try:
        stop.wait(duration)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        signal.signal(signal.SIGTERM, previous)
    return written
