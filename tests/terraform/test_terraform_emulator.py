"""Apply bootstrap, primary and secondary (dev sizes) onto moto, then prove a second plan is clean.

The apply is the session's (conftest.py, emulator_stacks.py): these tests read the estate as
it left it, and run before test_after_failover.py moves it.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import emulator_stacks as stacks
import pytest
import terraform_cli as tfcli

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.timeout(900),
    pytest.mark.needs("terraform"),
]

ACCOUNT_ID = stacks.ACCOUNT_ID
PRIMARY_REGION = stacks.PRIMARY_REGION
SECONDARY_REGION = stacks.SECONDARY_REGION
_boto = stacks.boto


def test_second_plan_has_no_changes(applied, aws_env):
    for stack in tfcli.ROOT_STACKS:
        result = stacks.terraform(applied["workdir"], stack, "plan", aws_env, "-detailed-exitcode")
        print(f"terraform plan {stack}: exit {result.returncode} in {result.seconds:.1f} s")
        assert result.returncode == 0, (
            f"{stack} plan is not clean (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )


def test_state_lives_in_each_regions_backend(applied, moto_endpoint):
    for stack, code, region in (
        ("primary", "use1", PRIMARY_REGION),
        ("secondary", "usw2", SECONDARY_REGION),
    ):
        s3 = _boto("s3", region, moto_endpoint)
        bucket = f"timeline-dev-tfstate-{code}-{ACCOUNT_ID}"
        head = s3.head_object(Bucket=bucket, Key=f"timeline/dev/{stack}.tfstate")
        assert head["ServerSideEncryption"] == "aws:kms"
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        table = _boto("dynamodb", region, moto_endpoint).describe_table(
            TableName="timeline-dev-locks"
        )
        assert table["Table"]["KeySchema"][0]["AttributeName"] == "LockID"


def test_replica_follows_the_primary_writer(applied, moto_endpoint):
    writer = _boto("rds", PRIMARY_REGION, moto_endpoint).describe_db_instances(
        DBInstanceIdentifier="timeline-dev-main"
    )["DBInstances"][0]
    replica = _boto("rds", SECONDARY_REGION, moto_endpoint).describe_db_instances(
        DBInstanceIdentifier="timeline-dev-main-dr"
    )["DBInstances"][0]
    assert writer["StorageEncrypted"] and writer["BackupRetentionPeriod"] == 30
    assert replica["StorageEncrypted"]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == writer["DBInstanceArn"]
    assert replica["KmsKeyId"] != writer["KmsKeyId"]


def test_dns_has_failover_and_dr_records(applied, moto_endpoint):
    zone_id = applied["outputs"]["primary"]["zone_id"]["value"]
    records = _boto("route53", PRIMARY_REGION, moto_endpoint).list_resource_record_sets(
        HostedZoneId=zone_id
    )
    by_name = {}
    for r in records["ResourceRecordSets"]:
        by_name.setdefault(r["Name"], []).append(r)
    zone = "dev.timeline.example.com."
    assert sorted(r["Failover"] for r in by_name[f"api.{zone}"]) == ["PRIMARY", "SECONDARY"]
    assert (
        by_name[f"app.{zone}"][0]["ResourceRecords"][0]["Value"]
        == "api.use1.dev.timeline.example.com"
    )
    assert f"api.use1.{zone}" in by_name and f"api.usw2.{zone}" in by_name


def test_services_run_in_both_regions_at_their_counts(applied, moto_endpoint):
    for region, count in ((PRIMARY_REGION, 2), (SECONDARY_REGION, 1)):
        svc = _boto("ecs", region, moto_endpoint).describe_services(
            cluster="timeline-dev", services=["api"]
        )
        assert svc["services"][0]["desiredCount"] == count


def test_dr_inventory_in_outputs_and_ssm(applied, moto_endpoint):
    for stack, region in (("primary", PRIMARY_REGION), ("secondary", SECONDARY_REGION)):
        inventory = applied["outputs"][stack]["dr_inventory"]["value"]
        assert inventory["role"] == stack and inventory["region"] == region
        ssm = _boto("ssm", region, moto_endpoint)
        stored = ssm.get_parameter(Name=f"/timeline/dev/dr/inventory/{stack}")
        assert json.loads(stored["Parameter"]["Value"]) == inventory
        db_host = ssm.get_parameter(Name="/timeline/dev/db_host")
        assert db_host["Parameter"]["Value"] == inventory["parameters"][0]["value"]
    # The standby region alone holds both sides.
    copy = _boto("ssm", SECONDARY_REGION, moto_endpoint).get_parameter(
        Name="/timeline/dev/dr/inventory/primary"
    )
    primary_inventory = applied["outputs"]["primary"]["dr_inventory"]["value"]
    assert json.loads(copy["Parameter"]["Value"]) == primary_inventory


def test_rendered_config_passes_dr_plan(applied, moto_endpoint, health_endpoint, tmp_path):
    """Issue 4, acceptance 4: dr.yaml rendered from the two stacks' outputs is ready."""
    config_path = tmp_path / "dr.yaml"
    config = stacks.render_dr_yaml(applied["outputs"], health_endpoint, config_path)
    assert config["regions"] == {"primary": PRIMARY_REGION, "secondary": SECONDARY_REGION}
    assert config["databases"] == [
        {"name": "main", "primary": "timeline-dev-main", "secondary": "timeline-dev-main-dr"}
    ]
    # Issue 19: the shared journal and the runner, each side's in its own region's network.
    assert config["journal"] == {"dynamodb_table": "timeline-dev-dr-journal"}
    runner = config["runner"]
    assert (runner["cluster"], runner["task_definition"], runner["container"]) == (
        "timeline-dev", "timeline-dev-dr-gameday", "dr")
    for role, region in (("primary", PRIMARY_REGION), ("secondary", SECONDARY_REGION)):
        ec2 = _boto("ec2", region, moto_endpoint)
        subnets = ec2.describe_subnets(SubnetIds=runner["subnets"][role])["Subnets"]
        assert subnets and all(not s["MapPublicIpOnLaunch"] for s in subnets)
        ec2.describe_security_groups(GroupIds=runner["security_groups"][role])
    # Records mode (dev): no routing controls; no Global Datastore on the emulator.
    assert "routing_control_cluster" not in config and config["caches"] == []
    plan = subprocess.run(
        [
            "dr",
            "plan",
            "--to",
            "secondary",
            "--config",
            str(config_path),
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        env=stacks.dr_env(moto_endpoint),
        timeout=300,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_journal_tables_in_both_regions(applied, moto_endpoint):
    """Issue 19: dr's shared journal has a table of one name in each region, keyed as dr
    writes it (run, seq), encrypted and recoverable."""
    for region in (PRIMARY_REGION, SECONDARY_REGION):
        dynamodb = _boto("dynamodb", region, moto_endpoint)
        table = dynamodb.describe_table(TableName="timeline-dev-dr-journal")["Table"]
        assert {(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]} == {
            ("run", "HASH"), ("seq", "RANGE")}
        assert {(a["AttributeName"], a["AttributeType"]) for a in table[
            "AttributeDefinitions"]} == {("run", "S"), ("seq", "N")}
        assert table["SSEDescription"]["SSEType"] == "KMS"
        backups = dynamodb.describe_continuous_backups(TableName="timeline-dev-dr-journal")
        assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"] == "ENABLED"


def test_assets_and_backups_replicate_to_the_standby_region(applied, moto_endpoint):
    """Issue 18: the primary's assets (CloudFront's failover origin) and backups are copied
    into buckets in the standby region, under that region's keys, deletes included."""
    s3 = _boto("s3", PRIMARY_REGION, moto_endpoint)
    for purpose in ("assets", "backups"):
        source = f"timeline-dev-{purpose}-use1-{ACCOUNT_ID}"
        copy = f"timeline-dev-{purpose}-copy-usw2-{ACCOUNT_ID}"
        [rule] = s3.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{copy}"
        assert ":us-west-2:" in rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]
        assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
        assert s3.get_bucket_location(Bucket=copy)["LocationConstraint"] == SECONDARY_REGION
        assert s3.get_bucket_versioning(Bucket=copy)["Status"] == "Enabled"


def test_runner_task_runs_the_command_dr_remote_gives(applied, moto_endpoint,
                                                       health_endpoint, tmp_path):
    """Issue 19: each region's runner task, as the stacks applied it, takes the command
    override `dr failover --remote` sends (dr/remote.py) through RunTask, and its container
    runs exactly that `dr`. moto starts no container, so the test plays it: the task
    definition's entry point with the override's command, the definition's environment,
    and the rendered dr.yaml as DR_CONFIG_YAML (the stacks were given a placeholder: the
    real one is rendered from their outputs). What it cannot show is in
    docs/emulator-notes.md (Fargate starting the image, the task role's permissions)."""
    from dr.remote import task_command
    from dr.runbook.run import new_run_id

    config = stacks.render_dr_yaml(applied["outputs"], health_endpoint, tmp_path / "dr.yaml")
    runner = config["runner"]
    for role, region in (("secondary", SECONDARY_REGION), ("primary", PRIMARY_REGION)):
        run_id = new_run_id(datetime.now(UTC))
        # The failover to the standby, as a dry run (the estate must not move here); the
        # primary's runner is asked to list the runs (any command goes).
        command = (task_command("secondary", run_id, ["--dry-run"]) if role == "secondary"
                   else ["runs", "--json"])
        ecs = _boto("ecs", region, moto_endpoint)
        started = ecs.run_task(
            cluster=runner["cluster"], taskDefinition=runner["task_definition"],
            launchType="FARGATE", count=1, startedBy="dr-remote",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": runner["subnets"][role],
                "securityGroups": runner["security_groups"][role],
                "assignPublicIp": "DISABLED"}},
            overrides={"containerOverrides": [{"name": runner["container"],
                                               "command": command}]})
        assert started["failures"] == [] and len(started["tasks"]) == 1, started
        task = started["tasks"][0]
        definition = ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])[
            "taskDefinition"]["containerDefinitions"][0]
        [override] = task["overrides"]["containerOverrides"]
        assert override["command"] == command

        container = tmp_path / f"task-{role}"
        container.mkdir()
        environment = {e["name"]: e["value"] for e in definition["environment"]}
        assert environment["DR_CONFIG"] == "/work/dr.yaml"
        environment["DR_CONFIG"] = str(container / "dr.yaml")  # the task's /work volume
        environment["DR_CONFIG_YAML"] = (tmp_path / "dr.yaml").read_text()
        ran = subprocess.run(
            [*definition["entryPoint"], *override["command"]], cwd=container,
            env={**stacks.dr_env(moto_endpoint), **environment,
                 "DR_LOCK_DIR": str(container / "locks")},
            capture_output=True, text=True, timeout=300)
        ecs.stop_task(cluster=runner["cluster"], task=task["taskArn"], reason="played")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert (container / "dr.yaml").read_text() == environment["DR_CONFIG_YAML"]
        if role == "secondary":
            report = json.loads((container / ".dr" / "runs" / run_id / "report.json").read_text())
            assert report["run_id"] == run_id and report["dry_run"] is True
        else:
            assert isinstance(json.loads(ran.stdout), list)


def test_apply_durations_reported(applied):
    total = sum(applied["durations"].values())
    print(
        "apply durations: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in applied["durations"].items())
        + f", total {total:.1f} s"
    )
    assert total < 720
