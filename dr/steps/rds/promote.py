"""rds.promote-replica: the cross-region replica becomes the writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.executor import describe as describe_error
from dr.runbook.steptype import Manual, Problem, register
from dr.steps.rds.common import (
    LAG_WINDOW,
    PROMOTABLE,
    STUCK,
    DatabaseStep,
    describe,
    fenced_from,
    newest_retired,
    source_of,
    unfence,
)


@register
class PromoteReplica(DatabaseStep):
    name = "rds.promote-replica"
    action = "promote"
    acts_in = "to"
    typical_seconds = 300.0
    timeout_seconds = 1800.0
    iam_actions = ("rds:DescribeDBInstances", "rds:PromoteReadReplica",
                   "rds:ListTagsForResource", "rds:ModifyDBInstance",
                   "rds:RemoveTagsFromResource", "cloudwatch:GetMetricStatistics",
                   "secretsmanager:GetSecretValue")
    summary = ("Promote the cross-region read replica to a standalone, writable instance "
               "(keeping its backup retention) and wait until it is available.")
    why = ("After the old primary is fenced, and before the application's parameters point "
           "at it. Databases promote in parallel. Readiness checks the replica's ReplicaLag "
           "against the RPO target first.")
    manual = Manual(
        procedure="""```bash
# ReplicaLag (seconds), the highest of each minute over the last 5: above the RPO target,
# promoting now loses more than the target allows (the incident commander decides).
aws cloudwatch get-metric-statistics --region {region} --namespace AWS/RDS \\
  --metric-name ReplicaLag --dimensions Name=DBInstanceIdentifier,Value={identifier} \\
  --start-time $(( $(date +%s) - 300 )) --end-time $(( $(date +%s) + 60 )) --period 60 \\
  --statistics Maximum --query 'max(Datapoints[].Maximum)' --output text
# A change under way (an earlier promotion among them) ends first.
aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
INFO=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].[ReadReplicaSourceDBInstanceIdentifier,BackupRetentionPeriod]' \\
  --output text)
read -r SOURCE RETENTION <<<"$INFO"
if [ "$SOURCE" = None ]; then
  echo "{identifier} is standalone already: nothing to promote"
elif [ "$RETENTION" -gt 0 ]; then  # keep the replica's backup retention
  aws rds promote-read-replica --region {region} --db-instance-identifier {identifier} \\
    --backup-retention-period "$RETENTION" --query DBInstance.DBInstanceStatus --output text
else  # 0 would turn automated backups off: RDS's default (1 day) instead
  aws rds promote-read-replica --region {region} --db-instance-identifier {identifier} \\
    --query DBInstance.DBInstanceStatus --output text
fi
aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
```""",
        verify="""```bash
INFO=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].[DBInstanceStatus,ReadReplicaSourceDBInstanceIdentifier]' \\
  --output text)
case "$INFO" in
  available*None) echo "ok: {identifier} is available and standalone (writable)" ;;
  *) echo "NOT YET: {identifier} is $INFO: wait, then verify again" >&2; false ;;
esac
```""",
        undo="""A promotion cannot be undone. To return, run `dr reprotect` (a new replica of
{identifier} in {from_region}) and then `dr failover --to {from_role}` (the failback).""")

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "from_role": self.direction.from_}

    def plan(self) -> str:
        return f"promote read replica {self.identifier} in {self.region} to a standalone primary"

    def check(self, ctx: StepContext) -> list[Problem]:
        resource = f"databases[{self.item.name}] {self.identifier} ({self.region})"
        instance = describe(ctx, self.region, self.identifier)
        if instance is None:
            retired = self._retired(ctx)
            if retired is None:
                return [Problem(resource, "replica not found")]
            # A failback cut short between retire and re-create: the data is under the name
            # it was retired to, fenced, and lacks what was written on the other side since.
            ctx.note(retired_instance=retired)
            return [Problem(resource, f"replica not found; {retired} was retired from it by "
                            "dr, a former primary that dr fenced: writes made in "
                            f"{self.direction.from_region} since then are not in it; "
                            "--accept-data-loss renames it back and makes it the writer",
                            data_loss=True)]
        source = source_of(instance)
        if source is None:
            if fenced_from(ctx.aws, self.region, instance) is None:
                ctx.note(already_promoted=True)
                return []
            # Not a replica but a writer that an earlier run fenced (a failback interrupted
            # before its re-protection): it lacks every write made on the other side since.
            ctx.note(fenced_former_primary=True)
            return [Problem(resource, "is not a replica but a former primary that dr fenced: "
                            f"writes made in {self.direction.from_region} since then are not "
                            "in it; --accept-data-loss makes it the writer again",
                            data_loss=True)]
        expected = self.item.side(self.direction.from_)
        problems = []
        if source != expected:
            problems.append(Problem(resource, f"is a replica of {source}, not of {expected}"))
        if instance["DBInstanceStatus"] != "available":
            problems.append(Problem(resource, f"status is {instance['DBInstanceStatus']}, "
                                              "not available"))
        lag = self._replica_lag(ctx)
        ctx.note(replica_lag_seconds=lag)
        if self.item.heartbeat:
            problems += self._heartbeat_readable(ctx, resource)
        target = ctx.config.targets.rpo_seconds
        if lag is not None and lag > target:
            problems.append(Problem(resource, f"replica lag {lag:.3g} s is above the RPO target "
                                              f"{target:g} s", data_loss=True))
        return problems

    def _retired(self, ctx: StepContext) -> str | None:
        """The newest instance dr retired from this one (`<id>-retired-...`), if any."""
        retired = newest_retired(ctx, self.region, self.identifier)
        return str(retired["DBInstanceIdentifier"]) if retired else None

    def _replica_lag(self, ctx: StepContext) -> float | None:
        now = datetime.now(UTC)
        points = ctx.aws.client("cloudwatch", self.region).get_metric_statistics(
            Namespace="AWS/RDS", MetricName="ReplicaLag",
            Dimensions=[{"Name": "DBInstanceIdentifier", "Value": self.identifier}],
            # The end reaches past now so that the current, partial minute is included.
            StartTime=now - LAG_WINDOW, EndTime=now + timedelta(minutes=1), Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        values = [p["Maximum"] for p in points if p.get("Maximum", -1) >= 0]
        return float(max(values)) if values else None

    def apply(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is None and ctx.detail.get("retired_instance"):
            # Only readiness sets this, and the run gets here only if the loss was accepted.
            instance = self._rename_back(ctx, ctx.detail["retired_instance"])
            if instance is None:  # a dry run: the rename back is an intention
                return
        if instance is None:
            raise StepError(f"{self.identifier} not found in {self.region}")
        if instance["DBInstanceStatus"] not in PROMOTABLE:
            # A promotion sent by a run that was then killed, or another change under way:
            # RDS refuses PromoteReadReplica until it ends, and afterwards the instance may
            # already be standalone.
            instance = self._settled(ctx, instance)
        if source_of(instance) is None:
            # Already writable; a fenced former primary (accepted at readiness) also gets its
            # security groups back, or the application could not reach it. Promoted by this
            # run's own earlier attempt (killed before it journaled), it is a change of this
            # run, not "already done": readiness's baseline tells which.
            restored = unfence(ctx.aws, self.region, instance)
            if restored:
                ctx.note(unfenced_to=restored)
            elif ctx.detail.get("already_promoted"):
                ctx.note(already_done=True)
            else:
                ctx.note(promoted_by_earlier_attempt=True)
        else:
            params: dict[str, Any] = {"DBInstanceIdentifier": self.identifier}
            if instance.get("BackupRetentionPeriod"):
                params["BackupRetentionPeriod"] = instance["BackupRetentionPeriod"]
            ctx.aws.client("rds", self.region).promote_read_replica(**params)
        ctx.wait(f"{self.identifier} available and standalone", lambda: self._promoted(ctx))
        if not ctx.dry_run and self.item.heartbeat:
            self._measure_heartbeat(ctx)

    def _settled(self, ctx: StepContext, instance: dict[str, Any]) -> dict[str, Any]:
        status = instance["DBInstanceStatus"]
        if status in STUCK:
            raise StepError(f"{self.identifier} in {self.region} is {status}: RDS will not "
                            "promote it until someone fixes that")
        ctx.note(waited_for_status=status)
        settled = ctx.wait(
            f"{self.identifier} to finish {status}",
            lambda: (found if (found := describe(ctx, self.region, self.identifier))
                     and (found["DBInstanceStatus"] in PROMOTABLE
                          or found["DBInstanceStatus"] in STUCK) else None))
        if settled is None:  # a dry run waits for nothing
            return instance
        if settled["DBInstanceStatus"] in STUCK:
            return self._settled(ctx, settled)
        return settled

    def _rename_back(self, ctx: StepContext, retired: str) -> dict[str, Any] | None:
        if describe(ctx, self.region, retired) is None:
            raise StepError(f"{self.identifier} not found in {self.region}, nor {retired}")
        ctx.aws.client("rds", self.region).modify_db_instance(
            DBInstanceIdentifier=retired, NewDBInstanceIdentifier=self.identifier,
            ApplyImmediately=True)
        ctx.note(renamed_back_from=retired)
        return ctx.wait(f"{retired} renamed back to {self.identifier}",
                        lambda: describe(ctx, self.region, self.identifier))

    def _promoted(self, ctx: StepContext) -> bool:
        instance = describe(ctx, self.region, self.identifier)
        return bool(instance and instance["DBInstanceStatus"] == "available"
                    and source_of(instance) is None)

    def _heartbeat_readable(self, ctx: StepContext, resource: str) -> list[Problem]:
        try:
            self._newest_heartbeat(ctx)
        except Exception as exc:  # noqa: BLE001 - reported, never blocking
            return [Problem(resource, f"its heartbeat cannot be read ({describe_error(exc)}): "
                            "RPO will be measured from ReplicaLag", warning=True)]
        return []

    def _measure_heartbeat(self, ctx: StepContext) -> None:
        """Measurement never stops a recovery: a heartbeat that cannot be read leaves a
        warning, and the RPO falls back to the replica's lag."""
        from dr.runbook.journal import iso

        try:
            newest = self._newest_heartbeat(ctx)
        except Exception as exc:  # noqa: BLE001 - any failure to measure is only a warning
            ctx.note(heartbeat_unreadable=describe_error(exc))
            ctx.log.warning("rpo.heartbeat_unreadable", error=describe_error(exc))
            return
        if newest is None:
            ctx.note(newest_heartbeat=None)
            return
        ctx.note(newest_heartbeat=iso(newest.writer_at),
                 newest_heartbeat_server_at=iso(newest.server_at),
                 database_clock_offset_seconds=newest.clock_offset_seconds)

    def _newest_heartbeat(self, ctx: StepContext) -> Any:
        from dr import heartbeat

        hb = self.item.heartbeat
        assert hb is not None
        dsn = heartbeat.dsn_for(ctx.aws, hb, self.direction.to, self.region)
        # Rows written after the incident (by a writer now pointed here) must not hide the loss.
        return heartbeat.newest(dsn, hb.table, before=ctx.run.incident_start)

    def verify(self, ctx: StepContext) -> None:
        if not self._promoted(ctx):
            raise VerifyFailed(f"{self.identifier} is not an available standalone instance")
