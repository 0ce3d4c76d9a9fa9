from pathlib import Path

import click

from dr.cli.options import common, load_config


@click.command("docs")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runbooks"),
              show_default=True, help="Directory the documents are written to.")
@common
@click.pass_obj
def command(obj: dict, out: Path, config_path: str | None, report_dir, log_format: str | None
            ) -> int:
    """Write the runbook documents (and the IAM policy) generated from the step definitions.

    With --config, the AWS CLI commands carry that environment's values. Without it they
    carry <PLACEHOLDER>s: ./dr.yaml and $DR_CONFIG are not read, so the checked-in copy is
    the same wherever it is generated.
    """
    from dr import docs

    config = load_config(config_path, log_format, obj["debug"]) if config_path else None
    for path in docs.write(out, config):
        click.echo(str(path))
    return 0
