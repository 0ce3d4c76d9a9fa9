"""The switchover inside rds.fence-primary: a planned move loses nothing (contract 1.1).

While the old primary answers, its fence is followed by proof that the replica holds every
commit the old primary ever acknowledged, before the promotion may start:

- With a heartbeat connection configured for the database (the WAL proof), dr opens a session
  to the old primary *before* its security groups are swapped: on AWS a security-group change
  does not cut connections that are already open, so this session survives the fence (and so
  do the application's: that is why they must be ended). Once the fence is in effect, dr ends
  every other client session through it (`pg_terminate_backend` of client backends only, never
  the walsender that feeds the replica, nor RDS's own `rdsadmin` sessions), commits an empty
  transaction synchronously (which flushes every commit before it) and reads the flushed WAL
  position: no client can commit after it. The position goes into an RDS tag beside the fence
  tag (a resumed run can no longer reach the fenced primary), and the step waits until the
  replica's `pg_last_wal_replay_lsn()`, read through the replica side's heartbeat connection,
  reaches it.
- Without one, or when that session cannot end the others (the heartbeat user needs
  `pg_signal_backend` for that), the weaker check AWS documents before a promotion: stop the
  writes and "use the Replica Lag metric to determine when all updates have been made to the
  read replica" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Promote.html).
  RebootDBInstance ends every session once the fence is in effect (the moment dr asks for it,
  and then the moment it ended, go into tags: a resumed run reads from them whether the reboot
  was sent, and from the instance's status or its RDS event whether it happened, and never
  reboots twice), then dr waits for a ReplicaLag datapoint dated after that moment that is 0 for
  its whole period. Labelled `replica_lag` in the report: on PostgreSQL RDS computes the metric
  from the replica's last replayed commit, so it proves less than the WAL position does.

Not proven within `databases[].switchover_timeout_seconds` (from the fence on): the old primary
is unfenced, so it serves its clients again, and the step fails with `SwitchoverFailed`; the
runner rolls back what the phase changed beside it (parameters, scale-up).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from dr import heartbeat
from dr.errors import DeadlineExceeded, RegionUnavailable, SwitchoverFailed
from dr.runbook.context import StepContext
from dr.runbook.executor import describe as describe_error
from dr.runbook.journal import iso, parse_iso, utcnow
from dr.runbook.waiting import Aborted
from dr.steps.rds.common import (
    FINAL_LSN_TAG,
    REBOOT_ASKED_TAG,
    SESSIONS_ENDED_TAG,
    DatabaseStep,
    describe,
    tags_of,
    unfence,
)

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")

CONNECT_TIMEOUT_S = 2
# Client sessions other than dr's own; RDS's own (rdsadmin) are not the application's, and a
# customer cannot end them.
_OTHERS = ("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
           "AND pid <> pg_backend_pid() AND usename IS DISTINCT FROM 'rdsadmin'")
_END_OTHERS = f"SELECT pid, pg_terminate_backend(pid) FROM ({_OTHERS}) AS others"
_ENDING_POLL_S = 0.05
# RDS publishes its metrics once a minute: a datapoint covers that period.
LAG_PERIOD_S = 60

WAL = "wal_position"
REPLICA_LAG = "replica_lag"


def open_session(step: DatabaseStep, ctx: StepContext) -> tuple[psycopg.Connection | None,
                                                                 str | None]:
    """A session to the old primary through its heartbeat connection, opened before the
    fence; or None and why there is none (the report says which proof was used, and why)."""
    hb = step.item.heartbeat
    if hb is None:
        return None, "no heartbeat connection is configured for this database"
    if ctx.dry_run:
        return None, None
    import psycopg

    try:
        dsn = heartbeat.dsn_for(ctx.aws, hb, step.direction.from_, step.region)
        return psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S), None
    except Exception as exc:  # noqa: BLE001 - no session: the weaker proof, said why
        return None, f"the heartbeat connection to the old primary failed: {describe_error(exc)}"


class Switchover:
    """The part of a fence that follows the security-group swap while the old primary
    answers. `run` ends with the proof noted on the step, or raises SwitchoverFailed."""

    def __init__(self, step: DatabaseStep, ctx: StepContext, instance: dict[str, Any],
                 fence_group: str, session: psycopg.Connection | None,
                 no_session: str | None) -> None:
        self.step = step
        self.ctx = ctx
        self.instance = instance
        self.fence_group = fence_group
        self.session = session
        self.no_session = no_session
        self.started = time.monotonic()
        # The switchover's own bound, from the fence on, never past the step's deadline.
        self.deadline = min(ctx.deadline, self.started + step.item.switchover_timeout_seconds)

    @property
    def identifier(self) -> str:
        return self.step.identifier

    @property
    def region(self) -> str:
        return self.step.region

    def run(self) -> None:
        ctx = self.ctx
        if ctx.dry_run:
            self._plan()
            return
        try:
            proof = self._prove()
        except Aborted:
            # Interrupted (a signal, a lost lock) or stopped: a resume finishes the proof
            # from the tags; the old primary stays fenced meanwhile.
            raise
        except RegionUnavailable:
            # Its region stopped answering halfway: an outage now, so a failover (the fence
            # is skipped as best effort, and the RPO is measured, not proven).
            raise
        except Exception as exc:  # noqa: BLE001 - any failure to prove gives the primary back
            self._give_up(describe_error(exc))
        finally:
            if self.session is not None:
                self.session.close()
        ctx.note(move="switchover", switchover=proof)

    def _plan(self) -> None:
        if self.step.item.heartbeat is not None:
            how = ("end every other session through the heartbeat connection, then wait until "
                   "the replica replays the old primary's final WAL position")
        else:
            self._tag(REBOOT_ASKED_TAG, iso(utcnow()) or "")
            self.ctx.aws.client("rds", self.region).reboot_db_instance(
                DBInstanceIdentifier=self.identifier)
            how = ("reboot it to end every session, then wait for ReplicaLag 0 after that "
                   "(no heartbeat connection: the weaker proof)")
        self.ctx.note(move="switchover", switchover_plan=how,
                      switchover_timeout_seconds=self.step.item.switchover_timeout_seconds)

    def _wait(self, what: str, probe: Callable[[], T | None]) -> T | None:
        return self.ctx.waiter.until(what, probe, self.deadline, self.ctx.step_id)

    def _prove(self) -> dict[str, Any]:
        self._wait(f"{self.identifier}: the fence in effect (only {self.fence_group}, "
                   "available)", self._fence_in_effect)
        in_effect = round(time.monotonic() - self.started, 3)
        tags = tags_of(self.ctx.aws, self.region, self.instance)
        if FINAL_LSN_TAG in tags:  # a resumed run: the sessions were ended then
            proof = self._wal_caught_up(tags[FINAL_LSN_TAG], ended=None)
        elif SESSIONS_ENDED_TAG in tags:
            proof = self._lag_zero_since(parse_iso(tags[SESSIONS_ENDED_TAG]))
        elif REBOOT_ASKED_TAG in tags:  # a resumed run that asked for the reboot
            proof = self._reboot_and_prove(asked=parse_iso(tags[REBOOT_ASKED_TAG]))
        else:
            proof = self._end_sessions_and_prove()
        return {"fence_in_effect_seconds": in_effect, **proof}

    def _fence_in_effect(self) -> bool:
        return self._groups_in_effect([self.fence_group])

    def _groups_in_effect(self, wanted: list[str]) -> bool:
        found = describe(self.ctx, self.region, self.identifier)
        if found is None or found["DBInstanceStatus"] != "available":
            return False
        groups = found.get("VpcSecurityGroups", [])
        return [g["VpcSecurityGroupId"] for g in groups] == wanted and all(
            g.get("Status", "active") == "active" for g in groups)

    def _end_sessions_and_prove(self) -> dict[str, Any]:
        import psycopg

        why = self.no_session
        if self.session is not None:
            try:
                ended = self._end_others(self.session)
                lsn = self._final_lsn(self.session)
            except psycopg.Error as exc:
                why = f"the heartbeat session could not end the others: {describe_error(exc)}"
            else:
                self._tag(FINAL_LSN_TAG, lsn)
                return self._wal_caught_up(lsn, ended=ended)
        return {**self._reboot_and_prove(), "why_not_wal_position": why}

    def _end_others(self, session: psycopg.Connection) -> int:
        """Ends every other client session; returns how many there were. Sessions cannot be
        opened any more (the fence is in effect), so the loop ends once those have exited."""
        ended: set[int] = set()
        while True:
            rows = session.execute(_END_OTHERS).fetchall()
            if not rows:
                return len(ended)
            ended.update(int(pid) for pid, _ in rows)
            if time.monotonic() >= self.deadline:
                raise TimeoutError(f"{len(rows)} session(s) still open on {self.identifier}")
            time.sleep(_ENDING_POLL_S)

    @staticmethod
    def _final_lsn(session: psycopg.Connection) -> str:
        """The flushed WAL position after an empty transaction committed synchronously: its
        commit flushed every commit before it, and no other session is left to commit."""
        with session.transaction():
            session.execute("SET LOCAL synchronous_commit = on")
            session.execute("SELECT txid_current()")
        row = session.execute("SELECT pg_current_wal_flush_lsn()::text").fetchone()
        assert row is not None
        return str(row[0])

    def _wal_caught_up(self, lsn: str, ended: int | None) -> dict[str, Any]:
        hb = self.step.item.heartbeat
        if hb is None:
            raise SwitchoverFailed(f"{self.identifier} carries {FINAL_LSN_TAG} but "
                                   "databases[].heartbeat is no longer configured")
        direction = self.step.direction
        replica = _Replica(heartbeat.dsn_for(self.ctx.aws, hb, direction.to,
                                             direction.to_region))
        waiting = time.monotonic()
        try:
            replayed = self._wait(
                f"the replica {self.step.item.side(direction.to)} to replay WAL up to {lsn}",
                lambda: replica.reached(lsn))
        except DeadlineExceeded as exc:
            replayed = replica.last or "nothing that could be read"
            raise DeadlineExceeded(f"{exc} (it had replayed up to {replayed})") from exc
        finally:
            replica.close()
        return {"proven_by": WAL, "final_lsn": lsn, "replica_replay_lsn": replayed,
                **({"sessions_ended": ended} if ended is not None else {}),
                "caught_up_seconds": round(time.monotonic() - waiting, 3)}

    def _reboot_and_prove(self, asked: datetime | None = None) -> dict[str, Any]:
        """RebootDBInstance ends every session, dr's included; the moment RDS shows it
        available again is after every session ended. `asked`: a resumed run had asked for
        the reboot then (the tag is written before the call), so it reboots only if that
        reboot never reached RDS."""
        restarted = None if asked is None else self._restarted_since(asked)
        if restarted is None:
            self._tag(REBOOT_ASKED_TAG, iso(utcnow()) or "")
            self.ctx.aws.client("rds", self.region).reboot_db_instance(
                DBInstanceIdentifier=self.identifier)
        self._wait(f"{self.identifier} rebooted (every session ended)", self._fence_in_effect)
        ended = restarted if isinstance(restarted, datetime) else utcnow()
        self._tag(SESSIONS_ENDED_TAG, iso(ended) or "")
        return self._lag_zero_since(ended)

    def _restarted_since(self, asked: datetime) -> datetime | bool | None:
        """Whether the reboot asked for at `asked` happened: the moment it ended (RDS's
        RDS-EVENT-0006 "DB instance restarted", availability), True while the instance is
        still `rebooting`, None when neither shows it (the call never reached RDS).
        https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html"""
        found = describe(self.ctx, self.region, self.identifier)
        if found is not None and found["DBInstanceStatus"] == "rebooting":
            return True
        events = self.ctx.aws.client("rds", self.region).describe_events(
            SourceType="db-instance", SourceIdentifier=self.identifier, StartTime=asked,
            EventCategories=["availability"])["Events"]
        restarts = sorted(e["Date"] for e in events
                          if e["Date"] >= asked and "restarted" in e["Message"].lower())
        return restarts[0] if restarts else None

    def _lag_zero_since(self, ended: datetime) -> dict[str, Any]:
        replica = self.step.item.side(self.step.direction.to)
        waiting = time.monotonic()
        point = self._wait(f"ReplicaLag of {replica} at 0 for a whole period after "
                           f"{iso(ended)}", lambda: self._zero_after(replica, ended))
        return {"proven_by": REPLICA_LAG, "sessions_ended_at": iso(ended),
                "replica_lag_zero_period": point,
                "caught_up_seconds": round(time.monotonic() - waiting, 3)}

    def _zero_after(self, replica: str, ended: datetime) -> dict[str, Any] | None:
        """A ReplicaLag datapoint that starts at or after `ended` and is 0 throughout (its
        minimum and maximum): the replica had applied everything for that whole period, and
        nothing can have been committed since the sessions ended. -1 (replication not
        active) is no proof. Asked from the next whole second: CloudWatch keeps StartTime to
        whole seconds, and a datapoint from before `ended` in the same second would open the
        first period before it."""
        now = datetime.now(UTC)
        since = ended.replace(microsecond=0) + timedelta(seconds=1 if ended.microsecond else 0)
        points = self.ctx.aws.client("cloudwatch", self.step.direction.to_region) \
            .get_metric_statistics(
                Namespace="AWS/RDS", MetricName="ReplicaLag",
                Dimensions=[{"Name": "DBInstanceIdentifier", "Value": replica}],
                StartTime=since, EndTime=now + timedelta(seconds=LAG_PERIOD_S),
                Period=LAG_PERIOD_S, Statistics=["Minimum", "Maximum"])["Datapoints"]
        zero = sorted((p for p in points if p["Timestamp"] >= ended
                       and p.get("Minimum", -1) >= 0 and p.get("Maximum", -1) <= 0),
                      key=lambda p: p["Timestamp"])
        return {"starts_at": iso(zero[0]["Timestamp"]), "period_seconds": LAG_PERIOD_S} \
            if zero else None

    def _tag(self, key: str, value: str) -> None:
        self.ctx.aws.client("rds", self.region).add_tags_to_resource(
            ResourceName=self.instance["DBInstanceArn"], Tags=[{"Key": key, "Value": value}])

    def _give_up(self, reason: str) -> None:
        self.ctx.note(move="switchover", switchover_failed=reason, roll_back_phase=True)
        try:
            current = describe(self.ctx, self.region, self.identifier)
            restored = unfence(self.ctx.aws, self.region, current) if current else None
        except Exception as exc:  # noqa: BLE001 - said in the error: it stays fenced
            self.ctx.note(unfence_failed=describe_error(exc))
            raise SwitchoverFailed(
                f"switchover of {self.identifier} not proven ({reason}), and it could not be "
                f"unfenced ({describe_error(exc)}): it is still fenced (see the Undo of "
                "rds.fence-primary)") from exc
        self.ctx.note(unfenced_to=restored)
        if restored:
            # Its groups take effect as the modification ends: "serves again" once they do.
            self.ctx.wait(f"{self.identifier}: its groups {restored} in effect",
                          lambda: self._groups_in_effect(restored))
        raise SwitchoverFailed(
            f"switchover of {self.identifier} not proven within "
            f"{self.step.item.switchover_timeout_seconds:g} s ({reason}); it was unfenced and "
            "serves its clients again")


class _Replica:
    """The replica side's heartbeat connection, kept across polls and opened again after a
    failure (the replica may restart while it catches up)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.conn: psycopg.Connection | None = None
        self.last: str | None = None

    def reached(self, lsn: str) -> str | None:
        """The replica's replay position once it is at or past `lsn`."""
        import psycopg

        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(self.dsn, autocommit=True,
                                            connect_timeout=CONNECT_TIMEOUT_S)
            row = self.conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn, pg_last_wal_replay_lsn()::text",
                (lsn,)).fetchone()
        except psycopg.Error:
            self.close()
            return None
        if row is None:
            return None
        self.last = row[1]
        return str(row[1]) if row[0] else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
