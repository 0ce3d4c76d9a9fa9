"""One run at a time per app/environment.

Local: a lock file held with flock(2). The kernel releases it when the holder dies, so a
SIGKILLed run never blocks the next one, and the file names the holder for the error.

DynamoDB (`lock.dynamodb_table`): a conditional put of an item with the holder's run id and
a lease, renewed while the run lives. Another run may take it only once the lease expired,
or with --force-unlock naming the holder. It locks in the destination region, and in the
other region too where that region answers (an outage there must not block a failover).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import structlog

from dr.aws.gateway import StepAws
from dr.errors import LockHeld, RegionUnavailable

log = structlog.get_logger("dr.lock")


class RunLock(Protocol):
    def acquire(self) -> None: ...
    def release(self) -> None: ...


class LocalLock:
    def __init__(self, directory: Path, key: str, run_id: str, force_unlock: str | None) -> None:
        self.path = directory / (key.replace("/", "__") + ".lock")
        self.key = key
        self.run_id = run_id
        self.force_unlock = force_unlock
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                os.close(fd)
                if self.force_unlock and holder.get("run_id") == self.force_unlock:
                    log.warning("lock.forced", key=self.key, holder=self.force_unlock)
                    self.path.unlink(missing_ok=True)
                    continue
                raise LockHeld(self.key, holder.get("run_id", "unknown"),
                               f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
                               ) from None
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"run_id": self.run_id, "pid": os.getpid(),
                                     "host": socket.gethostname()}).encode())
            os.fsync(fd)
            self._fd = fd
            return
        raise LockHeld(self.key, "unknown", "lock file changed while forcing it")

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
                 required_region: str, lease_seconds: int, force_unlock: str | None) -> None:
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
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _key_attribute(self, region: str) -> str:
        if region not in self._hash_key:
            table = self.aws.call("dynamodb", region, "describe_table", TableName=self.table)
            schema = table["Table"]["KeySchema"]
            self._hash_key[region] = next(k["AttributeName"] for k in schema
                                          if k["KeyType"] == "HASH")
        return self._hash_key[region]

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

        attr = self._key_attribute(region)
        now = int(time.time())
        condition = "attribute_not_exists(#k) OR expires_at < :now OR holder = :me"
        values: dict[str, Any] = {":now": {"N": str(now)}, ":me": {"S": self.run_id}}
        if self.force_unlock:
            condition += " OR holder = :forced"
            values[":forced"] = {"S": self.force_unlock}
        try:
            self.aws.call(
                "dynamodb", region, "put_item", TableName=self.table,
                Item={attr: {"S": f"dr/{self.key}"}, "holder": {"S": self.run_id},
                      "expires_at": {"N": str(now + self.lease_seconds)},
                      "host": {"S": socket.gethostname()}, "pid": {"N": str(os.getpid())}},
                ConditionExpression=condition, ExpressionAttributeNames={"#k": attr},
                ExpressionAttributeValues=values)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = self.aws.call("dynamodb", region, "get_item", TableName=self.table,
                                 Key={attr: {"S": f"dr/{self.key}"}}, ConsistentRead=True)
            found = item.get("Item", {})
            holder = found.get("holder", {}).get("S", "unknown")
            expires = int(found.get("expires_at", {}).get("N", "0"))
            raise LockHeld(self.key, holder,
                           f"DynamoDB {self.table} in {region}, lease ends in "
                           f"{max(0, expires - now)}s") from None
        self.held.append(region)

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            for region in list(self.held):
                try:
                    self.aws.call(
                        "dynamodb", region, "update_item", TableName=self.table,
                        Key={self._key_attribute(region): {"S": f"dr/{self.key}"}},
                        UpdateExpression="SET expires_at = :e",
                        ConditionExpression="holder = :me",
                        ExpressionAttributeValues={
                            ":e": {"N": str(int(time.time()) + self.lease_seconds)},
                            ":me": {"S": self.run_id}})
                except Exception as exc:  # noqa: BLE001 - renewal is retried next period
                    log.warning("lock.renew_failed", region=region, error=str(exc))

    def release(self) -> None:
        self._stop.set()
        for region in list(self.held):
            try:
                self.aws.call("dynamodb", region, "delete_item", TableName=self.table,
                              Key={self._key_attribute(region): {"S": f"dr/{self.key}"}},
                              ConditionExpression="holder = :me",
                              ExpressionAttributeValues={":me": {"S": self.run_id}})
            except Exception as exc:  # noqa: BLE001 - the lease expires on its own
                log.warning("lock.release_failed", region=region, error=str(exc))
            self.held.remove(region)
