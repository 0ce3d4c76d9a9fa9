"""`dr heartbeat`: one writer thread per configured database, until stopped."""

from __future__ import annotations

import threading
import time

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from dr import heartbeat
from dr.aws.gateway import CallLog, Gateway
from dr.config.model import Config, Database, Role
from dr.errors import DrError, UsageError
from dr.runbook.interrupt import handled

SECRET_TIMEOUT_SECONDS = 30.0


def run_heartbeats(config: Config, side: Role, names: tuple[str, ...], interval: float,
                   duration: float | None) -> dict[str, int]:
    chosen = [db for db in config.databases if db.heartbeat and (not names or db.name in names)]
    unknown = set(names) - {db.name for db in config.databases}
    if unknown:
        raise UsageError(f"--database: no databases[].name {', '.join(sorted(unknown))}")
    if not chosen:
        raise UsageError("no database has a heartbeat (databases[].heartbeat in dr.yaml)")
    # Every DSN before any writer starts: a secret that cannot be read is an error of the
    # command, not a writer thread that dies while the others run on.
    region = config.regions.of(side)
    aws = Gateway(dry_run=False, patient_regions=frozenset({region})).for_step(
        time.monotonic() + SECRET_TIMEOUT_SECONDS, CallLog())
    dsns = {}
    for db in chosen:
        assert db.heartbeat is not None
        try:
            dsns[db.name] = heartbeat.dsn_for(aws, db.heartbeat, side, region)
        except (BotoCoreError, ClientError, DrError) as exc:
            raise UsageError(f"databases[{db.name}].heartbeat: cannot read its {side} "
                             f"connection secret: {exc}") from exc
        try:
            heartbeat.redacted(dsns[db.name])
        except psycopg.Error as exc:
            # libpq may quote the password in its message; the CLI's streams scrub it.
            raise UsageError(f"databases[{db.name}].heartbeat: its {side} DSN is not a valid "
                             f"connection string: {exc}") from None
    stop = threading.Event()
    written: dict[str, int] = {}

    def write(db: Database) -> None:
        assert db.heartbeat is not None
        written[db.name] = heartbeat.write_forever(dsns[db.name], db.heartbeat.table,
                                                   interval, stop)

    threads = [threading.Thread(target=write, args=(db,), name=f"heartbeat-{db.name}")
               for db in chosen]
    # Ctrl-C and SIGTERM only set the stop: an exception could be swallowed by a finalizer.
    with handled(lambda *_: stop.set()):
        for thread in threads:
            thread.start()
        stop.wait(duration)
        stop.set()
        for thread in threads:
            thread.join()
    return written
