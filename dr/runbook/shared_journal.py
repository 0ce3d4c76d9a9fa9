"""A run's journal beside the local file, in a DynamoDB table in each region (`journal:` in
dr.yaml), so that the run outlives the machine that started it: another operator, on
another machine, resumes it from there.

Each record is one item, `run` = `dr/APP/ENV/RUN_ID` (hash key) and `seq` = its number in
the run (range key), put with `attribute_not_exists(seq)`: two processes can never both
write record N of one run, so a second writer (a resume beside a run that is still alive,
somewhere) is refused at its first record instead of interleaving. Every record is put in
the recovery region's table before `append` returns, so before the step it announces acts;
the other region's copy is best effort (that region may be the one lost). A replay reads
the recovery region's copy, or the other region's when it does not answer, and stops at the
first gap (a record whose writer died between two puts).
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from dr.aws.gateway import StepAws
from dr.errors import DrError, RegionUnavailable

log = structlog.get_logger("dr.journal")

HASH_KEY, RANGE_KEY = "run", "seq"


class JournalConflict(DrError):
    """Another process writes this run's journal: this one stops before acting again."""


class JournalUnavailable(DrError):
    """The recovery region's journal table did not take a record."""


class SharedJournal:
    def __init__(self, aws: StepAws, table: str, key: str, run_id: str, *,
                 regions: list[str]) -> None:
        self.aws = aws
        self.table = table
        self.item_key = f"dr/{key}/{run_id}"
        self.required, *self.others = regions
        self.skipped: dict[str, str] = {}

    def put(self, seq: int, record: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        item = {HASH_KEY: {"S": self.item_key}, RANGE_KEY: {"N": str(seq)},
                "record": {"S": json.dumps(record, default=str, sort_keys=True)}}
        for region in [self.required, *self.others]:
            if region in self.skipped:
                continue
            try:
                self.aws.call("dynamodb", region, "put_item", TableName=self.table, Item=item,
                              ConditionExpression=f"attribute_not_exists({RANGE_KEY})")
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    if region == self.required:
                        raise JournalUnavailable(
                            f"the journal table {self.table} in {region} did not take record "
                            f"{seq}: {exc}") from exc
                    self._skip(region, str(exc))
                    continue
                raise JournalConflict(
                    f"record {seq} of {self.item_key} was already written in {region}: "
                    "another process is running this run",
                    hint="see `dr runs`; resume only once that process is gone") from None
            except RegionUnavailable as exc:
                if region == self.required:
                    raise JournalUnavailable(
                        f"the journal table {self.table} in {region} did not answer") from exc
                self._skip(region, exc.reason)

    def _skip(self, region: str, reason: str) -> None:
        self.skipped[region] = reason
        log.warning("journal.region_skipped", region=region, reason=reason)

    def records(self) -> list[dict[str, Any]]:
        """The run's records, from the first region that answers, up to the first gap."""
        last_error: Exception | None = None
        for region in [self.required, *self.others]:
            try:
                items = self.aws.paginate(
                    "dynamodb", region, "query", "Items", TableName=self.table,
                    KeyConditionExpression="#run = :run",
                    ExpressionAttributeNames={"#run": HASH_KEY},
                    ExpressionAttributeValues={":run": {"S": self.item_key}},
                    ConsistentRead=True)
            except RegionUnavailable as exc:
                last_error = exc
                continue
            records = []
            for expected, item in enumerate(sorted(items, key=lambda i: int(i[RANGE_KEY]["N"])),
                                            start=1):
                if int(item[RANGE_KEY]["N"]) != expected:
                    break
                records.append(json.loads(item["record"]["S"]))
            return records
        raise JournalUnavailable(f"no region's journal table {self.table} answered: "
                                 f"{last_error}")
