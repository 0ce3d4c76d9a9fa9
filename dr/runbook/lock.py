"""One run at a time per app/environment.

Local: a lock file held with flock(2), in one directory for the whole host
(`$DR_LOCK_DIR`, default `<tmp>/dr-locks`), so two operators in two working directories of
one host exclude each other; two hosts need the DynamoDB lock. The kernel releases the lock
when its holder dies, so a SIGKILLed run never blocks the next one, and a held lock always
has a live holder: --force-unlock cannot take it (it would make two runs).

DynamoDB (`lock.dynamodb_table`): a conditional put of an item with the holder's run id, a
token of its own process, and a lease, renewed while the run lives. Another run may take it
only once the lease expired, or with --force-unlock naming the holder. A resume of the same
run id is no exception while its first process lives: on this host it may take the item
back once that process is dead; from another host only once the lease ended, or with
--force-unlock. A run whose lock was taken (a renewal refused) or not renewed for a whole
lease has lost it: `check()` then refuses, and the gateway asks it before every mutating
call, so a run that lost its lock stops before it changes anything more. It locks in the
destination region, and in the other region too where that region answers (an outage there
must not block a failover).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import structlog

from dr.aws.gateway import StepAws
from dr.errors import LockHeld, LockLost, RegionUnavailable

log = structlog.get_logger("dr.lock")


class RunLock(Protocol):
    def acquire(self) -> None: ...
    def release(self) -> None: ...
    def check(self) -> None: ...


def local_lock_dir() -> Path:
    return Path(os.environ.get("DR_LOCK_DIR") or Path(tempfile.gettempdir()) / "dr-locks")


def _shared_directory(path: Path) -> None:
    """Every operator of the host must be able to lock files here (sticky, like /tmp)."""
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PermissionError):
            path.chmod(0o1777)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalLock:
    def __init__(self, directory: Path, key: str, run_id: str, force_unlock: str | None) -> None:
        self.path = directory / (key.replace("/", "__") + ".lock")
        self.key = key
        self.run_id = run_id
        self.force_unlock = force_unlock
        self._fd: int | None = None

    def acquire(self) -> None:
        _shared_directory(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            forced = self.force_unlock and holder.get("run_id") == self.force_unlock
            raise LockHeld(self.key, holder.get("run_id", "unknown"),
                           f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
                           + (", and it is alive: a local lock is only ever held by a live "
                              "run, so --force-unlock cannot take it" if forced else "")
                           ) from None
        with contextlib.suppress(PermissionError):
            os.fchmod(fd, 0o666)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"run_id": self.run_id, "pid": os.getpid(),
                                 "host": socket.gethostname()}).encode())
        os.fsync(fd)
        self._fd = fd

    def check(self) -> None:
        """A lock held with flock cannot be taken from a live holder: never lost."""

    @staticmethod
    def _holder(fd: int) -> dict[str, Any]:
        try:
            return json.loads(os.pread(fd, 4096, 0) or b"{}")
        except json.JSONDecodeError:
            return {}

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class DynamoLock:
    def __init__(self, aws: StepAws, table: str, key: str, run_id: str, *, regions: list[str],
                 required_region: str, lease_seconds: int, force_unlock: str | None,
                 on_lost: Callable[[str], None] | None = None) -> None:
        self.aws = aws
        self.table = table
        self.key = key
        self.run_id = run_id
        self.regions = regions
        self.required_region = required_region
        self.lease_seconds = lease_seconds
        self.force_unlock = force_unlock
        self.held: list[str] = []
        self.skipped: dict[str, str] = {}
        self._hash_key: dict[str, str] = {}
        self._range_key: dict[str, str | None] = {}
        self.token = secrets.token_hex(8)
        self.on_lost = on_lost
        self.lost: str | None = None
        self._valid_until = 0.0  # end of the lease in the required region, as last renewed
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _key_attribute(self, region: str) -> str:
        if region not in self._hash_key:
            table = self.aws.call("dynamodb", region, "describe_table", TableName=self.table)
            schema = table["Table"]["KeySchema"]
            self._hash_key[region] = next(k["AttributeName"] for k in schema
                                          if k["KeyType"] == "HASH")
            # A table with a range key too (the shared journal's, standing in for a lock
            # table): the lock is its item with range key 0.
            self._range_key[region] = next((k["AttributeName"] for k in schema
                                            if k["KeyType"] == "RANGE"), None)
        return self._hash_key[region]

    def _key(self, region: str) -> dict[str, Any]:
        key: dict[str, Any] = {self._key_attribute(region): {"S": f"dr/{self.key}"}}
        if self._range_key[region]:
            key[str(self._range_key[region])] = {"N": "0"}
        return key

    def acquire(self) -> None:
        try:
            for region in self.regions:
                try:
                    self._put(region)
                except RegionUnavailable as exc:
                    if region == self.required_region:
                        raise
                    self.skipped[region] = exc.reason
                    log.warning("lock.region_skipped", region=region, reason=exc.reason)
        except BaseException:
            self.release()
            raise
        self._renewer = threading.Thread(target=self._renew, name="dr-lock-renew", daemon=True)
        self._renewer.start()

    def _put(self, region: str) -> None:
        from botocore.exceptions import ClientError

        now = int(time.time())
        condition = "attribute_not_exists(#k) OR expires_at < :now"
        values: dict[str, Any] = {":now": {"N": str(now)}}
        if self.force_unlock:
            condition += " OR holder = :forced"
            values[":forced"] = {"S": self.force_unlock}
        try:
            self._write(region, now, condition, values)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            found = self._item(region)
            if not self._own_dead_predecessor(found):
                holder = found.get("holder", {}).get("S", "unknown")
                expires = int(found.get("expires_at", {}).get("N", "0"))
                alive = (" (that run is alive on this host)"
                         if holder == self.run_id else "")
                raise LockHeld(self.key, holder,
                               f"DynamoDB {self.table} in {region}, lease ends in "
                               f"{max(0, expires - now)}s{alive}") from None
            # This run's own earlier process, dead on this host: take its item back, only
            # if nobody else has taken it meanwhile.
            try:
                self._write(region, now, "#t = :seen", {":seen": found["token"]})
            except ClientError as again:
                if again.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
                raise LockHeld(self.key, "unknown", f"DynamoDB {self.table} in {region}: "
                               "taken while this run took it back") from None
        self.held.append(region)
        if region == self.required_region:
            self._valid_until = time.monotonic() + self.lease_seconds

    def _write(self, region: str, now: int, condition: str, values: dict[str, Any]) -> None:
        attr = self._key_attribute(region)
        self.aws.call(
            "dynamodb", region, "put_item", TableName=self.table,
            Item={**self._key(region), "holder": {"S": self.run_id},
                  "token": {"S": self.token}, "expires_at": {"N": str(now + self.lease_seconds)},
                  "host": {"S": socket.gethostname()}, "pid": {"N": str(os.getpid())}},
            ConditionExpression=condition, ExpressionAttributeNames={
                name: value for name, value in (("#k", attr), ("#t", "token"))
                if name in condition},
            ExpressionAttributeValues=values)

    def _item(self, region: str) -> dict[str, Any]:
        item = self.aws.call("dynamodb", region, "get_item", TableName=self.table,
                             Key=self._key(region), ConsistentRead=True)
        return dict(item.get("Item", {}))

    def _own_dead_predecessor(self, found: dict[str, Any]) -> bool:
        """The item is this run's, left by a process of this host that is no longer alive."""
        return (found.get("holder", {}).get("S") == self.run_id and "token" in found
                and found.get("host", {}).get("S") == socket.gethostname()
                and not _alive(int(found.get("pid", {}).get("N", "0"))))

    def _renew(self) -> None:
        from botocore.exceptions import ClientError

        while not self._stop.wait(self.lease_seconds / 3):
            for region in list(self.held):
                renewed_at = time.monotonic()
                try:
                    self.aws.call(
                        "dynamodb", region, "update_item", TableName=self.table,
                        Key=self._key(region),
                        UpdateExpression="SET expires_at = :e",
                        ConditionExpression="holder = :me AND #t = :token",
                        ExpressionAttributeNames={"#t": "token"},
                        ExpressionAttributeValues={
                            ":e": {"N": str(int(time.time()) + self.lease_seconds)},
                            ":me": {"S": self.run_id}, ":token": {"S": self.token}})
                except ClientError as exc:
                    if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                        self.held.remove(region)
                        self._lose(f"another run took the lock in {region}")
                        continue
                    log.warning("lock.renew_failed", region=region, error=str(exc))
                except Exception as exc:  # noqa: BLE001 - renewal is retried next period
                    log.warning("lock.renew_failed", region=region, error=str(exc))
                else:
                    if region == self.required_region:
                        self._valid_until = renewed_at + self.lease_seconds
            if self.required_region in self.held and time.monotonic() > self._valid_until:
                self._lose(f"not renewed in {self.required_region} for a whole lease "
                           f"({self.lease_seconds}s)")

    def _lose(self, reason: str) -> None:
        if self.lost is None:
            self.lost = reason
            log.error("lock.lost", key=self.key, reason=reason)
            if self.on_lost:
                self.on_lost(f"lock lost: {reason}")

    def check(self) -> None:
        """Raise `LockLost` once the lock is no longer this run's."""
        if self.lost is None and self.held and time.monotonic() > self._valid_until:
            self._lose(f"not renewed in {self.required_region} for a whole lease")
        if self.lost is not None:
            raise LockLost(self.key, self.lost)

    def release(self) -> None:
        self._stop.set()
        for region in list(self.held):
            try:
                self.aws.call("dynamodb", region, "delete_item", TableName=self.table,
                              Key=self._key(region),
                              ConditionExpression="holder = :me AND #t = :token",
                              ExpressionAttributeNames={"#t": "token"},
                              ExpressionAttributeValues={":me": {"S": self.run_id},
                                                         ":token": {"S": self.token}})
            except Exception as exc:  # noqa: BLE001 - the lease expires on its own
                log.warning("lock.release_failed", region=region, error=str(exc))
            self.held.remove(region)
