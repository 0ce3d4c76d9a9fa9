"""RPO from what the steps noted: a switchover's proof, else the heartbeat against each
fallback of the reference time (incident start, else the fence, else the promotion's start),
else the replica's lag. Inputs are step records as the executor journals them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dr.runbook.executor import StepRecord
from dr.runbook.journal import iso
from dr.runbook.measure import rpo

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return iso(T0 + timedelta(seconds=seconds)) or ""


def fence(db: str, finished: float, status: str = "succeeded", **detail: Any) -> StepRecord:
    return StepRecord(id=f"databases.{db}.fence", type="rds.fence-primary", region="r1",
                      status=status, started_at=at(finished - 1), finished_at=at(finished),
                      detail=detail)


def promote(db: str, started: float, **detail: Any) -> StepRecord:
    return StepRecord(id=f"databases.{db}.promote", type="rds.promote-replica", region="r2",
                      status="succeeded", started_at=at(started), finished_at=at(started + 30),
                      detail=detail)


def test_the_heartbeat_is_measured_from_the_incident_start_when_given() -> None:
    records = [fence("main", 10), promote("main", 12, newest_heartbeat=at(3))]
    found = rpo(records, 60, T0 + timedelta(seconds=5))
    assert found["method"] == "heartbeat"
    assert found["measured_seconds"] == 2.0
    assert found["databases"]["databases.main.promote"]["reference"] == "incident_start"


def test_without_an_incident_start_the_fence_is_the_reference() -> None:
    records = [fence("main", 10), promote("main", 12, newest_heartbeat=at(3))]
    found = rpo(records, 60, None)
    assert found["measured_seconds"] == 7.0
    assert found["databases"]["databases.main.promote"]["reference"] == "fenced_at"


def test_a_fence_that_was_skipped_or_already_done_is_no_reference() -> None:
    for skipped in (fence("main", 10, status="skipped"), fence("main", 10, already_done=True)):
        found = rpo([skipped, promote("main", 12, newest_heartbeat=at(3))], 60, None)
        assert found["measured_seconds"] == 9.0  # from the promotion's start
        assert found["databases"]["databases.main.promote"]["reference"] == \
            "promotion_started_at"


def test_rows_newer_than_the_reference_count_as_nothing_lost() -> None:
    found = rpo([promote("main", 12, newest_heartbeat=at(20))], 60, None)
    assert found["measured_seconds"] == 0.0


def test_the_database_clock_offset_is_reported_beside_the_heartbeat() -> None:
    records = [promote("main", 12, newest_heartbeat=at(3), database_clock_offset_seconds=5.0)]
    found = rpo(records, 60, T0 + timedelta(seconds=5))
    assert found["databases"]["databases.main.promote"]["database_clock_offset_seconds"] == 5.0
    assert found["measured_seconds"] == 2.0  # measured on the writer's clock, not the database's


def test_a_switchover_is_zero_and_says_how_it_was_proven() -> None:
    wal = {"proven_by": "wal_position", "final_lsn": "0/3000148"}
    records = [fence("main", 10, switchover=wal),
               promote("main", 12, newest_heartbeat=at(3))]
    found = rpo(records, 60, None)
    assert (found["method"], found["measured_seconds"], found["met"]) == ("switchover", 0.0, True)
    assert found["proven_by"] == "wal_position"
    assert found["databases"]["databases.main.promote"]["final_lsn"] == "0/3000148"


def test_the_weakest_proof_of_several_switchovers_is_the_runs() -> None:
    records = [fence("main", 10, switchover={"proven_by": "wal_position"}),
               fence("db1", 10, switchover={"proven_by": "replica_lag"}),
               promote("main", 12), promote("db1", 12)]
    assert rpo(records, 60, None)["proven_by"] == "replica_lag"


def test_a_failed_switchover_proves_nothing() -> None:
    records = [fence("main", 10, status="failed", switchover={"proven_by": "wal_position"}),
               promote("main", 12, replica_lag_seconds=4.0)]
    found = rpo(records, 60, None)
    assert (found["method"], found["measured_seconds"]) == ("replica_lag", 4.0)


def test_one_database_not_switched_over_makes_the_run_a_failover() -> None:
    records = [fence("main", 10, switchover={"proven_by": "wal_position"}),
               promote("main", 12), promote("db1", 12, newest_heartbeat=at(5))]
    found = rpo(records, 60, None)
    assert found["method"] == "heartbeat"
    assert found["measured_seconds"] == 5.0  # db1's, from the (run's last) fence
    assert "proven_by" not in found
