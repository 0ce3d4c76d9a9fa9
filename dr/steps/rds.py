"""RDS: fence the old primary, promote the cross-region replica, and (reprotect) retire the
fenced old primary and re-create a replica of the new primary in its place."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from dr.aws.gateway import StepAws
from dr.config.model import Database
from dr.errors import StepError, VerifyFailed
from dr.runbook.context import StepContext
from dr.runbook.steptype import Manual, Problem, StepType, register

FENCE_GROUP = "dr-fence"
FENCE_TAG = "dr:fenced-from-security-groups"
ORIGIN_TAG = "dr:created-by"
LAG_WINDOW = timedelta(minutes=5)


def describe(ctx: StepContext, region: str, identifier: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        found = ctx.aws.client("rds", region).describe_db_instances(
            DBInstanceIdentifier=identifier)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "DBInstanceNotFound":
            return None
        raise
    return found["DBInstances"][0]


def fenced_from(aws: StepAws, region: str, instance: dict[str, Any]) -> str | None:
    """The security groups a fenced instance had (its fence tag), or None if not fenced."""
    tags = aws.client("rds", region).list_tags_for_resource(
        ResourceName=instance["DBInstanceArn"])["TagList"]
    return next((t["Value"] for t in tags if t["Key"] == FENCE_TAG), None)


def unfence(aws: StepAws, region: str, instance: dict[str, Any]) -> list[str] | None:
    """Give a fenced instance back the security groups its fence tag names; the groups, or
    None when it was not fenced."""
    original = fenced_from(aws, region, instance)
    if original is None:
        return None
    groups = [g for g in original.split(",") if g]
    rds = aws.client("rds", region)
    rds.modify_db_instance(DBInstanceIdentifier=instance["DBInstanceIdentifier"],
                           VpcSecurityGroupIds=groups, ApplyImmediately=True)
    rds.remove_tags_from_resource(ResourceName=instance["DBInstanceArn"], TagKeys=[FENCE_TAG])
    return groups


def source_of(instance: dict[str, Any]) -> str | None:
    """The replica's source identifier (cross-region sources are given as ARNs)."""
    source = instance.get("ReadReplicaSourceDBInstanceIdentifier")
    return source.rsplit(":", 1)[-1] if source else None


class DatabaseStep(StepType):
    reads = "databases"
    item: Database

    @property
    def key(self) -> str:
        return self.item.name

    @property
    def identifier(self) -> str:
        """The instance this step acts on: the database's side in the step's region."""
        role = self.direction.to if self.acts_in == "to" else self.direction.from_
        return self.item.side(role)

    def manual_values(self) -> dict[str, Any]:
        return {**super().manual_values(), "identifier": self.identifier,
                "replica": self.item.side(self.direction.to),
                "old_primary": self.item.side(self.direction.from_)}


@register
class FencePrimary(DatabaseStep):
    name = "rds.fence-primary"
    action = "fence"
    acts_in = "from"
    best_effort = True
    typical_seconds = 15.0
    timeout_seconds = 120.0
    iam_actions = ("rds:DescribeDBInstances", "rds:ModifyDBInstance", "rds:AddTagsToResource",
                   "rds:ListTagsForResource", "rds:RemoveTagsFromResource",
                   "ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup",
                   "ec2:RevokeSecurityGroupEgress", "ec2:DescribeVpcs", "ec2:CreateTags")
    summary = ("Fence the old primary: replace its VPC security groups with a deny-all fence "
               "group, keeping the original groups in a tag so the fence can be undone.")
    why = ("Before the replica is promoted, so that no client can write to both sides "
           "(split brain). Best effort: when the old region does not answer it is skipped "
           "and left on the follow-up list; it is fenced by then by the outage itself.")
    follow_up = ("fence {old_primary} in {from_region} when the region answers again "
                 "(see the manual procedure of rds.fence-primary)")
    manual = Manual(
        procedure="""```bash
aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].[DBInstanceArn,DBSubnetGroup.VpcId,VpcSecurityGroups]'
aws ec2 create-security-group --region {region} --vpc-id <VPC_ID> --group-name dr-fence \\
  --description 'dr fence: no ingress, no egress'
aws ec2 revoke-security-group-egress --region {region} --group-id <FENCE_SG> \\
  --ip-permissions '[{{"IpProtocol":"-1","IpRanges":[{{"CidrIp":"0.0.0.0/0"}}]}}]'
aws rds add-tags-to-resource --region {region} --resource-name <DB_ARN> \\
  --tags Key=dr:fenced-from-security-groups,Value=<SG1>,<SG2>
aws rds modify-db-instance --region {region} --db-instance-identifier {identifier} \\
  --vpc-security-group-ids <FENCE_SG> --apply-immediately
```
Security-group changes stop new connections; a session opened before the fence can live on
until it closes, so also stop the application's writers in {region}, or reboot the instance
(`aws rds reboot-db-instance`) once it is `available` again.""",
        verify="""```bash
aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].VpcSecurityGroups[].VpcSecurityGroupId'   # only <FENCE_SG>
```""",
        undo="""```bash
aws rds modify-db-instance --region {region} --db-instance-identifier {identifier} \\
  --vpc-security-group-ids <SG1> <SG2> --apply-immediately   # from the tag
aws rds remove-tags-from-resource --region {region} --resource-name <DB_ARN> \\
  --tag-keys dr:fenced-from-security-groups
```""")

    def plan(self) -> str:
        return (f"fence {self.identifier} in {self.region}: security groups -> {FENCE_GROUP} "
                "(deny all), originals kept in a tag")

    def check(self, ctx: StepContext) -> list[Problem]:
        """Never blocks. Looking at the old primary during readiness finds out, side by side
        with the other checks, whether its region answers: when it does not, the fence is
        skipped at once instead of waiting for the region's timeout on the critical path."""
        instance = describe(ctx, self.region, self.identifier)
        ctx.note(old_primary_status=instance["DBInstanceStatus"] if instance else "not found")
        return []

    # Databases in one VPC share the fence group: their fence steps run side by side, so the
    # create is done by one at a time (no CreateSecurityGroup sent twice). Looking it up needs
    # no lock, so once the group exists the fences of a large estate do not queue here.
    _group_lock = threading.Lock()

    def _fence_group(self, ctx: StepContext, vpc_id: str) -> str:
        group = self._existing_group(ctx, vpc_id)
        if group:
            return group
        with FencePrimary._group_lock:
            return self._existing_group(ctx, vpc_id) or self._create_group(ctx, vpc_id)

    def _existing_group(self, ctx: StepContext, vpc_id: str) -> str | None:
        found = ctx.aws.client("ec2", self.region).describe_security_groups(Filters=[
            {"Name": "group-name", "Values": [FENCE_GROUP]},
            {"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
        return str(found[0]["GroupId"]) if found else None

    def _create_group(self, ctx: StepContext, vpc_id: str) -> str:
        from botocore.exceptions import ClientError

        ec2 = ctx.aws.client("ec2", self.region)
        try:
            created = ec2.create_security_group(
                GroupName=FENCE_GROUP, VpcId=vpc_id,
                Description="dr fence: no ingress, no egress",
                TagSpecifications=[{"ResourceType": "security-group",
                                    "Tags": [{"Key": ORIGIN_TAG, "Value": "dr"}]}])
        except ClientError as exc:
            # Databases in one VPC are fenced in parallel: another step made it first.
            if exc.response["Error"]["Code"] != "InvalidGroup.Duplicate":
                raise
            return self._existing_group(ctx, vpc_id) or FENCE_GROUP
        group_id = created.get("GroupId", f"<{FENCE_GROUP} in {vpc_id}>")
        ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        return str(group_id)

    def _vpc(self, ctx: StepContext, instance: dict[str, Any]) -> str:
        vpc = (instance.get("DBSubnetGroup") or {}).get("VpcId")
        if vpc:
            return str(vpc)
        default = ctx.aws.client("ec2", self.region).describe_vpcs(
            Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not default:
            raise StepError(f"{self.identifier}: no VPC found to create the fence group in")
        return str(default[0]["VpcId"])

    def apply(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is None:
            ctx.note(already_done=True, summary=f"{self.identifier} not found: nothing to fence")
            return
        if source_of(instance):
            ctx.note(already_done=True, summary=f"{self.identifier} is a read replica: "
                     "it takes no writes")
            return
        groups = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
        fence = self._fence_group(ctx, self._vpc(ctx, instance))
        if groups == [fence]:
            ctx.note(already_done=True, fence_group=fence)
            return
        rds = ctx.aws.client("rds", self.region)
        if fenced_from(ctx.aws, self.region, instance) is None:
            rds.add_tags_to_resource(ResourceName=instance["DBInstanceArn"],
                                     Tags=[{"Key": FENCE_TAG, "Value": ",".join(groups)}])
        rds.modify_db_instance(DBInstanceIdentifier=self.identifier,
                               VpcSecurityGroupIds=[fence], ApplyImmediately=True)
        ctx.note(fence_group=fence, original_groups=groups)

    def verify(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is None or source_of(instance):
            return
        groups = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
        if groups != [ctx.detail.get("fence_group")]:
            raise VerifyFailed(f"{self.identifier} still has security groups {groups}")

    def rollback(self, ctx: StepContext) -> None:
        instance = describe(ctx, self.region, self.identifier)
        if instance is not None:
            unfence(ctx.aws, self.region, instance)


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
aws cloudwatch get-metric-statistics --region {region} --namespace AWS/RDS \\
  --metric-name ReplicaLag --dimensions Name=DBInstanceIdentifier,Value={identifier} \\
  --start-time <NOW-5MIN> --end-time <NOW> --period 60 --statistics Maximum
aws rds promote-read-replica --region {region} --db-instance-identifier {identifier} \\
  --backup-retention-period <CURRENT_RETENTION>
aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
```""",
        verify="""```bash
aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].[DBInstanceStatus,ReadReplicaSourceDBInstanceIdentifier]'
# expect: "available", null
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
        target = ctx.config.targets.rpo_seconds
        if lag is not None and lag > target:
            problems.append(Problem(resource, f"replica lag {lag:.3g} s is above the RPO target "
                                              f"{target:g} s", data_loss=True))
        return problems

    def _retired(self, ctx: StepContext) -> str | None:
        """The newest instance dr retired from this one (`<id>-retired-...`), if any."""
        prefix = retired_identifier(self.identifier, ctx.run.run_id).rsplit("-retired-", 1)[0] \
            + "-retired-"
        retired = sorted(i["DBInstanceIdentifier"] for i in ctx.aws.client("rds", self.region)
                         .paginate("describe_db_instances", "DBInstances")
                         if i["DBInstanceIdentifier"].startswith(prefix))
        return retired[-1] if retired else None

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
        if source_of(instance) is None:
            # Already writable; a fenced former primary (accepted at readiness) also gets its
            # security groups back, or the application could not reach it.
            restored = unfence(ctx.aws, self.region, instance)
            ctx.note(**({"unfenced_to": restored} if restored else {"already_done": True}))
        else:
            params: dict[str, Any] = {"DBInstanceIdentifier": self.identifier}
            if instance.get("BackupRetentionPeriod"):
                params["BackupRetentionPeriod"] = instance["BackupRetentionPeriod"]
            ctx.aws.client("rds", self.region).promote_read_replica(**params)
        ctx.wait(f"{self.identifier} available and standalone", lambda: self._promoted(ctx))
        if not ctx.dry_run and self.item.heartbeat:
            ctx.note(newest_heartbeat=self._newest_heartbeat(ctx))

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

    def _newest_heartbeat(self, ctx: StepContext) -> str | None:
        from dr import heartbeat
        from dr.runbook.journal import iso

        hb = self.item.heartbeat
        assert hb is not None
        dsn = heartbeat.dsn_for(ctx.aws, hb, self.direction.to, self.region)
        # Rows written after the incident (by a writer now pointed here) must not hide the loss.
        return iso(heartbeat.newest(dsn, hb.table, before=ctx.run.incident_start))

    def verify(self, ctx: StepContext) -> None:
        if not self._promoted(ctx):
            raise VerifyFailed(f"{self.identifier} is not an available standalone instance")


def retired_identifier(identifier: str, run_id: str) -> str:
    """`<id>-retired-<run start><run suffix>`: unique per run, stable across its resume."""
    stamp, _, suffix = run_id.partition("Z-")
    suffix = "-retired-" + "".join(c for c in stamp if c.isdigit()) + suffix
    return identifier[:63 - len(suffix)].rstrip("-") + suffix


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
    summary = ("Rename the fenced old primary to `<id>-retired-<timestamp>` so its identifier "
               "is free for the new replica; it is kept (fenced) for forensics, not deleted.")
    why = ("First step of re-protection: the replica that makes a failback possible must "
           "carry the original identifier, which the old primary still holds.")
    manual = Manual(
        procedure="""```bash
aws rds modify-db-instance --region {region} --db-instance-identifier {identifier} \\
  --new-db-instance-identifier {identifier}-retired-<YYYYMMDDHHMM> --apply-immediately
aws rds wait db-instance-available --region {region} \\
  --db-instance-identifier {identifier}-retired-<YYYYMMDDHHMM>
```""",
        verify="""```bash
aws rds describe-db-instances --region {region} \\
  --db-instance-identifier {identifier}-retired-<YYYYMMDDHHMM>
aws rds describe-db-instances --region {region} --db-instance-identifier {identifier}
# the second must fail with DBInstanceNotFound (or show the new replica)
```""",
        undo="""```bash
aws rds modify-db-instance --region {region} \\
  --db-instance-identifier {identifier}-retired-<YYYYMMDDHHMM> \\
  --new-db-instance-identifier {identifier} --apply-immediately
```""")

    def plan(self) -> str:
        return f"rename the fenced old primary {self.identifier} in {self.region} to " \
               f"{self.identifier}-retired-<timestamp>"

    def apply(self, ctx: StepContext) -> None:
        retired = retired_identifier(self.identifier, ctx.run.run_id)
        ctx.note(retired_identifier=retired)
        current = describe(ctx, self.region, self.identifier)
        if current is not None and source_of(current) == self.item.side(self.direction.to):
            ctx.note(already_done=True, summary=f"{self.identifier} is already a replica")
            return
        if current is None:
            ctx.note(already_done=describe(ctx, self.region, retired) is not None)
        else:
            self._require_new_primary(ctx)
            ctx.aws.client("rds", self.region).modify_db_instance(
                DBInstanceIdentifier=self.identifier, NewDBInstanceIdentifier=retired,
                ApplyImmediately=True)
        ctx.wait(f"{self.identifier} renamed to {retired}",
                 lambda: describe(ctx, self.region, self.identifier) is None)

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
aws rds create-db-instance-read-replica --region {region} \\
  --db-instance-identifier {identifier} \\
  --source-db-instance-identifier arn:aws:rds:{to_region}:<ACCOUNT>:db:{replica} \\
  --db-instance-class <CLASS> --db-subnet-group-name <SUBNET_GROUP> \\
  --kms-key-id <KMS_KEY_IN_{region}> --vpc-security-group-ids <ORIGINAL_SGS>
aws rds wait db-instance-available --region {region} --db-instance-identifier {identifier}
```""",
        verify="""```bash
aws rds describe-db-instances --region {region} --db-instance-identifier {identifier} \\
  --query 'DBInstances[0].[DBInstanceStatus,ReadReplicaSourceDBInstanceIdentifier]'
# expect: "available", the ARN of {replica}
```""",
        undo="""```bash
aws rds delete-db-instance --region {region} --db-instance-identifier {identifier} \\
  --skip-final-snapshot
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
            retired = pending_retire or describe(
                ctx, self.region, retired_identifier(self.identifier, ctx.run.run_id))
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
        return {"VpcSecurityGroupIds": groups.split(",")} if groups else {}

    def _ready(self, ctx: StepContext, source_id: str) -> bool:
        current = describe(ctx, self.region, self.identifier)
        return bool(current and current["DBInstanceStatus"] == "available"
                    and source_of(current) == source_id)

    def verify(self, ctx: StepContext) -> None:
        if not self._ready(ctx, self.item.side(self.direction.to)):
            raise VerifyFailed(f"{self.identifier} is not an available replica")
