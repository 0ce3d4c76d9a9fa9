"""The three stacks applied onto moto: what the emulator tests share (one apply per run).

The stacks carry no emulator settings: the `workdir` fixture (conftest.py) copies
terraform/ to a temporary directory and writes `emulator_override.tf` files there that
point every AWS provider (and the S3 backend) at an in-process moto server on 127.0.0.1.
The copy also holds the environments, so a test can change `dr-state.tfvars` as an
operator would without touching the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import boto3
import terraform_cli as tfcli
import yaml

HERE = Path(__file__).resolve().parent
ACCOUNT_ID = "123456789012"  # what moto's STS answers
PRIMARY_REGION = "us-east-1"
SECONDARY_REGION = "us-west-2"
ENVIRONMENT = "dev"
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
    "primary": (None, "secondary", "global", "arc"),
    "secondary": (None,),
}
STACK_REGION = {"primary": PRIMARY_REGION, "secondary": SECONDARY_REGION}


def provider_override(endpoint: str, aliases: tuple[str | None, ...]) -> str:
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


def backend_override(endpoint: str) -> str:
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


def write_overrides(workdir: Path, stack: str, endpoint: str,
                    providers_via: str | None = None) -> None:
    """Point `stack` of the copy at `endpoint` (the emulator); with `providers_via`, its AWS
    providers go through that proxy instead (the backend stays: changing it needs an init)."""
    override = provider_override(providers_via or endpoint, PROVIDER_ALIASES[stack])
    if stack != "bootstrap":
        override += "\n" + backend_override(endpoint)
    (workdir / stack / "emulator_override.tf").write_text(override)


def boto(service: str, region: str, endpoint: str):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def env_dir(workdir: Path) -> Path:
    return workdir / "environments" / ENVIRONMENT


def var_files(workdir: Path, stack: str) -> list[str]:
    """The dev tfvars of the copy (with its dr-state.tfvars for the regional stacks), then
    the emulator's exclusions."""
    files = [f"-var-file={env_dir(workdir) / f'{stack}.tfvars'}"]
    if stack != "bootstrap":
        files.append(f"-var-file={env_dir(workdir) / 'dr-state.tfvars'}")
    emulator_vars = HERE / "emulator" / f"{stack}.tfvars"
    if emulator_vars.exists():
        files.append(f"-var-file={emulator_vars}")
    return files


def terraform(workdir: Path, stack: str, command: str, env: dict[str, str], *args: str):
    """`terraform plan|apply` of `stack` in the copy with its var files."""
    extra = ["-auto-approve"] if command == "apply" else []
    return tfcli.run(
        [command, *extra, "-no-color", "-input=false", *var_files(workdir, stack), *args],
        workdir / stack,
        env,
    )


def render_dr_yaml(outputs: dict[str, dict], health_url: str, path: Path) -> dict:
    """`dr config render` of the two stacks' outputs, written to `path`. The only
    substitution: the health URLs, as no app runs behind the emulated ALBs."""
    sources = {}
    for stack in ("primary", "secondary"):
        sources[stack] = path.parent / f"{stack}-outputs.json"
        sources[stack].write_text(json.dumps(outputs[stack]))
    render = subprocess.run(
        ["dr", "config", "render", "--primary", str(sources["primary"]),
         "--secondary", str(sources["secondary"])],
        capture_output=True,
        text=True,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        timeout=120,
    )
    assert render.returncode == 0, render.stdout + render.stderr
    config = yaml.safe_load(render.stdout)
    for check in config["health"]:
        check["primary"] = f"{health_url}/health/{PRIMARY_REGION}"
        check["secondary"] = f"{health_url}/health/{SECONDARY_REGION}"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return config


def dr_env(endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": PRIMARY_REGION,
    }
