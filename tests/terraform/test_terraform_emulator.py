"""Apply bootstrap, primary and secondary (dev sizes) onto moto, then prove a second plan is clean.

The stacks carry no emulator settings: this test copies terraform/ to a temporary
directory and writes `emulator_override.tf` files there that point every AWS
provider (and the S3 backend) at an in-process moto server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import boto3
import pytest
import terraform_cli as tfcli

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.timeout(900),
    pytest.mark.skipif(tfcli.terraform_binary() is None, reason="terraform not installed"),
]

HERE = Path(__file__).resolve().parent
ENV_DIR = tfcli.TERRAFORM_DIR / "environments" / "dev"
ACCOUNT_ID = "123456789012"  # what moto's STS answers
PRIMARY_REGION = "us-east-1"
SECONDARY_REGION = "us-west-2"
# Provider endpoint keys of every service the stacks use.
SERVICES = (
    "acm",
    "applicationautoscaling",
    "budgets",
    "cloudfront",
    "cloudwatch",
    "configservice",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "elasticache",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "rds",
    "route53",
    "s3",
    "scheduler",
    "secretsmanager",
    "sns",
    "ssm",
    "sts",
    "xray",
)
PROVIDER_ALIASES = {
    "bootstrap": ("primary", "secondary"),
    "primary": (None, "secondary", "global"),
    "secondary": (None,),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _provider_override(endpoint: str, aliases: tuple[str | None, ...]) -> str:
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in SERVICES)
    blocks = []
    for alias in aliases:
        alias_line = f'  alias = "{alias}"\n' if alias else ""
        blocks.append(
            f'provider "aws" {{\n{alias_line}'
            '  access_key                  = "test"\n'
            '  secret_key                  = "test"\n'
            "  skip_credentials_validation = true\n"
            "  skip_metadata_api_check     = true\n"
            "  s3_use_path_style           = true\n"
            # The SDK's default 25 retries would turn each of moto's 500s into
            # minutes of waiting; none at all fails the apply on a dropped
            # keep-alive connection to the server (seen once in three applies).
            "  max_retries                 = 3\n"
            f"  endpoints {{\n{endpoints}\n  }}\n}}\n"
        )
    return "\n".join(blocks)


def _backend_override(endpoint: str) -> str:
    # Replaces the stacks' partial backend "s3" {}; bucket, key, region, lock
    # table and KMS key still come from environments/dev/<stack>.s3.tfbackend.
    return (
        "terraform {\n"
        '  backend "s3" {\n'
        '    access_key                  = "test"\n'
        '    secret_key                  = "test"\n'
        "    skip_credentials_validation = true\n"
        "    skip_requesting_account_id  = true\n"
        "    skip_metadata_api_check     = true\n"
        "    use_path_style              = true\n"
        f'    endpoints = {{ s3 = "{endpoint}", dynamodb = "{endpoint}",\n'
        f'                  sts = "{endpoint}", iam = "{endpoint}" }}\n'
        "  }\n"
        "}\n"
    )


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto import settings
    from moto.server import ThreadedMotoServer

    from dr.lab.fidelity import terraform as fidelity_terraform

    fidelity_terraform.apply()
    # ACM issues a DNS-validated certificate once the records exist; moto's
    # stand-in for that is a delay, which here would only slow the apply.
    saved_wait = settings.ACM_VALIDATION_WAIT
    settings.ACM_VALIDATION_WAIT = 0
    # The stacks attach AWS managed policies (AWS_ConfigRole, the RDS enhanced
    # monitoring role), which moto only knows when asked to load them.
    saved_managed = os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        settings.ACM_VALIDATION_WAIT = saved_wait
        if saved_managed is None:
            os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        else:
            os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = saved_managed


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, moto_endpoint) -> Path:
    root = tmp_path_factory.mktemp("tf") / "terraform"
    shutil.copytree(
        tfcli.TERRAFORM_DIR,
        root,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
    )
    for stack, aliases in PROVIDER_ALIASES.items():
        override = _provider_override(moto_endpoint, aliases)
        if stack != "bootstrap":
            override += "\n" + _backend_override(moto_endpoint)
        (root / stack / "emulator_override.tf").write_text(override)
    return root


@pytest.fixture(scope="module")
def aws_env(moto_endpoint) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": PRIMARY_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _boto(service: str, region: str, endpoint: str):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _var_files(stack: str) -> list[str]:
    files = [f"-var-file={ENV_DIR / f'{stack}.tfvars'}"]
    emulator_vars = HERE / "emulator" / f"{stack}.tfvars"
    if emulator_vars.exists():
        files.append(f"-var-file={emulator_vars}")
    return files


@pytest.fixture(scope="module")
def applied(workdir, aws_env, moto_endpoint) -> dict[str, dict]:
    """Init and apply the three stacks in order; return their outputs and timings."""
    durations: dict[str, float] = {}
    outputs: dict[str, dict] = {}
    for stack in tfcli.ROOT_STACKS:
        cwd = workdir / stack
        backend = (
            [] if stack == "bootstrap" else [f"-backend-config={ENV_DIR / f'{stack}.s3.tfbackend'}"]
        )
        tfcli.check(tfcli.run(tfcli.init_args(*backend), cwd, aws_env), f"init {stack}")
        started = time.monotonic()
        tfcli.check(
            tfcli.run(
                ["apply", "-auto-approve", "-no-color", "-input=false", *_var_files(stack)],
                cwd,
                aws_env,
            ),
            f"apply {stack}",
        )
        durations[stack] = time.monotonic() - started
        print(f"terraform apply {stack}: {durations[stack]:.1f} s")
        out = tfcli.check(
            tfcli.run(["output", "-json", "-no-color"], cwd, aws_env), f"output {stack}"
        )
        outputs[stack] = json.loads(out.stdout)
    return {"durations": durations, "outputs": outputs, "workdir": workdir}


def test_second_plan_has_no_changes(applied, aws_env):
    for stack in tfcli.ROOT_STACKS:
        cwd = applied["workdir"] / stack
        result = tfcli.run(
            ["plan", "-detailed-exitcode", "-no-color", "-input=false", *_var_files(stack)],
            cwd,
            aws_env,
        )
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


@pytest.fixture
def health_endpoint():
    """Stands in for the regions' /health: the emulator has ALBs but no app behind them."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self.send_response(200 if self.path.startswith("/health") else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_rendered_config_passes_dr_plan(applied, moto_endpoint, health_endpoint, tmp_path):
    """Issue 4, acceptance 4: dr.yaml rendered from the two stacks' outputs is ready."""
    import subprocess

    import yaml

    paths = {}
    for stack in ("primary", "secondary"):
        paths[stack] = tmp_path / f"{stack}.json"
        paths[stack].write_text(json.dumps(applied["outputs"][stack]))
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": PRIMARY_REGION,
    }
    render = subprocess.run(
        [
            "dr",
            "config",
            "render",
            "--primary",
            str(paths["primary"]),
            "--secondary",
            str(paths["secondary"]),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert render.returncode == 0, render.stdout + render.stderr
    config = yaml.safe_load(render.stdout)
    assert config["regions"] == {"primary": PRIMARY_REGION, "secondary": SECONDARY_REGION}
    assert config["databases"] == [
        {"name": "main", "primary": "timeline-dev-main", "secondary": "timeline-dev-main-dr"}
    ]
    # The only substitution: the health URLs, whose app does not exist here.
    for check in config["health"]:
        check["primary"] = f"{health_endpoint}/health/{PRIMARY_REGION}"
        check["secondary"] = f"{health_endpoint}/health/{SECONDARY_REGION}"
    config_path = tmp_path / "dr.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
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
        env=env,
        timeout=300,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_apply_durations_reported(applied):
    total = sum(applied["durations"].values())
    print(
        "apply durations: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in applied["durations"].items())
        + f", total {total:.1f} s"
    )
    assert total < 720
