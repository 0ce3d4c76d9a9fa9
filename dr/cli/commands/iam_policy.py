import json

import click

from dr.cli.options import common, load_config
from dr.iam import POLICY_RUNBOOKS


@click.command("iam-policy")
@click.option("--runbook", type=click.Choice(POLICY_RUNBOOKS), default=None,
              help="Only what this runbook needs (default: every runbook).")
@common
@click.pass_obj
def command(obj: dict, runbook: str | None, config_path: str | None, report_dir,
            log_format: str | None) -> int:
    """Print the least-privilege IAM policy (JSON) the runbook steps need.

    With --config, resources are narrowed to that environment's where the service allows
    it. Without it every resource is "*" (./dr.yaml and $DR_CONFIG are not read, as for
    `dr docs`), and each statement's Sid says why.
    """
    from dr import iam

    config = load_config(config_path, log_format, obj["debug"]) if config_path else None
    click.echo(json.dumps(iam.policy(config, runbook), indent=2))
    return 0
