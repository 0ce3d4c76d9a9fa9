"""rds.retire-old-primary and rds.create-replica: after a failover, the fenced old primary
is retired and a replica of the new primary is built in its place."""

from __future__ import annotations

from typing import Any

from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, register
from dr.steps.rds.common import (
    ORIGIN_TAG,
    DatabaseStep,
    describe,
    fenced_from,
    newest_retired,
    retired_identifier,
    source_of,
)


@register
class RetireOldPrimary(DatabaseStep):
    name = "rds.retire-old-primary"
    action = "retire"
    acts_in = "from"
    typical_seconds = 120.0
    timeout_seconds = 1800.0
    recovery_path = False
    follow_up = ("run `dr reprotect` when {from_region} and {to_region} both answer, to make a "
                 "failback possible")
    iam_actions = ("rds:DescribeDBInstances", "rds:ModifyDBInstance")
    summary = ("Rename the fenced old primary (`-retired-` and the UTC time appended to its "
               "identifier) so its identifier is free for the new replica; it is kept "
               "(fenced) for forensics, not deleted.")
    why = ("First step of re-protection: the replica that makes a failback possible must "
           "carry the original identifier, which the old primary still holds.")
    manual = Manual(
        procedure="""```bash
# The new primary must answer (this fails if it does not): without it the replica could
# not be re-created, and {identifier} stays as it is.
aws rds describe-db-instances --region {to_region} --db-instance-identifier {replica} \\
  --query 'DBInstances[0].DBInstanceStatus' --output text
INFO=$(aws rds describe-db-instances --region {region} \\
  --filters Name=db-instance-id,Values={identifier} \\
  --query 'DBInstances[0].[DBInstanceIdentifier,ReadReplicaSourceDBInstanceIdentifier]' \\
  --output text)
read -r FOUND SOURCE <<<"$INFO"
RETIRED=
if [ "$FOUND" = None ]; then  # renamed already: the newest retired instance
  RETIRED=$(aws rds describe-db-instances --region {region} --output text --query \\
    "sort(DBInstances[?starts_with(DBInstanceIdentifier, '{identifier}-retired-')] \\
      .DBInstanceIdentifier) | [-1]")
  echo "{identifier} is renamed already (newest retired instance: $RETIRED)"
elif [[ "$SOURCE" == *":db:{replica}" ]]; then
  echo "{identifier} is the new replica of {replica} already: nothing to retire"
else
  RETIRED={identifier}-retired-$(date -u +%Y%m%d%H%M%S)
  aws rds modify-db-instance --region {region} --db-instance-identifier {identifier} \\
    --new-db-instance-identifier "$RETIRED" --apply-immediately \\
    --query DBInstance.DBInstanceStatus --output text
fi
# RDS frees the old name at once; the new one can take minutes to be found (meanwhile
# neither is: DBInstanceNotFound). None above: nothing found yet, run this block again later.
if [ -n "$RETIRED" ] && [ "$RETIRED" != None ]; then
  until aws rds describe-db-instances --region {region} --db-instance-identifier "$RETIRED" \\
      --query 'DBInstances[0].DBInstanceStatus' --output text; do
    echo "$RETIRED is not shown yet: waiting"; sleep 10
  done
fi
```""",
        verify="""```bash
INFO=$(aws rds describe-db-instances --region {region} \\
  --filters Name=db-instance-id,Values={identifier} \\
  --query 'DBInstances[0].[DBInstanceIdentifier,ReadReplicaSourceDBInstanceIdentifier]' \\
  --output text)
case "$INFO" in
  None|*":db:{replica}") echo "ok: {identifier} is free (or the new replica of {replica})" ;;
  *) echo "NOT YET: {identifier} still exists: $INFO" >&2; false ;;
esac
```""",
        undo="""```bash
RETIRED=$(aws rds describe-db-instances --region {region} --output text --query \\
  "sort(DBInstances[?starts_with(DBInstanceIdentifier, '{identifier}-retired-')] \\
    .DBInstanceIdentifier) | [-1]")
aws rds modify-db-instance --region {region} --db-instance-identifier "$RETIRED" \\
  --new-db-instance-identifier {identifier} --apply-immediately
```
Only while {identifier} is free: once the new replica holds the name, remove it first (the
undo of rds.create-replica).""")

    def plan(self) -> str:
        return f"rename the fenced old primary {self.identifier} in {self.region} to " \
               f"{self.identifier}-retired- followed by the run's start time"

    def apply(self, ctx: StepContext) -> None:
        """RDS frees the old name at once, but can take minutes to show the new one (the
        re-creation reads the retired instance): the step ends when the retired instance is
        found. An instance renamed by an earlier attempt is waited for the same way; one that
        is gone for good keeps the step waiting until its timeout."""
        current = describe(ctx, self.region, self.identifier)
        if current is not None and source_of(current) == self.item.side(self.direction.to):
            ctx.note(already_done=True, summary=f"{self.identifier} is already a replica")
            return
        if current is None:
            found = ctx.wait(f"an instance retired from {self.identifier} to be shown",
                             lambda: newest_retired(ctx, self.region, self.identifier))
            ctx.note(already_done=True,
                     retired_identifier=found["DBInstanceIdentifier"] if found else None)
            return
        retired = retired_identifier(self.identifier, ctx.run.run_id)
        ctx.note(retired_identifier=retired)
        self._require_new_primary(ctx)
        ctx.aws.client("rds", self.region).modify_db_instance(
            DBInstanceIdentifier=self.identifier, NewDBInstanceIdentifier=retired,
            ApplyImmediately=True)
        ctx.wait(f"{self.identifier} renamed to {retired} (the new name shown)",
                 lambda: describe(ctx, self.region, self.identifier) is None
                 and describe(ctx, self.region, retired) is not None)

    def _require_new_primary(self, ctx: StepContext) -> None:
        """Rename only while the new primary answers, so that the re-creation can follow: in
        a failback the instance retired here holds the latest data but one, and if the new
        primary's region were already lost, the next failover would find no replica under
        the configured name. When that region does not answer, the step stops here
        (RegionUnavailable) with nothing renamed."""
        source_id = self.item.side(self.direction.to)
        if describe(ctx, self.direction.to_region, source_id) is None:
            raise StepError(f"new primary {source_id} not found in {self.direction.to_region}: "
                            f"{self.identifier} is left as it is")

    def verify(self, ctx: StepContext) -> None:
        current = describe(ctx, self.region, self.identifier)
        if current is not None and source_of(current) != self.item.side(self.direction.to):
            raise VerifyFailed(f"{self.identifier} still exists in {self.region}")


@register
class CreateReplica(DatabaseStep):
    name = "rds.create-replica"
    action = "create-replica"
    acts_in = "from"
    typical_seconds = 900.0
    timeout_seconds = 7200.0
    recovery_path = False
    follow_up = ("run `dr reprotect` when {from_region} and {to_region} both answer, to make a "
                 "failback possible")
    iam_actions = ("rds:DescribeDBInstances", "rds:CreateDBInstanceReadReplica",
                   "rds:AddTagsToResource", "rds:ListTagsForResource")
    summary = ("Create a cross-region read replica of the new primary in the old region, "
               "under the original identifier, with the retired instance's class, subnet "
               "group, KMS key and (unfenced) security groups; wait until it is available.")
    why = ("After the old primary is retired. It restores protection: with it, a failback "
           "is an ordinary failover in the other direction.")
    manual = Manual(
        procedure="""```bash
INFO=$(aws rds describe-db-instances --region {region} \\
  --filters Name=db-instance-id,Values={identifier} \\
  --query 'DBInstances[0].[DBInstanceIdentifier,ReadReplicaSourceDBInstanceIdentifier]' \\
  --output text)
read -r FOUND SOURCE <<<"$INFO"
if [[ "$SOURCE" == *":db:{replica}" ]]; then
  echo "{identifier} is a replica of {replica} already"
elif [ "$FOUND" != None ]; then
  echo "{identifier} exists and is no replica of {replica}: retire it first" >&2; false
else
  # The new primary, and the retired old primary: the replica takes its class, subnet
  # group, KMS key and original security groups (its fence tag), where it has them.
  INFO=$(aws rds describe-db-instances --region {to_region} --db-instance-identifier {replica} \\
    --query 'DBInstances[0].[DBInstanceArn,DBInstanceClass,StorageEncrypted]' --output text)
  read -r SOURCE_ARN CLASS ENCRYPTED <<<"$INFO"
  SUBNET_GROUP=None KMS_KEY=None ORIGINAL_SGS=None
  RETIRED=$(aws rds describe-db-instances --region {region} --output text --query \\
    "sort(DBInstances[?starts_with(DBInstanceIdentifier, '{identifier}-retired-')] \\
      .DBInstanceIdentifier) | [-1]")
  if [ "$RETIRED" != None ]; then
    INFO=$(aws rds describe-db-instances --region {region} --db-instance-identifier "$RETIRED" \\
      --query 'DBInstances[0].[DBInstanceArn,DBInstanceClass,DBSubnetGroup.DBSubnetGroupName,
        KmsKeyId]' --output text)
    read -r RETIRED_ARN CLASS SUBNET_GROUP KMS_KEY <<<"$INFO"
    ORIGINAL_SGS=$(aws rds list-tags-for-resource --region {region} \\
      --resource-name "$RETIRED_ARN" --output text \\
      --query "TagList[?Key=='dr:fenced-from-security-groups'] | [0].Value")
  fi
  ARGS=(--db-instance-class "$CLASS")
  [ "$SUBNET_GROUP" = None ] || ARGS+=(--db-subnet-group-name "$SUBNET_GROUP")
  [ "$KMS_KEY" = None ] || ARGS+=(--kms-key-id "$KMS_KEY")
  [ "$ORIGINAL_SGS" = None ] || ARGS+=(--vpc-security-group-ids ${{ORIGINAL_SGS//,/ }})
  if [ "$ENCRYPTED" = True ] && [ "$KMS_KEY" = None ]; then
    echo "{replica} is encrypted: add --kms-key-id KEY (a KMS key in {region}) to ARGS" >&2
    false
  else
    aws rds create-db-instance-read-replica --region {region} \\
      --db-instance-identifier {identifier} --source-db-instance-identifier "$SOURCE_ARN" \\
      "${{ARGS[@]}}" --tags '[{{"Key":"dr:created-by","Value":"dr reprotect"}}]' \\
      --query DBInstance.DBInstanceStatus --output text
  fi
fi
aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
```""",
        verify="""```bash
INFO=$(aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].[DBInstanceStatus,ReadReplicaSourceDBInstanceIdentifier]' \\
  --output text)
case "$INFO" in
  available*":db:{replica}") echo "ok: {identifier} is an available replica of {replica}" ;;
  *) echo "NOT YET: {identifier} is $INFO: wait, then verify again" >&2; false ;;
esac
```""",
        undo="""```bash
aws rds delete-db-instance --region {region} --db-instance-identifier {identifier} \\
  --skip-final-snapshot --query DBInstance.DBInstanceStatus --output text
# DBInstanceNotFound: it is deleted already
```""")

    def plan(self) -> str:
        return (f"create {self.identifier} in {self.region} as a read replica of "
                f"{self.item.side(self.direction.to)} ({self.direction.to_region})")

    def apply(self, ctx: StepContext) -> None:
        source_id = self.item.side(self.direction.to)
        current = describe(ctx, self.region, self.identifier)
        pending_retire = None
        if ctx.dry_run and current is not None and source_of(current) != source_id:
            # A dry run's retire step only intended its rename: plan as if it had happened.
            pending_retire, current = current, None
        if current is not None:
            if source_of(current) != source_id:
                raise StepError(f"{self.identifier} exists in {self.region} and is not a "
                                f"replica of {source_id}")
            ctx.note(already_done=True)
        else:
            source = describe(ctx, self.direction.to_region, source_id)
            if source is None:
                raise StepError(f"new primary {source_id} not found in {self.direction.to_region}")
            retired = pending_retire or newest_retired(ctx, self.region, self.identifier)
            params = self._replica_params(source, retired)
            if retired:
                params.update(self._unfenced_groups(ctx, retired))
            ctx.aws.client("rds", self.region).create_db_instance_read_replica(**params)
        ctx.wait(f"replica {self.identifier} available", lambda: self._ready(ctx, source_id))

    def _replica_params(self, source: dict[str, Any], retired: dict[str, Any] | None
                        ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "DBInstanceIdentifier": self.identifier,
            "SourceDBInstanceIdentifier": source["DBInstanceArn"],
            "DBInstanceClass": source["DBInstanceClass"],
            "Tags": [{"Key": ORIGIN_TAG, "Value": "dr reprotect"}],
        }
        if retired:
            params["DBInstanceClass"] = retired["DBInstanceClass"]
            if (retired.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"):
                params["DBSubnetGroupName"] = retired["DBSubnetGroup"]["DBSubnetGroupName"]
            if retired.get("KmsKeyId"):
                params["KmsKeyId"] = retired["KmsKeyId"]
        if source.get("StorageEncrypted") and "KmsKeyId" not in params:
            raise StepError(f"{source['DBInstanceIdentifier']} is encrypted: a KMS key in "
                            f"{self.region} is needed (the retired instance had none)")
        return params

    def _unfenced_groups(self, ctx: StepContext, retired: dict[str, Any]) -> dict[str, Any]:
        groups = fenced_from(ctx.aws, self.region, retired)
        return {"VpcSecurityGroupIds": groups} if groups else {}

    def _ready(self, ctx: StepContext, source_id: str) -> bool:
        current = describe(ctx, self.region, self.identifier)
        return bool(current and current["DBInstanceStatus"] == "available"
                    and source_of(current) == source_id)

    def verify(self, ctx: StepContext) -> None:
        if not self._ready(ctx, self.item.side(self.direction.to)):
            raise VerifyFailed(f"{self.identifier} is not an available replica")
